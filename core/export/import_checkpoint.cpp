#include "core/export/import_checkpoint.h"

#include "core/export/export_mx.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/export/import_gguf.h"
#include "core/export/import_quantized_linear.h"
#include "core/export/import_tensor_writer.h"
#include "core/io/tensor_torch.h"
#include "core/model/model_info.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/feedback.h"
#include "core/util/partial_directory.h"

namespace fs = std::filesystem;

namespace qs {
namespace {

const char* const kKnownFormats =
    "QuantScope imports quant_method gptq, awq, compressed-tensors and quantscope-mx folders and "
    ".gguf files";

// Files next to the weights that an imported folder keeps (the tokenizer and generation
// defaults); quantize_config.json and quant_config.json are dropped with the quantization.
const char* const kCopiedFiles[] = {"tokenizer.json",
                                    "tokenizer_config.json",
                                    "special_tokens_map.json",
                                    "tokenizer.model",
                                    "vocab.json",
                                    "merges.txt",
                                    "added_tokens.json",
                                    "generation_config.json"};

bool is_gguf_file(const std::string& in)
{
    if (fs::is_directory(in)) return false;
    if (fs::path(in).extension() == ".gguf") return true;
    std::ifstream f(in, std::ios::binary);
    char magic[4] = {};
    return f.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

nlohmann::json read_json(const std::string& path)
{
    std::ifstream in(path);
    if (!in) fail_file(path, "cannot open");
    auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) fail_file(path, "not a JSON object");
    return j;
}

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

struct HfSource {
    std::string format;       // summary name
    std::string config_path;  // the file quantization settings came from
    nlohmann::json config;    // config.json
    nlohmann::json quant;     // the quantization settings as stored
    PackedScheme scheme;
};

template <typename T>
T get_or(const nlohmann::json& j, const std::string& path, const char* key, T fallback)
{
    if (!j.contains(key) || j[key].is_null()) return fallback;
    try {
        return j[key].get<T>();
    } catch (const nlohmann::json::exception&) {
        fail_file(path, std::string("quantization setting '") + key + "' has the wrong type");
    }
}

void read_gptq(HfSource& s)
{
    const auto& q = s.quant;
    s.scheme.kind = PackedScheme::Kind::Gptq;
    s.scheme.bits = get_or<int>(q, s.config_path, "bits", 4);
    s.scheme.group_size = get_or<std::int64_t>(q, s.config_path, "group_size", 128);
    s.scheme.desc_act = get_or<bool>(q, s.config_path, "desc_act", false);
    std::string format = get_or<std::string>(q, s.config_path, "checkpoint_format", "");
    if (format.empty()) format = get_or<std::string>(q, s.config_path, "format", "gptq");
    format = lower(format);
    if (format != "gptq" && format != "gptq_v2")
        fail_file(s.config_path,
                  "GPTQ checkpoint_format '" + format + "' is not supported (gptq or gptq_v2)");
    s.scheme.gptq_v2 = format == "gptq_v2";
    s.format = format;
}

void read_awq(HfSource& s)
{
    const auto& q = s.quant;
    s.scheme.kind = PackedScheme::Kind::Awq;
    s.scheme.bits =
        get_or<int>(q, s.config_path, "bits", get_or<int>(q, s.config_path, "w_bit", 4));
    s.scheme.group_size =
        get_or<std::int64_t>(q, s.config_path, "group_size",
                             get_or<std::int64_t>(q, s.config_path, "q_group_size", 128));
    const std::string version = lower(get_or<std::string>(q, s.config_path, "version", "gemm"));
    if (version != "gemm")
        fail_file(s.config_path, "AWQ version '" + version + "' is not supported (gemm)");
    if (!get_or<bool>(q, s.config_path, "zero_point", true))
        fail_file(s.config_path, "AWQ without zero points (zero_point false) is not supported");
    s.format = "awq";
}

void read_compressed_tensors(HfSource& s)
{
    const auto& q = s.quant;
    s.scheme.kind = PackedScheme::Kind::CompressedTensors;
    const std::string format = get_or<std::string>(q, s.config_path, "format", "");
    if (!q.contains("config_groups") || !q["config_groups"].is_object() ||
        q["config_groups"].empty())
        fail_file(s.config_path, "compressed-tensors quantization_config has no config_groups");
    bool first = true;
    for (const auto& [name, group] : q["config_groups"].items()) {
        const std::string group_format =
            get_or<std::string>(group, s.config_path, "format", format);
        const bool mxfp4 = group_format == "mxfp4-pack-quantized";
        if (group_format != "pack-quantized" && !mxfp4)
            fail_file(s.config_path, "compressed-tensors format '" + group_format +
                                         "' (config group " + name +
                                         ") is not supported (pack-quantized, "
                                         "mxfp4-pack-quantized)");
        if (!group.contains("weights") || !group["weights"].is_object())
            fail_file(s.config_path, "config group " + name + " has no weights scheme");
        const auto& w = group["weights"];
        const std::string type = get_or<std::string>(w, s.config_path, "type", "int");
        const int bits = get_or<int>(w, s.config_path, "num_bits", 4);
        const std::string strategy = get_or<std::string>(w, s.config_path, "strategy", "group");
        const std::int64_t group_size =
            strategy == "channel" ? -1 : get_or<std::int64_t>(w, s.config_path, "group_size", -1);
        if (mxfp4 ? (type != "float" || bits != 4 || group_size != 32) : type != "int")
            fail_file(s.config_path, "config group " + name + ": " + std::to_string(bits) +
                                         "-bit " + type + " weights in groups of " +
                                         std::to_string(group_size) + " do not match format '" +
                                         group_format + "'");
        if (!first &&
            (bits != s.scheme.bits || group_size != s.scheme.group_size || mxfp4 != s.scheme.mxfp4))
            fail_file(s.config_path,
                      "config groups with different formats, bits or group sizes "
                      "are not supported");
        s.scheme.bits = bits;
        s.scheme.group_size = group_size;
        s.scheme.mxfp4 = mxfp4;
        first = false;
    }
    s.format = "compressed-tensors";
}

HfSource read_hf_source(const std::string& dir)
{
    HfSource s;
    const std::string config_path = (fs::path(dir) / "config.json").string();
    if (!fs::is_directory(dir)) fail_file(dir, "neither a checkpoint folder nor a .gguf file");
    s.config = read_json(config_path);
    s.config_path = config_path;
    if (s.config.contains("quantization_config") && s.config["quantization_config"].is_object()) {
        s.quant = s.config["quantization_config"];
    } else {
        // Older AutoGPTQ folders keep the settings only in quantize_config.json.
        const std::string legacy = (fs::path(dir) / "quantize_config.json").string();
        if (!fs::exists(legacy))
            fail_file(config_path,
                      "no quantization_config: not a quantized checkpoint (a float "
                      "checkpoint opens directly)");
        s.quant = read_json(legacy);
        s.config_path = legacy;
        if (!s.quant.contains("quant_method")) s.quant["quant_method"] = "gptq";
    }
    const std::string method =
        lower(get_or<std::string>(s.quant, s.config_path, "quant_method", ""));
    if (method == "gptq")
        read_gptq(s);
    else if (method == "awq")
        read_awq(s);
    else if (method == "compressed-tensors")
        read_compressed_tensors(s);
    else
        fail_file(s.config_path, "unknown quant_method '" + method + "' (" + kKnownFormats + ")");
    return s;
}

// The packed module a tensor belongs to ("" when it is a plain tensor).
std::string packed_module_of(const std::string& name, PackedScheme::Kind kind)
{
    for (const auto& suffix : packed_suffixes(kind))
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
            return name.substr(0, name.size() - suffix.size());
    return "";
}

void copy_side_files(const std::string& from, const std::string& to, ImportSummary& summary)
{
    for (const char* file : kCopiedFiles) {
        const fs::path source = fs::path(from) / file;
        if (!fs::exists(source)) continue;
        std::error_code ec;
        fs::copy_file(source, fs::path(to) / file, ec);
        if (ec) fail_file(source.string(), "cannot copy: " + ec.message());
        const std::string name = file;
        if (name == "tokenizer.json" || name == "tokenizer.model" || name == "vocab.json")
            summary.has_tokenizer = true;
    }
}

void write_json(const std::string& path, const nlohmann::json& j)
{
    write_file_atomically(path, [&](std::ostream& out) { out << j.dump(2) << "\n"; });
}

const char* dtype_config_name(DType dtype)
{
    return dtype == DType::F16 ? "float16" : "float32";
}

ImportSummary import_hf(const std::string& in, const std::string& staging, DType dtype,
                        Feedback* feedback)
{
    HfSource source = read_hf_source(in);
    const auto store = TensorStore::open_dir(in);
    const std::string store_name =
        store->files().size() == 1 ? store->files().front() : store->location();
    const auto kind = source.scheme.kind;
    const std::string marker = packed_marker(kind);

    // Every tensor with a packing suffix must belong to a module that has the marker tensor.
    std::set<std::string> modules;
    const auto names = store->names();
    for (const auto& name : names) {
        const std::string module = packed_module_of(name, kind);
        if (!module.empty()) modules.insert(module);
    }
    for (const auto& module : modules)
        if (!store->contains(module + marker))
            fail_file(store_name, module + ": missing tensor '" + module + marker + "'");
    if (modules.empty())
        fail_file(store_name, "no packed " + source.format + " tensors (no '*" + marker +
                                  "'): the file does not match config.json's quantization_config");

    ImportSummary summary;
    summary.source_format = source.format;
    ImportTensorWriter writer(staging, dtype);
    std::size_t done = 0, ignored_g_idx = 0;
    for (const auto& name : names) {
        report(feedback, double(done++) / double(names.size()), "importing " + name);
        const std::string module = packed_module_of(name, kind);
        if (!module.empty()) {
            if (name != module + marker) continue;  // read together with the marker
            if (store->contains(module + ".weight"))
                fail_file(store_name, module + ": holds both packed tensors and a float weight");
            const DequantizedLinear linear =
                dequantize_packed_linear(*store, module, source.scheme);
            writer.add(module + ".weight", {linear.out_features, linear.in_features},
                       linear.weight);
            ++summary.dequantized_tensors;
            if (linear.g_idx_ignored) ++ignored_g_idx;
            continue;
        }
        const TensorInfo& info = store->info(name);
        if (dtype_is_float(info.dtype)) {
            writer.add(name, load_tensor(*store, name));
        } else {
            const TensorView view = store->view(name);
            writer.add_raw(name, info.dtype, info.shape,
                           std::vector<std::uint8_t>(view.data, view.data + view.size_bytes));
        }
        store->release(name);
    }
    summary.tensors = writer.finish();

    nlohmann::json config = source.config;
    config.erase("quantization_config");
    config["torch_dtype"] = dtype_config_name(dtype);
    nlohmann::json note = {{"path", fs::absolute(in).string()},
                           {"format", source.format},
                           {"bits", source.scheme.bits},
                           {"group_size", source.scheme.group_size}};
    if (kind == PackedScheme::Kind::Gptq) note["desc_act"] = source.scheme.desc_act;
    note["quantization_config"] = source.quant;
    config["quantscope_imported_from"] = note;
    write_json((fs::path(staging) / "config.json").string(), config);
    copy_side_files(in, staging, summary);
    summary.notes.push_back("dequantized " + std::to_string(summary.dequantized_tensors) + " " +
                            source.format + " linears (" + std::to_string(source.scheme.bits) +
                            " bits, group size " + std::to_string(source.scheme.group_size) +
                            ") to " + dtype_config_name(dtype));
    if (ignored_g_idx > 0)
        summary.notes.push_back(std::to_string(ignored_g_idx) +
                                " linears store an act-order g_idx but desc_act is false: their "
                                "groups follow desc_act (contiguous), as vLLM loads them");
    return summary;
}

bool is_native_mx(const std::string& in)
{
    const fs::path config = fs::path(in) / "config.json";
    if (!fs::is_directory(in) || !fs::exists(config)) return false;
    const auto j = read_json(config.string());
    return j.contains("quantization_config") && j["quantization_config"].is_object() &&
           j["quantization_config"].value("quant_method", "") == "quantscope-mx";
}

// QuantScope's own MX container (docs/mx-checkpoint.md): read_mx_checkpoint decodes it.
ImportSummary import_native_mx(const std::string& in, const std::string& staging, DType dtype,
                               Feedback* feedback)
{
    ImportSummary summary;
    summary.source_format = "mx";
    report(feedback, 0.0, "reading the MX checkpoint");
    const auto tensors = read_mx_checkpoint(in);
    ImportTensorWriter writer(staging, dtype);
    for (const auto& [name, values] : tensors)
        writer.add(name, values);
    summary.tensors = writer.finish();
    nlohmann::json config = read_json((fs::path(in) / "config.json").string());
    const nlohmann::json quant = config["quantization_config"];
    config.erase("quantization_config");
    config["torch_dtype"] = dtype_config_name(dtype);
    config["quantscope_imported_from"] = {
        {"path", fs::absolute(in).string()}, {"format", "mx"}, {"quantization_config", quant}};
    write_json((fs::path(staging) / "config.json").string(), config);
    copy_side_files(in, staging, summary);
    summary.notes.push_back(std::string("decoded the MX linears to ") + dtype_config_name(dtype));
    return summary;
}

void replace_all(std::string& text, const std::string& from, const std::string& to)
{
    if (from.empty()) return;
    for (std::size_t pos = text.find(from); pos != std::string::npos;
         pos = text.find(from, pos + to.size()))
        text.replace(pos, from.size(), to);
}

}  // namespace

std::string detect_import_format(const std::string& in)
{
    if (!fs::exists(in)) fail_file(in, "does not exist");
    if (is_gguf_file(in)) return "gguf";
    if (is_native_mx(in)) return "mx";
    const HfSource source = read_hf_source(in);
    return source.scheme.kind == PackedScheme::Kind::Gptq  ? "gptq"
           : source.scheme.kind == PackedScheme::Kind::Awq ? "awq"
                                                           : "compressed-tensors";
}

ImportSummary import_checkpoint(const std::string& in, const std::string& out_dir, bool force,
                                Feedback* feedback, DType dtype)
{
    if (!fs::exists(in)) fail_file(in, "does not exist");
    if (dtype != DType::F32 && dtype != DType::F16)
        fail_file(out_dir, "imported weights are written as float32 or float16");
    std::error_code ec;
    if (fs::exists(out_dir, ec) && !force)
        fail_file(out_dir, "already exists (use --force to replace it)");
    if (fs::weakly_canonical(in, ec) == fs::weakly_canonical(out_dir, ec))
        fail_file(out_dir, "is the checkpoint being imported");

    PartialDirectory staging(out_dir);
    ImportSummary summary = is_gguf_file(in) ? import_gguf(in, staging.path(), dtype, feedback)
                            : is_native_mx(in)
                                ? import_native_mx(in, staging.path(), dtype, feedback)
                                : import_hf(in, staging.path(), dtype, feedback);
    // The result must open as a float checkpoint (config, every tensor present, shapes as the
    // config says); a failure names the source instead of the staging folder.
    try {
        ModelInfo::load(staging.path());
    } catch (const QsError& e) {
        std::string message = e.what();
        replace_all(message, staging.path(), in);
        throw QsError(message + " (in the dequantized checkpoint)");
    }
    report(feedback, 1.0, "import finished");
    staging.commit(force);
    summary.out_dir = out_dir;
    return summary;
}

}  // namespace qs
