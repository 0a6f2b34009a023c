#include "core/quant/quantize_model.h"

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/io/safetensors_writer.h"
#include "core/model/layer_stream.h"
#include "core/quant/calibration.h"
#include "core/quant/calibration_cache.h"
#include "core/quant/int_quantizer.h"
#include "core/quant/quantize_observer.h"
#include "core/util/error.h"
#include "core/util/feedback.h"
#include "core/util/partial_directory.h"
#include "core/util/feedback_span.h"

namespace fs = std::filesystem;

namespace qs {
namespace {

// A layer's tensors written without copying them into the writer (a 7B layer is 0.75 GiB in
// float32): float32 CPU tensors are borrowed as they are, others converted once; `keep` holds
// what the writer points into until it has written.
void add_layer_tensor(SafetensorsWriter& writer, const std::string& name, const torch::Tensor& t,
                      std::vector<torch::Tensor>& keep)
{
    keep.push_back(t.to(torch::kCPU, torch::kFloat32).contiguous());
    writer.add_borrowed(name, DType::F32, keep.back().sizes().vec(), keep.back().data_ptr());
}

void copy_raw(SafetensorsWriter& writer, const TensorStore& store, const std::string& name)
{
    TensorView v = store.view(name);
    writer.add(name, v.info->dtype, v.info->shape,
               std::vector<std::uint8_t>(v.data, v.data + v.size_bytes));
}

void write_config(const CausalLM& model, const Recipe& recipe, const std::string& dir)
{
    std::ifstream in(model.directory() + "/config.json");
    nlohmann::json config = nlohmann::json::parse(in);
    config["torch_dtype"] = "float32";
    config["quantization_config"] = {
        {"quant_method", kFakeQuantMethod},
        {"weights", recipe.weights.name()},
        {"activations", recipe.activations.kind == FormatKind::None ? std::string("none")
                                                                    : recipe.activations.name()},
        {"recipe", recipe.to_yaml()}};
    std::ofstream(dir + "/config.json") << config.dump(2) << "\n";
}

void copy_side_files(const std::string& from, const std::string& to)
{
    for (const auto& entry : fs::directory_iterator(from)) {
        const auto name = entry.path().filename().string();
        if (!entry.is_regular_file() || name == "config.json" ||
            name.find(".safetensors") != std::string::npos ||
            name.find(".bin") != std::string::npos)
            continue;
        fs::copy_file(entry.path(), fs::path(to) / name, fs::copy_options::overwrite_existing);
    }
}

template <typename T>
void add_typed(SafetensorsWriter& writer, const std::string& name, const torch::Tensor& t,
               DType dtype, torch::ScalarType type)
{
    auto c = t.to(torch::kCPU, type).contiguous();
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(c.template data_ptr<T>());
    writer.add(name, dtype, c.sizes().vec(),
               std::vector<std::uint8_t>(bytes, bytes + c.numel() * sizeof(T)));
}

// The INT parameters of one quantized layer under the linears' weight names.
void add_quant_params(SafetensorsWriter& writer, const std::string& prefix,
                      const LayerQuantReport& report)
{
    for (const auto& linear : report.linears) {
        if (!linear.scales.defined()) continue;
        const std::string name = prefix + linear.module + ".weight";
        add_typed<float>(writer, name + ".scales", linear.scales, DType::F32, torch::kFloat32);
        add_typed<std::int32_t>(writer, name + ".zeros", linear.zeros, DType::I32, torch::kInt32);
        add_typed<std::int32_t>(writer, name + ".g_idx", linear.g_idx, DType::I32, torch::kInt32);
    }
}

LayerWeights deep_copy(const LayerWeights& weights)
{
    LayerWeights copy;
    for (const auto& [name, tensor] : weights.all())
        copy.set(name, tensor.clone());
    return copy;
}

}  // namespace

QuantizeResult quantize_model(const CausalLM& model, const Recipe& recipe,
                              const std::string& output_dir, const QuantizeOptions& options,
                              Feedback* feedback)
{
    torch::NoGradGuard no_grad;
    Fp16ScaleScope scale_scope(options.fp16_scales);
    const auto start = std::chrono::steady_clock::now();
    if (fs::exists(output_dir) && !options.force)
        fail_file(output_dir, "already exists (use --force to replace it)");
    const auto& config = model.config();
    const int layers = model.num_layers();
    const int first = std::max(0, recipe.first_layer);
    const int last = recipe.last_layer < 0 ? layers - 1 : std::min(layers - 1, recipe.last_layer);
    if (first > last)
        throw QsError("recipe layer range [" + std::to_string(recipe.first_layer) + ", " +
                      std::to_string(recipe.last_layer) + "] selects no layer");
    bool any_selected = false;
    for (int i = first; i <= last; ++i)
        any_selected = any_selected || recipe.quantizes_layer(i, layers);
    if (!any_selected)
        throw QsError("recipe keeps every layer of [" + std::to_string(first) + ", " +
                      std::to_string(last) + "] in full precision: nothing to quantize");

    QuantizeResult result;
    result.warnings = recipe.warnings();
    PartialDirectory partial(output_dir);

    CalibrationCache* cache =
        options.cache && recipe.needs_calibration() && options.cache->serves(recipe.calibration)
            ? options.cache
            : nullptr;
    QuantizeObserver* observer = options.observer;
    // Progress: the calibration data (generated text can take a while) gets the first tenth,
    // each layer an equal share of the rest; the steps' own reports land inside their share.
    const double calibration_share = recipe.needs_calibration() ? 0.1 : 0.0;
    auto layer_start = [&](int i) {
        return calibration_share + (1.0 - calibration_share) * double(i) / layers;
    };
    torch::Tensor inputs;
    if (recipe.needs_calibration()) {
        report(feedback, 0.0, "calibration data");
        FeedbackSpan calibration_feedback(feedback, 0.0, calibration_share, "calibration · ");
        if (cache) {
            inputs = cache->fp_inputs(0, calibration_feedback.get());
        } else {
            const CalibrationSettings settings =
                fit_calibration_to_context(recipe.calibration, config, result.warnings);
            auto windows = calibration_windows(model, settings, calibration_feedback.get());
            inputs = model.embed(windows.to(model.device()));
        }
    }
    auto context =
        make_layer_context(config, inputs.defined() ? inputs.size(1) : 1, model.device());
    const bool propagate_quantized = recipe.uses(Method::Gptq);
    bool inputs_are_fp = true;  // the layer's inputs are the full-precision model's

    nlohmann::json weight_map;
    std::size_t total_bytes = 0;
    SafetensorsWriter params;
    // The next layer loads while this one is quantized. Master weights hold the checkpoint's
    // exact values whatever the compute dtype: as stored (a half-precision checkpoint's layers
    // at half the size of float32; quantize_layer does its math in float32 and the quantized
    // linears come back float32), or float32 for an observer, whose statistics read them. The
    // forward over the calibration inputs (in the compute dtype) casts them to it, which gives
    // the same values either way. The written checkpoint is float32.
    LayerStream stream(model, 0, -1, observer ? LayerDtype::Float32 : LayerDtype::Stored);
    // Float32 quantized weights to the host as they are made (a GPU keeps the compute-dtype
    // copies the forward uses). Observers read the layer's float32 weights: not with one.
    const bool half_compute = model.compute_dtype() != torch::kFloat32;
    const bool offload_weights =
        !observer && half_compute && (!model.device().is_cpu() || options.force_offload);
    for (int i = 0; i < layers; ++i) {
        const std::string where = "layer " + std::to_string(i) + "/" + std::to_string(layers);
        report(feedback, layer_start(i), where);
        FeedbackSpan layer_feedback(feedback, layer_start(i), layer_start(i + 1), where + " · ");
        LayerWeights weights = stream.next();
        LayerWeights original = observer ? deep_copy(weights) : LayerWeights();
        // Full-precision layers pass through like layers outside the range: their outputs
        // (FP weights on whatever inputs arrive) feed the next layer.
        const bool selected = recipe.quantizes_layer(i, layers);
        // The next layer's inputs: full precision (from the cache when it has them) unless
        // GPTQ propagates the quantized layer's outputs.
        auto fp_next = [&]() {
            return cache && inputs_are_fp ? cache->fp_inputs(i + 1, layer_feedback.get())
                                          : run_layer(config, weights, inputs, context);
        };
        torch::Tensor next;
        QuantizedWeightOffload offload{model.compute_dtype(), {}};
        LayerQuantReport layer_report;
        layer_report.layer = i;
        if (selected) {
            if (inputs.defined() && !propagate_quantized) next = fp_next();
            const CachedHessians* hessians =
                cache && inputs_are_fp && recipe.uses(Method::Gptq)
                    ? &cache->fp_first_stage_hessians(i, recipe.gptq.true_sequential,
                                                      layer_feedback.get())
                    : nullptr;
            layer_report =
                quantize_layer(config, recipe, i, weights, inputs, context, layer_feedback.get(),
                               observer, hessians, offload_weights ? &offload : nullptr);
            result.offloaded_weights += static_cast<int>(offload.host.size());
            result.layers.push_back(layer_report);
            if (inputs.defined() && propagate_quantized) {
                // Without an observer (which reads this layer's inputs afterwards) and with
                // inputs of our own (the cache serves full-precision inputs, and keeps them),
                // the next inputs overwrite these: one calibration activation tensor, not two.
                const bool inputs_from_cache = cache && inputs_are_fp;
                if (!observer && !inputs_from_cache) {
                    run_layer_in_place(config, weights, inputs, context);
                    next = inputs;
                } else {
                    next = run_layer(config, weights, inputs, context);
                }
                inputs_are_fp = false;
            }
        } else if (inputs.defined()) {
            next = fp_next();
        }
        if (observer) observer->layer_done(i, original, weights, layer_report, inputs, context);
        inputs = next;

        SafetensorsWriter writer;
        const std::string prefix = checkpoint_names(config, model.store()).layer_prefix(i);
        if (options.write_quant_params && selected) add_quant_params(params, prefix, layer_report);
        std::vector<torch::Tensor> keep;
        for (const auto& [name, tensor] : weights.all()) {
            const auto host = offload.host.find(name);
            add_layer_tensor(writer, prefix + name,
                             host != offload.host.end() ? host->second : tensor, keep);
        }
        const std::string shard = "model-layer-" + std::to_string(i) + ".safetensors";
        writer.write(partial.path() + "/" + shard);
        total_bytes += fs::file_size(partial.path() + "/" + shard);
        for (const auto& [name, tensor] : weights.all())
            weight_map[prefix + name] = shard;
    }

    // Everything outside the decoder layers is copied as stored.
    SafetensorsWriter rest;
    const std::string layers_prefix = checkpoint_names(config, model.store()).layers;
    for (const auto& name : model.store().names()) {
        if (name.rfind(layers_prefix, 0) == 0) continue;
        copy_raw(rest, model.store(), name);
        weight_map[name] = "model-rest.safetensors";
    }
    rest.write(partial.path() + "/model-rest.safetensors");
    total_bytes += fs::file_size(partial.path() + "/model-rest.safetensors");
    std::map<std::string, std::string> map_copy;
    for (auto it = weight_map.begin(); it != weight_map.end(); ++it)
        map_copy[it.key()] = it.value();
    write_safetensors_index(partial.path(), map_copy, total_bytes);
    if (options.write_quant_params) params.write(partial.path() + "/" + kQuantParamsFile);
    write_config(model, recipe, partial.path());
    copy_side_files(model.directory(), partial.path());

    if (feedback) feedback->check_cancelled();
    partial.commit(/*replace=*/true);  // an existing target only gets here with options.force
    result.output_dir = output_dir;
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report(feedback, 1.0, "done");
    return result;
}

}  // namespace qs
