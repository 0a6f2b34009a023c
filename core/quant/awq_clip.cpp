// AWQ clip search (llm-awq auto_clip.py auto_clip_layer / apply_clip). Per (output row, group)
// the weights are clamped to +-amax * (1 - i / grid), i < max_shrink * grid (0.5 * 20 = 10
// candidates), quantized, and the candidate minimising the mean over sub-sampled tokens of the
// squared error of the group's partial dot product, (sum over g of x * Q(clamp(w)) - x * w)^2, is
// kept. The reference computes the partial products as an elementwise product summed over the
// group for 256 rows at a time; here they are one batched matrix product per group (same sums,
// another summation order) over as many rows as a memory budget allows.
#include <algorithm>
#include <vector>

#include "core/quant/awq_search.h"
#include "core/quant/fake_quantize.h"
#include "core/quant/int_quantizer.h"
#include "core/quant/mx_quantizer.h"

namespace qs::awq_detail {
namespace {

constexpr double kMaxShrink = 0.5;
constexpr std::int64_t kSampleTokens = 512;
constexpr std::int64_t kPartialProductBudget = std::int64_t(1)
                                               << 24;  // floats per [groups, tokens, rows]

// Quantizes every row of rows [m, g] as one quantization group of the format.
torch::Tensor quantize_group_rows(const torch::Tensor& rows, const QuantFormat& format)
{
    switch (format.kind) {
        case FormatKind::Int:
            return int_quantize_dequantize(rows,
                                           awq_find_params(rows, format.bits, format.symmetric));
        case FormatKind::Mx:  // g <= block size: each row is one (possibly partial) block
            return mx_quantize_dequantize(rows, format.element, format.block_size, format.rounding);
        default:
            return fake_quantize_weight(rows, format);  // FP8 per row
    }
}

// Clip search over w [rows, groups * g] with x [tokens, groups * g]: best max [rows, groups].
torch::Tensor search_segment(const torch::Tensor& w, const torch::Tensor& x, std::int64_t g,
                             const QuantFormat& format, int grid)
{
    const auto rows = w.size(0), groups = w.size(1) / g, tokens = x.size(0);
    const auto xg = x.reshape({tokens, groups, g}).permute({1, 0, 2}).contiguous();  // [G, t, g]
    const int candidates = int(kMaxShrink * grid);
    const auto batch = std::clamp<std::int64_t>(
        kPartialProductBudget / std::max<std::int64_t>(1, tokens * groups), 1, rows);
    std::vector<torch::Tensor> best_all;
    for (std::int64_t r0 = 0; r0 < rows; r0 += batch) {
        const auto wb = w.slice(0, r0, r0 + batch).reshape({-1, groups, g});  // [b, G, g]
        const auto org_max = std::get<0>(wb.abs().max(-1, true));             // [b, G, 1]
        const auto org_out = torch::bmm(xg, wb.permute({1, 2, 0}));           // [G, t, b]
        auto best_max = org_max.clone();
        auto min_err = torch::full_like(org_max, 1e9);
        for (int i = 0; i < candidates; ++i) {
            const auto max_val = org_max * (1.0 - double(i) / grid);
            const auto cur = torch::max(torch::min(wb, max_val), -max_val);
            const auto q = quantize_group_rows(cur.reshape({-1, g}), format).reshape(cur.sizes());
            const auto cur_out = torch::bmm(xg, q.permute({1, 2, 0}));
            const auto err =
                (cur_out - org_out).pow(2).mean(1).transpose(0, 1).unsqueeze(-1);  // [b, G, 1]
            const auto better = err < min_err;
            min_err = torch::where(better, err, min_err);
            best_max = torch::where(better, max_val, best_max);
        }
        best_all.push_back(best_max.squeeze(-1));
    }
    return torch::cat(best_all, 0);
}

}  // namespace

std::int64_t clip_group_size(const QuantFormat& format, std::int64_t cols)
{
    switch (format.kind) {
        case FormatKind::Int:
            if (format.granularity == Granularity::Tensor) return 0;
            if (format.granularity == Granularity::Group && format.group_size > 0)
                return std::min<std::int64_t>(format.group_size, cols);
            return cols;
        case FormatKind::Mx:
            return std::min<std::int64_t>(format.block_size, cols);
        case FormatKind::Fp8:
            return format.granularity == Granularity::Tensor ? 0 : cols;
        case FormatKind::None:
            break;
    }
    return 0;
}

torch::Tensor search_clip(const torch::Tensor& w_in, const torch::Tensor& x_in,
                          const QuantFormat& format, int grid)
{
    const auto w = w_in.to(torch::kFloat32);
    const auto cols = w.size(1);
    const auto g = clip_group_size(format, cols);
    // input_feat[:, 0::n_token // n_sample_token]: every step-th token (between 512 and 1023
    // tokens when there are at least 512).
    const auto tokens = x_in.size(0);
    const auto step = std::max<std::int64_t>(1, tokens / kSampleTokens);
    const auto x = x_in.to(torch::kFloat32).slice(0, 0, tokens, step).to(w.device());
    const auto full = cols / g * g;
    auto best = search_segment(w.narrow(1, 0, full), x.narrow(1, 0, full), g, format, grid);
    if (full < cols)
        best = torch::cat(
            {best, search_segment(w.narrow(1, full, cols - full), x.narrow(1, full, cols - full),
                                  cols - full, format, grid)},
            1);
    return best;
}

torch::Tensor apply_clip(const torch::Tensor& w, const torch::Tensor& max_val, std::int64_t g)
{
    const auto rows = w.size(0), cols = w.size(1), full = cols / g * g, groups = full / g;
    auto clamp = [](const torch::Tensor& v, const torch::Tensor& m) {
        return torch::max(torch::min(v, m), -m);
    };
    auto body = clamp(w.narrow(1, 0, full).reshape({rows, groups, g}),
                      max_val.narrow(1, 0, groups).unsqueeze(-1))
                    .reshape({rows, full});
    if (full == cols) return body;
    return torch::cat({body, clamp(w.narrow(1, full, cols - full), max_val.narrow(1, groups, 1))},
                      1);
}

}  // namespace qs::awq_detail
