#include "core/study/sweep_grid.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "core/util/error.h"

namespace fs = std::filesystem;

namespace qs {
namespace {

std::string resolve(const std::string& path, const std::string& base_dir)
{
    if (path.empty() || fs::path(path).is_absolute()) return path;
    return (fs::path(base_dir) / path).lexically_normal().string();
}

std::vector<std::string> strings_of(const YAML::Node& node)
{
    std::vector<std::string> out;
    if (!node) return out;
    if (node.IsScalar()) return {node.as<std::string>()};
    for (const auto& item : node)
        out.push_back(item.as<std::string>());
    return out;
}

template <typename T>
std::vector<T> list_of(const YAML::Node& node, std::vector<T> fallback)
{
    if (!node) return fallback;
    std::vector<T> out;
    if (node.IsScalar()) return {node.as<T>()};
    for (const auto& item : node)
        out.push_back(item.as<T>());
    return out;
}

std::string emit(const YAML::Node& node)
{
    YAML::Emitter out;
    out << YAML::Flow << node;
    return out.c_str();
}

// Each entry of `methods`: "gptq", "awq,gptq" or [awq, gptq].
std::vector<std::vector<std::string>> method_lists(const YAML::Node& node)
{
    std::vector<std::vector<std::string>> out;
    if (!node) return {{"rtn"}};
    for (const auto& entry : node) {
        std::vector<std::string> methods;
        if (entry.IsSequence()) {
            for (const auto& m : entry)
                methods.push_back(m.as<std::string>());
        } else {
            std::stringstream ss(entry.as<std::string>());
            for (std::string m; std::getline(ss, m, ',');)
                if (!m.empty()) methods.push_back(m);
        }
        out.push_back(methods);
    }
    return out;
}

std::vector<std::string> weight_formats(const YAML::Node& root)
{
    std::vector<std::string> out = strings_of(root["weights"]);
    if (const auto& g = root["int"]) {
        for (int bits : list_of<int>(g["bits"], {4}))
            for (int group : list_of<int>(g["groups"], {128}))
                for (bool sym : list_of<bool>(g["symmetric"], {false}))
                    out.push_back("int" + std::to_string(bits) +
                                  (group > 0 ? "-g" + std::to_string(group) : "-channel") +
                                  (sym ? "-sym" : "-asym"));
    }
    if (const auto& m = root["mx"]) {
        for (const auto& element : list_of<std::string>(m["elements"], {"mxint4"}))
            for (int block : list_of<int>(m["blocks"], {32}))
                out.push_back(element + "-" + std::to_string(block));
    }
    for (const auto& variant : strings_of(root["fp8"]))
        out.push_back("fp8-" + variant);
    return out;
}

}  // namespace

SweepGrid SweepGrid::from_yaml(const std::string& text, const std::string& source,
                               const std::string& base_dir)
{
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        fail_file(source, std::string("not valid YAML: ") + e.what());
    }
    if (!root.IsMap()) fail_file(source, "a sweep grid is a YAML mapping");
    const std::set<std::string> allowed = {
        "name", "calibration", "evaluation", "reference",   "methods", "orders", "weights",
        "int",  "mx",          "fp8",        "activations", "gptq",    "awq",    "smoothquant"};
    for (const auto& kv : root)
        if (!allowed.count(kv.first.as<std::string>()))
            fail_file(source, "unknown key '" + kv.first.as<std::string>() + "' in the grid");

    SweepGrid grid;
    std::vector<std::vector<std::string>> methods;
    std::vector<std::string> orders, weights, activations;
    try {
        grid.name =
            root["name"] ? root["name"].as<std::string>() : fs::path(source).stem().string();
        if (const auto& c = root["calibration"]) {
            if (c["dataset"])
                grid.calibration.dataset = resolve(c["dataset"].as<std::string>(), base_dir);
            if (c["samples"]) grid.calibration.samples = c["samples"].as<std::int64_t>();
            if (c["seqlen"]) grid.calibration.seqlen = c["seqlen"].as<std::int64_t>();
            if (c["seed"]) grid.calibration.seed = c["seed"].as<std::uint64_t>();
        }
        if (const auto& e = root["evaluation"]) {
            if (e["seqlen"]) grid.eval_seqlen = e["seqlen"].as<std::int64_t>();
            if (e["limit"]) grid.eval_limit = e["limit"].as<std::int64_t>();
            for (const auto& spec : strings_of(e["datasets"])) {
                const auto eq = spec.find('=');
                grid.datasets.push_back(eq == std::string::npos
                                            ? resolve(spec, base_dir)
                                            : spec.substr(0, eq + 1) +
                                                  resolve(spec.substr(eq + 1), base_dir));
            }
        }
        if (root["reference"]) grid.reference = root["reference"].as<bool>();
        methods = method_lists(root["methods"]);
        orders = list_of<std::string>(root["orders"], {"listed"});
        weights = weight_formats(root);
        activations = list_of<std::string>(root["activations"], {"none"});
    } catch (const YAML::Exception& e) {
        fail_file(source, std::string("bad value: ") + e.what());
    }
    for (const auto& order : orders)
        if (order != "listed" && order != "reversed")
            fail_file(source, "orders are 'listed' and 'reversed', not '" + order + "'");
    if (weights.empty()) fail_file(source, "no weight format (weights:, int:, mx: or fp8:)");

    std::ostringstream shared;
    {
        YAML::Node c;
        if (!grid.calibration.dataset.empty()) c["dataset"] = grid.calibration.dataset;
        c["samples"] = grid.calibration.samples;
        c["seqlen"] = grid.calibration.seqlen;
        c["seed"] = grid.calibration.seed;
        shared << "calibration: " << emit(c) << "\n";
        for (const char* key : {"gptq", "awq", "smoothquant"})
            if (root[key]) shared << key << ": " << emit(root[key]) << "\n";
    }
    if (grid.reference)
        grid.recipes.push_back(
            Recipe::from_yaml("name: fp16\nweights: fp32\n" + shared.str(), source));
    std::set<std::string> seen;
    for (const auto& listed : methods) {
        for (const auto& order : orders) {
            if (order == "reversed" && listed.size() < 2) continue;
            auto list = listed;
            if (order == "reversed") std::reverse(list.begin(), list.end());
            std::string joined;
            for (const auto& m : list)
                joined += (joined.empty() ? "" : ", ") + m;
            for (const auto& w : weights) {
                for (const auto& a : activations) {
                    std::string yaml = "methods: [" + joined + "]\nweights: " + w + "\n";
                    if (a != "none") yaml += "activations: " + a + "\n";
                    try {
                        Recipe r = Recipe::from_yaml(yaml + shared.str(), source);
                        if (seen.insert(r.name).second) grid.recipes.push_back(std::move(r));
                    } catch (const QsError& e) {
                        grid.skipped.push_back("[" + joined + "] " + w + " " + a + ": " + e.what());
                    }
                }
            }
        }
    }
    return grid;
}

SweepGrid SweepGrid::load(const std::string& path)
{
    std::ifstream in(path);
    if (!in) fail_file(path, "cannot open sweep grid");
    std::stringstream text;
    text << in.rdbuf();
    return from_yaml(text.str(), path, fs::absolute(path).parent_path().string());
}

}  // namespace qs
