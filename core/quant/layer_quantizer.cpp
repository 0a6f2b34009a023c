#include "core/quant/layer_quantizer.h"

#include <algorithm>
#include <functional>
#include <map>

#include "core/model/checkpoint_names.h"
#include "core/quant/awq.h"
#include "core/quant/fake_quantize.h"
#include "core/quant/gptq.h"
#include "core/quant/quantize_observer.h"
#include "core/quant/smoothquant.h"
#include "core/util/feedback.h"

namespace qs {
namespace {

// Runs `weights` over `inputs` [n, T, hidden] in batches of layer_batch_size; `sink` (may be
// empty) gets each batch's output with its first sequence index. Callers that only observe the
// linears' inputs pass no sink, so no output beyond one batch is ever held.
void run_batches(const ModelConfig& config, LayerWeights& weights, const torch::Tensor& inputs,
                 const LayerContext& context, const LinearObserver& observer,
                 const std::function<void(std::int64_t, const torch::Tensor&)>& sink)
{
    torch::NoGradGuard no_grad;
    weights.set_observer(observer);
    const auto batch = layer_batch_size(inputs, config.intermediate_size);
    for (std::int64_t b = 0; b < inputs.size(0); b += batch) {
        auto out = decoder_layer_forward(config, weights, inputs.slice(0, b, b + batch), context);
        if (sink) sink(b, out);
    }
    weights.set_observer({});
}

// ||quantized - original||^2 / ||original||^2 in float32 (original may be a half-precision
// master weight; its values are exact in float32).
double relative_mse(const torch::Tensor& quantized, const torch::Tensor& original_weight)
{
    const auto original = original_weight.to(torch::kFloat32);
    const double denom = original.pow(2).sum().item<double>();
    if (!(denom > 0)) return 0.0;
    // One weight-sized temporary, squared in place (a 7B down_proj is 0.18 GiB in float32).
    auto diff = quantized - original;
    diff.mul_(diff);
    return diff.sum().item<double>() / denom;
}

// max |x| per input channel of every linear (SmoothQuant statistics).
std::map<std::string, torch::Tensor> capture_act_absmax(const ModelConfig& config,
                                                        LayerWeights& weights,
                                                        const torch::Tensor& inputs,
                                                        const LayerContext& context)
{
    std::map<std::string, torch::Tensor> absmax;
    run_batches(config, weights, inputs, context,
                [&](const std::string& module, const torch::Tensor& x) {
                    auto m = std::get<0>(x.reshape({-1, x.size(-1)}).abs().max(0));
                    auto& slot = absmax[module];
                    slot = slot.defined() ? torch::maximum(slot, m) : m;
                },
                {});
    return absmax;
}

// A linear's final quantized weight: into the layer, or (offload) to the host in float32 with
// the layer keeping the copy the forward would cast it to.
void store_quantized(LayerWeights& weights, const std::string& module, torch::Tensor q,
                     QuantizedWeightOffload* offload)
{
    const auto name = module + ".weight";
    if (!offload) {
        weights.set(name, std::move(q));
        return;
    }
    weights.set(name, q.to(offload->layer_dtype));
    offload->host[name] = q.to(torch::kCPU);
}

// Whether AWQ or SmoothQuant runs after a quantizing method (then RTN re-quantizes).
bool scales_after_quantizing(const Recipe& recipe)
{
    bool quantized = false;
    for (Method method : recipe.methods) {
        if (method == Method::Gptq || method == Method::Rtn) quantized = true;
        if (quantized && (method == Method::Awq || method == Method::SmoothQuant)) return true;
    }
    return false;
}

// Group of each of `cols` columns under contiguous groups of the format (c / group_size; one
// group per row unless the format has groups narrower than the row).
torch::Tensor contiguous_g_idx(std::int64_t cols, const QuantFormat& format)
{
    const std::int64_t size = format.granularity == Granularity::Group && format.group_size > 0
                                  ? std::min<std::int64_t>(format.group_size, cols)
                                  : cols;
    return torch::arange(cols, torch::kInt64).div(size, "floor").to(torch::kInt32);
}

void quantize_rtn(const Recipe& recipe, LayerWeights& weights,
                  const std::vector<std::string>& linears, LayerQuantReport& layer_report,
                  QuantizedWeightOffload* offload)
{
    // After AWQ the weights are quantized with AWQ's own pseudo-quantizer, as the reference does.
    const bool awq = recipe.uses(Method::Awq);
    const bool with_params = recipe.weights.kind == FormatKind::Int;
    for (const auto& module : linears) {
        // Quantization math is float32 (a half-precision master converts exactly).
        const auto w = weights.get(module + ".weight").to(torch::kFloat32);
        LinearQuantReport lr{module, "rtn", 0.0, 0.0, {}, {}, {}, {}};
        torch::Tensor q;
        if (with_params) {
            // Same weights as fake_quantize_weight / awq_fake_quantize, with their parameters.
            auto r = int_quantize_weight(w, recipe.weights, awq);
            q = r.weight;
            lr.scales = r.scales.cpu();
            lr.zeros = r.zeros.cpu();
            lr.g_idx = contiguous_g_idx(w.size(1), recipe.weights);
        } else {
            q = awq ? awq_fake_quantize(w, recipe.weights)
                    : fake_quantize_weight(w, recipe.weights);
        }
        lr.weight_relative_mse = relative_mse(q, w);
        layer_report.linears.push_back(lr);
        store_quantized(weights, module, std::move(q), offload);
    }
}

void quantize_gptq(const ModelConfig& config, const Recipe& recipe, LayerWeights& weights,
                   const torch::Tensor& inputs, const LayerContext& context,
                   LayerQuantReport& layer_report, Feedback* feedback,
                   const CachedHessians* cached_hessians, QuantizedWeightOffload* offload)
{
    GptqOptions options;
    options.format = recipe.weights;
    options.blocksize = recipe.gptq.blocksize;
    options.percdamp = recipe.gptq.percdamp;
    options.act_order = recipe.gptq.act_order;
    options.static_groups = recipe.gptq.static_groups;
    options.mx_micro_block = recipe.gptq.mx_micro_block;
    options.keep_losses = false;  // the report keeps the per-column errors only
    const auto stages = gptq_stages(config, recipe.gptq.true_sequential);
    for (std::size_t s = 0; s < stages.size(); ++s) {
        const auto& stage = stages[s];
        std::map<std::string, torch::Tensor> hessian_of;
        if (s == 0 && cached_hessians) {
            for (const auto& module : stage)
                if (auto it = cached_hessians->find(module); it != cached_hessians->end())
                    hessian_of[module] = it->second;
        }
        if (hessian_of.size() != stage.size())
            hessian_of = linear_hessians(config, weights, inputs, context, stage);
        for (const auto& module : stage) {
            report(feedback, 0.0, "gptq " + module);
            const auto w = weights.get(module + ".weight");
            // Moved in: this stage's map then no longer keeps H alive during the solve.
            GptqResult r = gptq_quantize(w, std::move(hessian_of.at(module)), options, feedback);
            LinearQuantReport lr{module,        "gptq",         relative_mse(r.weight, w),
                                 r.total_error, r.column_error, r.perm,
                                 r.g_idx,       r.hessian_diag};
            if (r.scales.defined()) {
                lr.scales = r.scales.cpu();
                lr.zeros = r.zeros.cpu();
                lr.g_idx = r.g_idx.cpu();
            }
            layer_report.linears.push_back(lr);
            store_quantized(weights, module, std::move(r.weight), offload);
        }
    }
}

// Every floating-point tensor of the layer in float32 (exact for half-precision masters).
void promote_to_float32(LayerWeights& weights)
{
    std::vector<std::string> names;
    for (const auto& [name, tensor] : weights.all())
        if (tensor.is_floating_point() && tensor.scalar_type() != torch::kFloat32)
            names.push_back(name);
    for (const auto& name : names)
        weights.set(name, weights.get(name).to(torch::kFloat32));
}

}  // namespace

std::int64_t layer_batch_size(const torch::Tensor& inputs, std::int64_t widest)
{
    constexpr std::int64_t kTokensPerBatch = 8192;
    constexpr std::int64_t kTemporaryElements = std::int64_t(1) << 25;
    const auto tokens =
        widest > 0 ? std::min(kTokensPerBatch, kTemporaryElements / widest) : kTokensPerBatch;
    return std::max<std::int64_t>(1, tokens / std::max<std::int64_t>(1, inputs.size(1)));
}

std::map<std::string, torch::Tensor> linear_hessians(const ModelConfig& config,
                                                     LayerWeights& weights,
                                                     const torch::Tensor& inputs,
                                                     const LayerContext& context,
                                                     const std::vector<std::string>& modules)
{
    std::map<std::string, HessianAccumulator> accumulators;
    for (const auto& module : modules)
        accumulators.emplace(
            module, HessianAccumulator(weights.get(module + ".weight").size(1), inputs.device()));
    run_batches(config, weights, inputs, context,
                [&](const std::string& module, const torch::Tensor& x) {
                    if (auto it = accumulators.find(module); it != accumulators.end())
                        it->second.add_batch(x);
                },
                {});
    std::map<std::string, torch::Tensor> hessians;
    for (const auto& [module, h] : accumulators)
        hessians[module] = h.hessian();
    return hessians;
}

std::vector<std::vector<std::string>> gptq_stages(const ModelConfig& config, bool true_sequential)
{
    if (config.arch == Architecture::Opt || !true_sequential) return {decoder_linear_names(config)};
    return {{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"},
            {"self_attn.o_proj"},
            {"mlp.gate_proj", "mlp.up_proj"},
            {"mlp.down_proj"}};
}

torch::Tensor run_layer(const ModelConfig& config, LayerWeights& weights,
                        const torch::Tensor& inputs, const LayerContext& context,
                        const LinearObserver& observer)
{
    // One output tensor filled batch by batch (not a list joined by cat, which held the
    // outputs twice: 2 x samples x T x hidden at the end of every calibration pass).
    torch::Tensor outputs;
    run_batches(config, weights, inputs, context, observer,
                [&](std::int64_t b, const torch::Tensor& out) {
                    if (!outputs.defined()) {
                        auto sizes = out.sizes().vec();
                        sizes[0] = inputs.size(0);
                        outputs = torch::empty(sizes, out.options());
                    }
                    outputs.slice(0, b, b + out.size(0)).copy_(out);
                });
    return outputs;
}

void run_layer_in_place(const ModelConfig& config, LayerWeights& weights, torch::Tensor& inputs,
                        const LayerContext& context)
{
    run_batches(config, weights, inputs, context, {},
                [&](std::int64_t b, const torch::Tensor& out) {
                    inputs.slice(0, b, b + out.size(0)).copy_(out);
                });
}

void install_activation_quantization(LayerWeights& weights, const QuantFormat& format)
{
    if (format.kind == FormatKind::None) {
        weights.set_input_transform({});
        return;
    }
    // Static ranges travel as "<module>.input_scale" tensors of the layer.
    const std::string suffix = ".input_scale";
    std::map<std::string, torch::Tensor> static_scales;
    for (const auto& [name, tensor] : weights.all()) {
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
            static_scales[name.substr(0, name.size() - suffix.size())] = tensor;
    }
    weights.set_input_transform(
        [format, static_scales](const std::string& module, const torch::Tensor& x) {
            auto it = static_scales.find(module);
            return fake_quantize_activation(
                x, format, it == static_scales.end() ? torch::Tensor() : it->second);
        });
}

void calibrate_static_activation_scales(const ModelConfig& config, const QuantFormat& format,
                                        LayerWeights& weights, const torch::Tensor& inputs,
                                        const LayerContext& context)
{
    // MinMax observer: absmax over every calibration token of each linear's input.
    std::map<std::string, torch::Tensor> absmax;
    run_batches(config, weights, inputs, context,
                [&](const std::string& module, const torch::Tensor& x) {
                    auto m = x.abs().max();
                    auto& slot = absmax[module];
                    slot = slot.defined() ? torch::maximum(slot, m) : m;
                },
                {});
    const double levels = format.kind == FormatKind::Int
                              ? double((1 << (format.bits - 1)) - 1)
                              : (format.fp8 == Fp8Variant::E4M3 ? 448.0 : 57344.0);
    for (const auto& [module, m] : absmax)
        weights.set(module + ".input_scale",
                    (m.clamp_min(1e-5) / levels).reshape({1}).to(torch::kFloat32));
}

LayerQuantReport quantize_layer(const ModelConfig& config, const Recipe& recipe, int layer_index,
                                LayerWeights& weights, const torch::Tensor& inputs,
                                const LayerContext& context, Feedback* feedback,
                                QuantizeObserver* observer, const CachedHessians* cached_hessians,
                                QuantizedWeightOffload* offload)
{
    torch::NoGradGuard no_grad;
    // Scaling methods rewrite every linear and norm of the layer: in float32, as the references
    // (a half-precision master would round each product).
    if (recipe.uses(Method::Awq) || recipe.uses(Method::SmoothQuant)) promote_to_float32(weights);
    if (scales_after_quantizing(recipe)) offload = nullptr;
    LayerQuantReport report_out;
    report_out.layer = layer_index;
    const auto linears = decoder_linear_names(config);
    bool quantized = false;
    bool scaled = false;  // a scaling method changed the weights: cached Hessians are stale
    for (Method method : recipe.methods) {
        if (method == Method::Awq || method == Method::SmoothQuant) scaled = true;
        report(feedback, 0.0, "layer " + std::to_string(layer_index) + ": " + method_name(method));
        switch (method) {
            case Method::SmoothQuant: {
                if (smoothquant_groups(config).empty())
                    report_out.notes.push_back("smoothquant skipped: post-LN model");
                smoothquant_apply(config, weights,
                                  capture_act_absmax(config, weights, inputs, context),
                                  recipe.smoothquant.alpha);
                if (observer && !quantized)
                    observer->after_transform(layer_index, "smoothquant", weights, inputs, context);
                break;
            }
            case Method::Awq:
                awq_apply(config, weights, inputs, context, recipe.weights, recipe.awq, feedback);
                if (observer && !quantized)
                    observer->after_transform(layer_index, "awq", weights, inputs, context);
                break;
            case Method::Gptq:
                quantize_gptq(config, recipe, weights, inputs, context, report_out, feedback,
                              scaled ? nullptr : cached_hessians, offload);
                quantized = true;
                break;
            case Method::Rtn:
                if (!recipe.uses(Method::Gptq)) {
                    quantize_rtn(recipe, weights, linears, report_out, offload);
                    quantized = true;
                }
                break;
        }
        if (quantized && (method == Method::Awq || method == Method::SmoothQuant)) {
            // Reversed order: the scaled weights left the grid; bring them back with RTN.
            report_out.notes.push_back(method_name(method) +
                                       " after quantization: re-quantized with RTN");
            report_out.linears.clear();
            quantize_rtn(recipe, weights, linears, report_out, offload);
        }
    }
    if (!quantized && recipe.weights.kind != FormatKind::None)
        quantize_rtn(recipe, weights, linears, report_out, offload);
    if (recipe.static_activations)
        calibrate_static_activation_scales(config, recipe.activations, weights, inputs, context);
    install_activation_quantization(weights, recipe.activations);
    return report_out;
}

}  // namespace qs
