#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/cli_args.h"
#include "app/cli/cli_inputs.h"
#include "app/cli/commands.h"
#include "core/model/model_info.h"

namespace qs::cli {

int run_info(const std::vector<std::string>& argv)
{
    const std::vector<OptionSpec> specs = {
        {"model", true, "model folder: config.json + safetensors (required)", "DIR"},
        {"json", false, "print JSON (every decoder layer and linear) instead of text"},
        {"help", false, "show this help"}};
    Args args(argv, specs);
    if (args.has("help")) {
        std::cout << format_help(
            {{"quantscope-cli info --model DIR [--json]"},
             "Prints a model's architecture, layer count, linear shapes, parameter count and "
             "dtype, reading only config.json and the safetensors headers.",
             "",
             {"quantscope-cli info --model ../shared/models/stories260K/hf"}},
            specs);
        return 0;
    }
    const ModelInfo info = ModelInfo::load(model_dir_arg(args));
    const ModelConfig& c = info.config;
    if (args.has("json")) {
        nlohmann::json j;
        j["model"] = info.directory;
        j["model_type"] = c.model_type;
        j["architecture"] = c.arch == Architecture::Opt ? "opt" : "llama";
        j["hidden_size"] = c.hidden_size;
        j["intermediate_size"] = c.intermediate_size;
        j["layers"] = c.num_layers;
        j["heads"] = c.num_heads;
        j["kv_heads"] = c.num_kv_heads;
        j["head_dim"] = c.head_dim;
        j["vocab_size"] = c.vocab_size;
        j["parameters"] = info.total_parameters;
        j["stored_parameters"] = info.stored_parameters;
        j["dtype"] = info.dtype;
        j["file_bytes"] = info.file_bytes;
        nlohmann::json layers = nlohmann::json::array();
        for (const auto& layer : info.layers) {
            nlohmann::json linears = nlohmann::json::array();
            for (const auto& l : layer.linears)
                linears.push_back({{"name", l.name},
                                   {"tensor", l.weight_name},
                                   {"shape", {l.out_features, l.in_features}},
                                   {"bias", l.has_bias},
                                   {"dtype", l.dtype},
                                   {"parameters", l.parameters()}});
            layers.push_back(
                {{"index", layer.index}, {"parameters", layer.parameters}, {"linears", linears}});
        }
        j["decoder_layers"] = layers;
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::cout << "model:        " << info.directory << "\n"
              << "architecture: " << c.model_type << " ("
              << (c.arch == Architecture::Opt ? "OPT decoder" : "Llama-family decoder") << ")\n"
              << "layers:       " << c.num_layers << "\n"
              << "hidden:       " << c.hidden_size << ", intermediate " << c.intermediate_size
              << "\n"
              << "heads:        " << c.num_heads << " (kv " << c.num_kv_heads << ", head dim "
              << c.head_dim << ")\n"
              << "vocab:        " << c.vocab_size
              << (c.tie_word_embeddings ? " (tied embeddings)" : "") << "\n"
              << "parameters:   " << info.total_parameters;
    if (info.stored_parameters != info.total_parameters)
        std::cout << " (" << info.stored_parameters
                  << " stored: lm_head.weight is a copy of the tied embedding)";
    std::cout << "\n"
              << "dtype:        " << info.dtype << "\n"
              << "file size:    " << info.file_bytes << " bytes\n\n";
    if (!info.layers.empty()) {
        std::cout << "linear modules per decoder layer (weight [out x in]):\n";
        for (const auto& l : info.layers.front().linears)
            std::cout << "  " << std::left << std::setw(22) << l.name << std::right << std::setw(7)
                      << l.out_features << " x " << std::left << std::setw(7) << l.in_features
                      << std::right << std::setw(12) << l.parameters() << " params"
                      << (l.has_bias ? " (+bias)" : "") << "\n";
        std::cout << "parameters per decoder layer: " << info.layers.front().parameters << "\n";
    }
    return 0;
}

}  // namespace qs::cli
