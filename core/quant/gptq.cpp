// gptq_quantize: the reference fasterquant (IST-DASLab/gptq gptq.py) around a pluggable in-block
// solver (gptq_int_block.cpp, gptq_mx.cpp): validation, dead columns, INT parameters, act-order,
// damping with retries and the upper Cholesky factor of H^-1, the block loop with the lazy
// update, and the result in the original column order.
#include "core/quant/gptq.h"

#include <algorithm>
#include <string>
#include <vector>

#include "core/quant/gptq_internal.h"
#include "core/quant/int_quantizer.h"
#include "core/util/error.h"
#include "core/util/feedback.h"

namespace qs {
namespace gptq_detail {
namespace {

std::string shape_of(const torch::Tensor& t)
{
    if (!t.defined()) return "undefined";
    std::string s = "[";
    for (std::int64_t d = 0; d < t.dim(); ++d)
        s += (d ? ", " : "") + std::to_string(t.size(d));
    return s + "]";
}

std::int64_t micro_block_of(const GptqOptions& options)
{
    if (options.format.kind == FormatKind::Mx)
        return options.mx_micro_block > 0 ? options.mx_micro_block : options.format.block_size;
    return std::max(1, options.mx_micro_block);
}

void validate(const torch::Tensor& weight, const torch::Tensor& hessian, const GptqOptions& options)
{
    if (!weight.defined() || weight.dim() != 2 || weight.numel() == 0 ||
        !weight.is_floating_point())
        throw QsError("GPTQ: the weight must be a non-empty floating-point [out, in] matrix, got " +
                      shape_of(weight));
    const auto cols = weight.size(1);
    if (!hessian.defined() || hessian.dim() != 2 || hessian.size(0) != cols ||
        hessian.size(1) != cols || !hessian.is_floating_point())
        throw QsError("GPTQ: the Hessian must be a floating-point [" + std::to_string(cols) + ", " +
                      std::to_string(cols) + "] matrix for a weight " + shape_of(weight) +
                      ", got " + shape_of(hessian));
    if (options.blocksize <= 0)
        throw QsError("GPTQ: blocksize must be positive, got " + std::to_string(options.blocksize));
    if (!(options.percdamp >= 0))
        throw QsError("GPTQ: percdamp must be >= 0, got " + std::to_string(options.percdamp));
    if (options.max_damp_retries < 0) throw QsError("GPTQ: max_damp_retries must be >= 0");
    if (options.mx_micro_block < 0) throw QsError("GPTQ: mx_micro_block must be >= 0");

    const QuantFormat& f = options.format;
    if (f.kind == FormatKind::Int) {
        if (f.bits < 1 || f.bits > 16)
            throw QsError("GPTQ: INT bits must be 1..16, got " + std::to_string(f.bits));
        if (f.granularity != Granularity::Channel && f.granularity != Granularity::Group)
            throw QsError("GPTQ: INT weights need per-channel or group granularity");
        if (f.granularity == Granularity::Group && f.group_size <= 0)
            throw QsError("GPTQ: group granularity needs a positive group size, got " +
                          std::to_string(f.group_size));
        if (options.mx_micro_block > 1 && f.granularity != Granularity::Channel)
            throw QsError(
                "GPTQ: micro-blocks (mx_micro_block > 1) with INT need per-channel "
                "granularity");
        return;
    }
    if (f.kind != FormatKind::Mx)
        throw QsError("GPTQ: only INT and MX formats can be quantized with GPTQ");
    if (options.act_order)
        throw QsError(
            "GPTQ: act-order cannot be combined with an MX format: MX blocks are "
            "contiguous in the original column order");
    if (f.block_size <= 0)
        throw QsError("GPTQ: MX block size must be positive, got " + std::to_string(f.block_size));
    const auto micro = micro_block_of(options);
    if (micro % f.block_size != 0 || options.blocksize % micro != 0)
        throw QsError("GPTQ: the MX micro-block (" + std::to_string(micro) +
                      " columns) must be a multiple of the MX block size (" +
                      std::to_string(f.block_size) + ") and divide blocksize (" +
                      std::to_string(options.blocksize) + ")");
}

// Descending diag(H). The reference's torch.argsort(descending=True) does not promise an order
// for ties; we use a stable sort, so tied columns (e.g. several dead columns, diag 1) keep their
// original ascending order.
torch::Tensor act_order_permutation(const torch::Tensor& diag)
{
    return std::get<1>(torch::sort(diag, /*stable=*/true, /*dim=*/0, /*descending=*/true));
}

// INT parameters and the group of each processing column. `w` is in the original order (after
// the dead-column fix); `perm` maps processing column -> original column (empty: identity).
IntGroups make_int_groups(const torch::Tensor& w, const GptqOptions& options,
                          const std::vector<std::int64_t>& perm)
{
    const QuantFormat& f = options.format;
    const auto rows = w.size(0), cols = w.size(1);
    IntGroups groups;
    groups.bits = f.bits;
    groups.symmetric = f.symmetric;
    groups.mse = f.mse;
    groups.group_of.assign(static_cast<std::size_t>(cols), 0);
    if (f.granularity == Granularity::Channel) {
        auto params = int_find_params(w, f.bits, f.symmetric, f.mse);
        groups.scales = params.scale.contiguous();
        groups.zeros = params.zero.contiguous();
        return groups;
    }
    const std::int64_t size = f.group_size;
    const auto n_groups = (cols + size - 1) / size;
    groups.scales = torch::zeros({rows, n_groups}, w.options());
    groups.zeros = torch::zeros({rows, n_groups}, w.options());
    for (std::int64_t c = 0; c < cols; ++c) {
        const auto original = perm.empty() ? c : perm[static_cast<std::size_t>(c)];
        groups.group_of[static_cast<std::size_t>(c)] =
            (options.static_groups ? original : c) / size;
    }
    if (!options.static_groups) {
        groups.dynamic_group_size = size;
        return groups;
    }
    for (std::int64_t g = 0; g < n_groups; ++g) {
        auto params = int_find_params(w.slice(1, g * size, std::min(cols, (g + 1) * size)), f.bits,
                                      f.symmetric, f.mse);
        groups.scales.select(1, g).copy_(params.scale.squeeze(1));
        groups.zeros.select(1, g).copy_(params.zero.squeeze(1));
    }
    return groups;
}

std::vector<std::int64_t> to_vector(const torch::Tensor& t)
{
    auto c = t.to(torch::kCPU, torch::kInt64).contiguous();
    return {c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel()};
}

}  // namespace

GptqResult gptq_quantize_with(const torch::Tensor& weight, const torch::Tensor& hessian,
                              const GptqOptions& options, BlockSolver solver,
                              FactorMethod factor_method, Feedback* feedback)
{
    validate(weight, hessian, options);
    report(feedback, 0.0, "GPTQ: preparing");
    const QuantFormat& format = options.format;
    const bool is_int = format.kind == FormatKind::Int;
    if (!is_int) solver = BlockSolver::MicroBlock;
    if (solver == BlockSolver::MicroBlock && is_int && format.granularity != Granularity::Channel)
        throw QsError("GPTQ: the micro-block solver with INT needs per-channel granularity");
    if (solver == BlockSolver::Fast && !weight.device().is_cpu()) solver = BlockSolver::Reference;

    auto w = weight.detach().to(torch::kFloat32, false, /*copy=*/true).contiguous();
    auto h = hessian.detach().to(w.device(), torch::kFloat32, false, /*copy=*/true).contiguous();
    if (!torch::isfinite(h).all().item<bool>())
        throw QsError("GPTQ: the Hessian contains NaN or Inf");
    if (!torch::isfinite(w).all().item<bool>())
        throw QsError("GPTQ: the weight contains NaN or Inf");
    const auto cols = w.size(1);

    // Dead columns (no calibration signal): H_jj = 1 and W[:, j] = 0.
    auto dead = h.diagonal() == 0;
    h.diagonal().masked_fill_(dead, 1.0);
    w.masked_fill_(dead.unsqueeze(0), 0.0);

    GptqResult result;
    result.hessian_diag = h.diagonal().clone();
    std::vector<std::int64_t> perm;
    if (options.act_order) {
        result.perm = act_order_permutation(h.diagonal());
        perm = to_vector(result.perm);
    }
    IntGroups groups;
    if (is_int) groups = make_int_groups(w, options, perm);
    if (result.perm.defined()) {
        w = w.index_select(1, result.perm).contiguous();
        h = h.index_select(0, result.perm).index_select(1, result.perm);
    }

    report(feedback, 0.0, "GPTQ: inverse Hessian");
    auto factor =
        damped_inverse_factor(h, options.percdamp, options.max_damp_retries, factor_method);
    result.damping = factor.damping;
    result.damp_retries = factor.retries;

    auto transposed = torch::zeros({w.size(1), w.size(0)}, w.options());
    BlockState state{w, factor.hinv, transposed, torch::zeros_like(transposed),
                     is_int ? &groups : nullptr};
    MicroQuantizer micro_quantize;
    if (solver == BlockSolver::MicroBlock) {
        if (is_int) {
            IntQuantParams params;
            params.bits = groups.bits;
            params.scale = groups.scales;
            params.zero = groups.zeros;
            micro_quantize = [params](const torch::Tensor& x) {
                return int_quantize_dequantize(x, params);
            };
        } else {
            micro_quantize = mx_micro_quantizer(format);
        }
    }
    const auto micro_block = micro_block_of(options);

    for (std::int64_t i1 = 0; i1 < cols; i1 += options.blocksize) {
        report(feedback, double(i1) / double(cols), "GPTQ: columns");
        const auto i2 = std::min(cols, i1 + options.blocksize);
        torch::Tensor err1_t;
        switch (solver) {
            case BlockSolver::Fast:
                err1_t = solve_block_int_fast(state, i1, i2);
                break;
            case BlockSolver::Reference:
                err1_t = solve_block_int_reference(state, i1, i2);
                break;
            case BlockSolver::MicroBlock:
                err1_t = solve_block_micro(state, i1, i2, micro_block, micro_quantize);
                break;
        }
        if (i2 == cols) break;
        auto rest = state.w.slice(1, i2);
        auto hinv_rest = state.hinv.slice(0, i1, i2).slice(1, i2);
        if (solver == BlockSolver::Reference)
            rest.sub_(err1_t.t().matmul(hinv_rest));
        else
            rest.addmm_(err1_t.t(), hinv_rest, /*beta=*/1, /*alpha=*/-1);  // BLAS, in place
    }
    if (feedback) feedback->set_progress(1.0, "GPTQ: done");

    auto q_t = state.q_t;
    auto losses_t = state.losses_t;
    if (result.perm.defined()) {
        auto invperm = torch::argsort(result.perm);
        q_t = q_t.index_select(0, invperm);
        losses_t = losses_t.index_select(0, invperm);
    }
    result.weight = q_t.t().contiguous();
    auto losses = losses_t.t().contiguous();
    result.losses = losses;
    result.column_error = losses.sum(0);
    result.total_error = losses.sum(torch::kFloat64).item<double>();
    if (is_int) {
        result.scales = groups.scales;
        result.zeros = groups.zeros;
        std::vector<std::int32_t> g_idx(static_cast<std::size_t>(cols));
        for (std::int64_t c = 0; c < cols; ++c) {
            const auto original = perm.empty() ? c : perm[static_cast<std::size_t>(c)];
            g_idx[static_cast<std::size_t>(original)] =
                static_cast<std::int32_t>(groups.group_of[static_cast<std::size_t>(c)]);
        }
        result.g_idx = torch::tensor(g_idx, torch::kInt32);
    }
    return result;
}

}  // namespace gptq_detail

GptqResult gptq_quantize(const torch::Tensor& weight, const torch::Tensor& hessian,
                         const GptqOptions& options, Feedback* feedback)
{
    using gptq_detail::BlockSolver;
    auto solver = BlockSolver::Fast;
    if (options.format.kind == FormatKind::Mx ||
        (options.format.kind == FormatKind::Int && options.mx_micro_block > 1))
        solver = BlockSolver::MicroBlock;
    return gptq_detail::gptq_quantize_with(weight, hessian, options, solver,
                                           gptq_detail::FactorMethod::Blocked, feedback);
}

}  // namespace qs
