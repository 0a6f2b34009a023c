#include "core/quant/recipe.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "core/util/error.h"

namespace qs {
namespace {

Method method_from_name(const std::string& name, const std::string& source)
{
    if (name == "rtn") return Method::Rtn;
    if (name == "gptq") return Method::Gptq;
    if (name == "awq") return Method::Awq;
    if (name == "smoothquant" || name == "sq") return Method::SmoothQuant;
    fail_file(source, "unknown method '" + name + "' (use rtn, gptq, awq, smoothquant)");
}

void check_keys(const YAML::Node& node, const std::set<std::string>& allowed,
                const std::string& where, const std::string& source)
{
    for (const auto& kv : node) {
        const auto key = kv.first.as<std::string>();
        if (allowed.count(key)) continue;
        std::string known;
        for (const auto& k : allowed)
            known += (known.empty() ? "" : ", ") + k;
        fail_file(source, "unknown key '" + key + "' in " + where + " (known: " + known + ")");
    }
}

template <typename T>
void read(const YAML::Node& node, const char* key, T& value)
{
    if (node[key]) value = node[key].as<T>();
}

}  // namespace

std::string method_name(Method method)
{
    switch (method) {
        case Method::Rtn:
            return "rtn";
        case Method::Gptq:
            return "gptq";
        case Method::Awq:
            return "awq";
        case Method::SmoothQuant:
            return "smoothquant";
    }
    return "?";
}

bool Recipe::uses(Method method) const
{
    return std::find(methods.begin(), methods.end(), method) != methods.end();
}

bool Recipe::quantizes_layer(int layer, int num_layers) const
{
    const int first = std::max(0, first_layer);
    const int last = last_layer < 0 ? num_layers - 1 : std::min(num_layers - 1, last_layer);
    return layer >= first && layer <= last &&
           std::find(full_precision_layers.begin(), full_precision_layers.end(), layer) ==
               full_precision_layers.end();
}

std::string Recipe::default_name() const
{
    std::string out;
    for (std::size_t i = 0; i < methods.size(); ++i)
        out += (i ? "+" : "") + method_name(methods[i]);
    out += "-" + weights.name();
    if (activations.kind != FormatKind::None) out += "-a" + activations.name();
    if (first_layer != 0 || last_layer != -1)
        out += "-L" + std::to_string(first_layer) +
               (last_layer == first_layer ? "" : "-" + std::to_string(last_layer));
    for (std::size_t i = 0; i < full_precision_layers.size(); ++i)
        out += (i ? "," : "-fp") + std::to_string(full_precision_layers[i]);
    return out;
}

bool Recipe::needs_calibration() const
{
    return uses(Method::Gptq) || uses(Method::Awq) || uses(Method::SmoothQuant) ||
           static_activations;
}

std::vector<std::string> Recipe::warnings() const
{
    std::vector<std::string> out;
    auto gptq = std::find(methods.begin(), methods.end(), Method::Gptq);
    for (auto it = gptq; gptq != methods.end() && it != methods.end(); ++it) {
        if (*it == Method::Awq || *it == Method::SmoothQuant)
            out.push_back(
                "gptq runs before " + method_name(*it) +
                ": the reversed order is known to degrade accuracy (scaling should come first)");
    }
    if (uses(Method::Rtn) && uses(Method::Gptq))
        out.push_back("both rtn and gptq listed: gptq decides the weights");
    return out;
}

Recipe Recipe::from_yaml(const std::string& text, const std::string& source)
{
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        fail_file(source, std::string("not valid YAML: ") + e.what());
    }
    if (!root.IsMap()) fail_file(source, "a recipe is a YAML mapping");
    check_keys(root,
               {"name", "methods", "weights", "activations", "activation_ranges", "calibration",
                "gptq", "awq", "smoothquant", "layers", "full_precision_layers"},
               "the recipe", source);
    Recipe r;
    try {
        read(root, "name", r.name);
        if (root["methods"]) {
            const auto& methods = root["methods"];
            if (methods.IsScalar())
                r.methods.push_back(method_from_name(methods.as<std::string>(), source));
            else
                for (const auto& m : methods)
                    r.methods.push_back(method_from_name(m.as<std::string>(), source));
        }
        if (r.methods.empty()) r.methods.push_back(Method::Rtn);
        if (!root["weights"])
            fail_file(source, "missing key 'weights' (e.g. weights: int4-g128-asym)");
        r.weights = QuantFormat::parse(root["weights"].as<std::string>());
        if (root["activations"])
            r.activations = QuantFormat::parse(root["activations"].as<std::string>());
        if (root["activation_ranges"]) {
            const auto ranges = root["activation_ranges"].as<std::string>();
            if (ranges != "static" && ranges != "dynamic")
                fail_file(source,
                          "activation_ranges must be static or dynamic, not '" + ranges + "'");
            r.static_activations = ranges == "static";
        }
        if (const auto& c = root["calibration"]) {
            check_keys(c, {"dataset", "samples", "seqlen", "seed"}, "calibration", source);
            read(c, "dataset", r.calibration.dataset);
            read(c, "samples", r.calibration.samples);
            read(c, "seqlen", r.calibration.seqlen);
            read(c, "seed", r.calibration.seed);
        }
        if (const auto& g = root["gptq"]) {
            check_keys(g,
                       {"blocksize", "percdamp", "act_order", "static_groups", "true_sequential",
                        "mx_micro_block"},
                       "gptq", source);
            read(g, "blocksize", r.gptq.blocksize);
            read(g, "percdamp", r.gptq.percdamp);
            read(g, "act_order", r.gptq.act_order);
            read(g, "static_groups", r.gptq.static_groups);
            read(g, "true_sequential", r.gptq.true_sequential);
            read(g, "mx_micro_block", r.gptq.mx_micro_block);
        }
        if (const auto& a = root["awq"]) {
            check_keys(a, {"grid", "duo_scaling", "clip"}, "awq", source);
            read(a, "grid", r.awq.grid);
            read(a, "duo_scaling", r.awq.duo_scaling);
            read(a, "clip", r.awq.clip);
        }
        if (const auto& s = root["smoothquant"]) {
            check_keys(s, {"alpha"}, "smoothquant", source);
            read(s, "alpha", r.smoothquant.alpha);
        }
        if (const auto& l = root["layers"]) {
            if (!l.IsSequence() || l.size() != 2) fail_file(source, "layers must be [first, last]");
            r.first_layer = l[0].as<int>();
            r.last_layer = l[1].as<int>();
        }
        if (const auto& f = root["full_precision_layers"]) {
            if (!f.IsSequence())
                fail_file(source, "full_precision_layers must be a list of layer indices");
            for (const auto& layer : f)
                r.full_precision_layers.push_back(layer.as<int>());
        }
    } catch (const YAML::Exception& e) {
        fail_file(source, std::string("bad value: ") + e.what());
    } catch (const QsError& e) {
        const std::string message = e.what();
        if (message.rfind(source + ":", 0) == 0) throw;
        fail_file(source, message);
    }
    if (r.calibration.samples < 1 || r.calibration.seqlen < 2)
        fail_file(source, "calibration needs samples >= 1 and seqlen >= 2");
    if (r.smoothquant.alpha < 0 || r.smoothquant.alpha > 1)
        fail_file(source, "smoothquant alpha must be in [0, 1]");
    if (r.awq.grid < 1) fail_file(source, "awq grid must be >= 1");
    if (r.static_activations && r.activations.kind != FormatKind::Int &&
        r.activations.kind != FormatKind::Fp8)
        fail_file(source,
                  "static activation ranges need an INT or FP8 activation format (MX scales come "
                  "from the data)");
    if (r.weights.kind == FormatKind::None && (r.uses(Method::Gptq) || r.uses(Method::Awq)))
        fail_file(source, "gptq and awq need a quantized weight format");
    if (r.weights.kind == FormatKind::Int && r.weights.granularity == Granularity::Token)
        fail_file(source,
                  "per-token granularity is for activations; weights use channel, "
                  "group or tensor");
    if (r.uses(Method::Gptq) && r.weights.kind == FormatKind::Int &&
        r.weights.granularity == Granularity::Tensor)
        fail_file(source, "gptq needs per-channel or group INT weights, not per-tensor");
    if (r.uses(Method::Gptq) && r.weights.kind == FormatKind::Mx && r.gptq.act_order)
        fail_file(source,
                  "gptq act_order cannot be combined with MX weights: MX blocks are contiguous "
                  "in the original column order (use act_order: false)");
    if (r.uses(Method::Gptq) && r.weights.kind == FormatKind::Int && r.gptq.mx_micro_block > 1 &&
        r.weights.granularity != Granularity::Channel)
        fail_file(source,
                  "gptq micro-blocks (mx_micro_block) with INT weights need per-channel "
                  "granularity");
    if (r.first_layer < 0 || (r.last_layer >= 0 && r.last_layer < r.first_layer))
        fail_file(source, "layers [" + std::to_string(r.first_layer) + ", " +
                              std::to_string(r.last_layer) +
                              "] is not a range (first >= 0, last >= first or -1 for the end)");
    auto& fp = r.full_precision_layers;
    std::sort(fp.begin(), fp.end());
    if (!fp.empty() && fp.front() < 0)
        fail_file(source, "full_precision_layers must be non-negative layer indices");
    if (auto twice = std::adjacent_find(fp.begin(), fp.end()); twice != fp.end())
        fail_file(source, "full_precision_layers lists layer " + std::to_string(*twice) + " twice");
    for (int layer : fp)
        if (layer < r.first_layer || (r.last_layer >= 0 && layer > r.last_layer))
            fail_file(source, "full_precision_layers: layer " + std::to_string(layer) +
                                  " is outside layers [" + std::to_string(r.first_layer) + ", " +
                                  std::to_string(r.last_layer) + "]");
    if (r.name.empty()) r.name = r.default_name();
    return r;
}

Recipe Recipe::load(const std::string& path)
{
    std::ifstream in(path);
    if (!in) fail_file(path, "cannot open recipe");
    std::stringstream text;
    text << in.rdbuf();
    return from_yaml(text.str(), path);
}

std::string Recipe::to_yaml() const
{
    YAML::Emitter out;
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << name;
    out << YAML::Key << "methods" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (auto m : methods)
        out << method_name(m);
    out << YAML::EndSeq;
    out << YAML::Key << "weights" << YAML::Value << weights.name();
    if (activations.kind != FormatKind::None)
        out << YAML::Key << "activations" << YAML::Value << activations.name();
    if (static_activations) out << YAML::Key << "activation_ranges" << YAML::Value << "static";
    out << YAML::Key << "calibration" << YAML::Value << YAML::Flow << YAML::BeginMap;
    if (!calibration.dataset.empty())
        out << YAML::Key << "dataset" << YAML::Value << calibration.dataset;
    out << YAML::Key << "samples" << YAML::Value << calibration.samples << YAML::Key << "seqlen"
        << YAML::Value << calibration.seqlen << YAML::Key << "seed" << YAML::Value
        << calibration.seed << YAML::EndMap;
    out << YAML::Key << "gptq" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key
        << "blocksize" << YAML::Value << gptq.blocksize << YAML::Key << "percdamp" << YAML::Value
        << gptq.percdamp << YAML::Key << "act_order" << YAML::Value << gptq.act_order << YAML::Key
        << "static_groups" << YAML::Value << gptq.static_groups << YAML::Key << "true_sequential"
        << YAML::Value << gptq.true_sequential << YAML::Key << "mx_micro_block" << YAML::Value
        << gptq.mx_micro_block << YAML::EndMap;
    out << YAML::Key << "awq" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "grid"
        << YAML::Value << awq.grid << YAML::Key << "duo_scaling" << YAML::Value << awq.duo_scaling
        << YAML::Key << "clip" << YAML::Value << awq.clip << YAML::EndMap;
    out << YAML::Key << "smoothquant" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key
        << "alpha" << YAML::Value << smoothquant.alpha << YAML::EndMap;
    if (first_layer != 0 || last_layer != -1)
        out << YAML::Key << "layers" << YAML::Value << YAML::Flow << YAML::BeginSeq << first_layer
            << last_layer << YAML::EndSeq;
    if (!full_precision_layers.empty()) {
        out << YAML::Key << "full_precision_layers" << YAML::Value << YAML::Flow << YAML::BeginSeq;
        for (int layer : full_precision_layers)
            out << layer;
        out << YAML::EndSeq;
    }
    out << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

}  // namespace qs
