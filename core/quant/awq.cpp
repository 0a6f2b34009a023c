// AWQ on one decoder layer, in the order of llm-awq run_awq: capture every linear's input once
// from the full-precision layer, search and fold the scales group by group (dividing the cached
// inputs by the applied scales, as apply_scale does), then search and apply the clipping.
//
// Differences from the reference, none of which changes what is computed on small inputs:
// - The reference searches every group, then applies all scales; here each group is folded
//   right after its search. No group's search reads a weight or an input that an earlier group
//   changed (q,k,v / o / gate,up / down touch disjoint inspected weights), so the result is the
//   same and the report can be built as we go.
// - Linears reading one tensor (q, k, v; gate, up) share one cached input instead of copies.
// - Inputs larger than kMaxCachedValues floats keep an evenly spaced subset of whole sequences
//   for the loss and the clip search; mean |x| is still accumulated over every token.
// - The clip search uses settings.grid (the reference fixes 20 for both searches), skips formats
//   without a per-row range (per-tensor INT or FP8) and reports no clip for them.
// - INT's `mse` range search is not used: AWQ's pseudo-quantizer has none.
#include "core/quant/awq.h"

#include <algorithm>
#include <vector>

#include "core/quant/awq_search.h"
#include "core/quant/fake_quantize.h"
#include "core/quant/int_quantizer.h"
#include "core/quant/mx_quantizer.h"
#include "core/quant/smoothquant.h"
#include "core/util/error.h"
#include "core/util/feedback.h"

namespace qs {
namespace awq_detail {

std::vector<AwqGroup> awq_groups(const ModelConfig& config, const LayerWeights& weights)
{
    const std::vector<std::string> qkv = {"self_attn.q_proj", "self_attn.k_proj",
                                          "self_attn.v_proj"};
    if (config.arch == Architecture::Opt) {
        const bool pre_ln = config.do_layer_norm_before;
        std::vector<AwqGroup> groups;
        if (pre_ln) groups.push_back({"self_attn_layer_norm", true, qkv, Inspect::Attention});
        groups.push_back({"self_attn.v_proj", false, {"self_attn.out_proj"}, Inspect::FirstLinear});
        if (pre_ln) groups.push_back({"final_layer_norm", true, {"fc1"}, Inspect::FirstLinear});
        groups.push_back({"fc1", false, {"fc2"}, Inspect::FirstLinear});
        return groups;
    }
    std::vector<AwqGroup> groups = {{"input_layernorm", true, qkv, Inspect::Attention}};
    if (weights.get("self_attn.v_proj.weight").size(0) ==
        weights.get("self_attn.o_proj.weight").size(1))
        groups.push_back({"self_attn.v_proj", false, {"self_attn.o_proj"}, Inspect::FirstLinear});
    groups.push_back(
        {"post_attention_layernorm", true, {"mlp.gate_proj", "mlp.up_proj"}, Inspect::Mlp});
    groups.push_back({"mlp.up_proj", false, {"mlp.down_proj"}, Inspect::FirstLinear});
    return groups;
}

std::vector<std::string> awq_clip_linears(const ModelConfig& config)
{
    if (config.arch == Architecture::Opt)
        return {"self_attn.v_proj", "self_attn.out_proj", "fc1", "fc2"};
    return {"self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj",
            "mlp.down_proj"};
}

LayerWeights plain_copy(const LayerWeights& weights)
{
    LayerWeights copy;
    for (const auto& [name, tensor] : weights.all())
        copy.set(name, tensor);
    return copy;
}

}  // namespace awq_detail

namespace {

using namespace awq_detail;

constexpr std::int64_t kTokensPerBatch = 8192;
// Largest cached input per linear (floats, 512 MiB). Beyond it whole calibration sequences are
// subsampled evenly (the attention block needs whole sequences); mean |x| still covers all.
constexpr std::int64_t kMaxCachedValues = std::int64_t(1) << 27;

// Linears reading the same tensor share one cached input (q, k, v; gate, up).
std::string input_source(const std::string& module)
{
    if (module == "self_attn.k_proj" || module == "self_attn.v_proj") return "self_attn.q_proj";
    if (module == "mlp.up_proj") return "mlp.gate_proj";
    return module;
}

struct CapturedInputs {
    std::map<std::string, torch::Tensor> inputs;    // source module -> [n_kept, T, in]
    std::map<std::string, torch::Tensor> abs_mean;  // source module -> mean |x| [in], all tokens
};

// Runs the full-precision layer over the calibration inputs and keeps each linear's input
// (reference run_awq cache_input_hook).
CapturedInputs capture_inputs(const ModelConfig& config, const LayerWeights& weights,
                              const torch::Tensor& layer_inputs, const LayerContext& context,
                              const torch::Device& device)
{
    const auto n = layer_inputs.size(0), length = layer_inputs.size(1);
    std::map<std::string, std::vector<torch::Tensor>> kept;
    std::map<std::string, torch::Tensor> abs_sum;
    std::int64_t batch_start = 0;
    LayerWeights fp = plain_copy(weights);
    fp.set_observer([&](const std::string& module, const torch::Tensor& x) {
        if (input_source(module) != module) return;
        auto x32 = x.to(torch::kFloat32);
        auto sum = x32.abs().reshape({-1, x32.size(-1)}).sum(0, false, torch::kFloat64);
        auto& acc = abs_sum[module];
        acc = acc.defined() ? acc + sum : sum;
        const auto keep_count =
            std::clamp<std::int64_t>(kMaxCachedValues / (length * x.size(-1)), 1, n);
        std::vector<std::int64_t> rows;
        for (std::int64_t i = 0; i < keep_count; ++i) {
            const auto sample = i * n / keep_count;
            if (sample >= batch_start && sample < batch_start + x.size(0))
                rows.push_back(sample - batch_start);
        }
        if (!rows.empty())
            kept[module].push_back(
                x32.index_select(0, torch::tensor(rows, torch::kLong).to(x.device())));
    });
    const auto batch =
        std::max<std::int64_t>(1, kTokensPerBatch / std::max<std::int64_t>(1, length));
    for (batch_start = 0; batch_start < n; batch_start += batch)
        decoder_layer_forward(
            config, fp,
            layer_inputs.slice(0, batch_start, batch_start + batch).to(device, torch::kFloat32),
            context);
    CapturedInputs out;
    for (auto& [module, parts] : kept) {
        out.inputs[module] = torch::cat(parts, 0);
        out.abs_mean[module] = (abs_sum.at(module) / double(n * length)).to(torch::kFloat32);
    }
    return out;
}

void fold_scales(LayerWeights& weights, const AwqGroup& group, const torch::Tensor& s)
{
    if (group.previous_is_norm) {
        fold_scales_into_norm(weights, group.previous, group.linears, s);
        return;
    }
    // scale_fc_fc: the previous linear's output rows (and bias) /= s, the next one's columns *= s.
    weights.set(group.previous + ".weight",
                weights.get(group.previous + ".weight") / s.unsqueeze(1));
    if (auto bias = weights.get_optional(group.previous + ".bias"); bias.defined())
        weights.set(group.previous + ".bias", bias / s);
    for (const auto& linear : group.linears)
        weights.set(linear + ".weight", weights.get(linear + ".weight") * s.unsqueeze(0));
}

// Applies fn to the [rows * groups, g] view of x [rows, cols] per column group of g; a shorter
// last group is quantized on its own.
template <typename Fn>
torch::Tensor map_column_groups(const torch::Tensor& x, std::int64_t g, Fn&& fn)
{
    const auto rows = x.size(0), cols = x.size(1);
    if (g <= 0 || g >= cols) return fn(x);
    const auto full = cols / g * g;
    auto body = fn(x.narrow(1, 0, full).reshape({-1, g})).reshape({rows, full});
    if (full == cols) return body;
    return torch::cat({body, fn(x.narrow(1, full, cols - full))}, 1);
}

}  // namespace

torch::Tensor awq_fake_quantize(const torch::Tensor& w, const QuantFormat& format)
{
    if (format.kind == FormatKind::Mx)
        return mx_quantize_dequantize(w, format.element, format.block_size, format.rounding);
    if (format.kind != FormatKind::Int) return fake_quantize_weight(w, format);

    // pseudo_quantize_tensor per (row, group); format.mse is not used (the reference has none).
    const auto rows = w.to(torch::kFloat32).reshape({-1, w.size(-1)});
    auto quantize_rows = [&](const torch::Tensor& x) {
        return int_quantize_dequantize(x, awq_find_params(x, format.bits, format.symmetric));
    };
    torch::Tensor out;
    switch (format.granularity) {
        case Granularity::Tensor:
            out = quantize_rows(rows.reshape({1, -1}));
            break;
        case Granularity::Channel:
            out = quantize_rows(rows);
            break;
        case Granularity::Group:
            if (format.group_size <= 0)
                throw QsError("awq: " + format.name() + " needs a positive group size");
            out = map_column_groups(rows, format.group_size, quantize_rows);
            break;
        case Granularity::Token:
            throw QsError("awq: " + format.name() + " is per token, not a weight format");
    }
    return out.reshape(w.sizes()).to(w.scalar_type());
}

AwqLayerReport awq_apply(const ModelConfig& config, LayerWeights& weights,
                         const torch::Tensor& layer_inputs, const LayerContext& context,
                         const QuantFormat& format, const AwqSettings& settings, Feedback* feedback)
{
    torch::NoGradGuard no_grad;
    if (format.kind == FormatKind::None) throw QsError("awq needs a quantized weight format");
    if (settings.grid < 1) throw QsError("awq: grid must be >= 1");
    if (layer_inputs.dim() != 3) throw QsError("awq: layer inputs must be [samples, T, hidden]");

    const auto groups = awq_groups(config, weights);
    const auto clip_linears = settings.clip ? awq_clip_linears(config) : std::vector<std::string>{};
    const double steps = double(1 + groups.size() + clip_linears.size());
    double step = 0;

    report(feedback, 0.0, "awq: capturing linear inputs");
    const auto device = weights.get(groups.front().linears.front() + ".weight").device();
    CapturedInputs captured = capture_inputs(config, weights, layer_inputs, context, device);

    AwqLayerReport result;
    for (const auto& group : groups) {
        const auto& key = group.linears.front();
        report(feedback, ++step / steps, "awq: scale search " + key);
        const auto source = input_source(key);
        auto& x = captured.inputs.at(source);
        ScaleChoice choice = search_group_scale(
            config, weights, group, x, captured.abs_mean.at(source), context, format, settings);
        fold_scales(weights, group, choice.scales);
        x = x / choice.scales;  // apply_scale(input_feat_dict): the clip search sees scaled inputs
        result.best_ratio[key] = choice.ratio;
        result.scales[key] = choice.scales;
    }

    for (const auto& linear : clip_linears) {
        report(feedback, ++step / steps, "awq: clip search " + linear);
        const auto w = weights.get(linear + ".weight");
        const auto group = clip_group_size(format, w.size(1));
        if (group == 0) continue;
        const auto& x = captured.inputs.at(input_source(linear));
        auto max_val = search_clip(w, x.reshape({-1, x.size(-1)}), format, settings.grid);
        weights.set(linear + ".weight", apply_clip(w, max_val, group));
        result.clip_max[linear] = max_val;
    }
    report(feedback, 1.0, "awq: done");
    return result;
}

}  // namespace qs
