// AWQ scale search (llm-awq auto_scale.py _search_module_scale; duo scaling as AutoAWQ
// _search_best_scale): for r = i / grid, s = x_mean^r (duo: x_mean^r / (w_mean^(1-r) + 1e-4)),
// clamped at 1e-4 and normalised by sqrt(max(s) min(s)); the group's linears become Q(W s) / s
// and the loss is the mean squared difference of the inspected block's output from its
// full-precision output; the first r with the smallest loss wins.
#include <cmath>
#include <limits>
#include <vector>

#include "core/quant/awq.h"
#include "core/quant/awq_search.h"
#include "core/util/error.h"

namespace qs::awq_detail {
namespace {

constexpr std::int64_t kTokensPerBatch = 8192;

torch::Tensor inspect_forward(const ModelConfig& config, const LayerWeights& weights,
                              const AwqGroup& group, const torch::Tensor& x,
                              const LayerContext& context)
{
    switch (group.inspect) {
        case Inspect::Attention:
            return config.arch == Architecture::Opt
                       ? opt_attention_block(config, weights, x)
                       : llama_attention_block(config, weights, x, context);
        case Inspect::Mlp:
            return llama_mlp_block(weights, x);
        case Inspect::FirstLinear:
            break;
    }
    return weights.apply_linear(group.linears.front(), x);
}

// AutoAWQ w_mean: |W| normalised by its (row, group) absmax (+1e-6), averaged over the rows of
// every linear of the group [in]. The group is the format's: INT group, whole row per channel,
// MX block.
torch::Tensor weight_mean(const LayerWeights& weights, const AwqGroup& group,
                          const QuantFormat& format)
{
    std::vector<torch::Tensor> ws;
    for (const auto& linear : group.linears)
        ws.push_back(weights.get(linear + ".weight"));
    auto w = torch::cat(ws, 0).abs();
    const auto rows = w.size(0), cols = w.size(1);
    std::int64_t g = cols;
    if (format.kind == FormatKind::Int && format.granularity == Granularity::Group)
        g = format.group_size;
    if (format.kind == FormatKind::Mx) g = format.block_size;
    g = std::min(g, cols);
    auto normalise = [](const torch::Tensor& a) {
        return a / (std::get<0>(a.max(1, true)) + 1e-6);
    };
    const auto full = cols / g * g;
    auto scaled = normalise(w.narrow(1, 0, full).reshape({-1, g})).reshape({rows, full});
    if (full < cols) scaled = torch::cat({scaled, normalise(w.narrow(1, full, cols - full))}, 1);
    return scaled.mean(0);
}

}  // namespace

ScaleChoice search_group_scale(const ModelConfig& config, const LayerWeights& weights,
                               const AwqGroup& group, const torch::Tensor& x,
                               const torch::Tensor& x_mean, const LayerContext& context,
                               const QuantFormat& format, const AwqSettings& settings)
{
    LayerWeights trial = plain_copy(weights);
    const auto batch =
        std::max<std::int64_t>(1, kTokensPerBatch / std::max<std::int64_t>(1, x.size(1)));
    std::vector<torch::Tensor> inputs, original;
    for (std::int64_t b = 0; b < x.size(0); b += batch) {
        inputs.push_back(x.slice(0, b, b + batch));
        original.push_back(inspect_forward(config, trial, group, inputs.back(), context));
    }
    const auto w_mean =
        settings.duo_scaling ? weight_mean(weights, group, format) : torch::Tensor();

    double best_error = std::numeric_limits<double>::infinity();
    ScaleChoice best;
    for (int i = 0; i < settings.grid; ++i) {
        const double ratio = double(i) / settings.grid;
        auto s = settings.duo_scaling
                     ? (x_mean.pow(ratio) / (w_mean.pow(1.0 - ratio) + 1e-4)).clamp_min(1e-4)
                     : x_mean.pow(ratio).clamp_min(1e-4);
        s = s / (s.max() * s.min()).sqrt();
        s = torch::where(torch::isfinite(s), s, torch::ones_like(s));  // AutoAWQ's overflow guard
        for (const auto& linear : group.linears) {
            const auto& w = weights.get(linear + ".weight");
            trial.set(linear + ".weight",
                      awq_fake_quantize(w * s.unsqueeze(0), format) / s.unsqueeze(0));
        }
        double squared = 0;
        std::int64_t count = 0;
        for (std::size_t b = 0; b < inputs.size(); ++b) {
            auto out = inspect_forward(config, trial, group, inputs[b], context);
            squared += (original[b] - out).pow(2).sum(torch::kFloat64).item<double>();
            count += out.numel();
        }
        const double loss = squared / double(std::max<std::int64_t>(1, count));
        if (loss < best_error) {
            best_error = loss;
            best.ratio = ratio;
            best.scales = s;
        }
    }
    if (!best.scales.defined())
        throw QsError("awq: the scale search of " + group.linears.front() +
                      " found no finite loss");
    return best;
}

}  // namespace qs::awq_detail
