// gptq_quantize: the reference fasterquant (IST-DASLab/gptq gptq.py) around a pluggable in-block
// solver (gptq_int_block.cpp, gptq_mx.cpp) and inverse factor (gptq_factor.cpp): validation,
// dead columns, act-order, INT parameters, damping with retries, the block loop with the lazy
// update W[:, i2:] -= Err1 @ Hinv[i1:i2, i2:], and the results in the original column order.
#include "core/quant/gptq.h"

#include <algorithm>
#include <string>
#include <vector>

#include "core/kernels/gptq_block.h"
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

// INT parameters and the group of each processing column. `w` is in the processing order
// (after the dead-column fix); perm maps processing column -> original column and invperm
// back (both empty: identity).
IntGroups make_int_groups(const torch::Tensor& w, const GptqOptions& options,
                          const std::vector<std::int64_t>& perm,
                          const std::vector<std::int64_t>& invperm)
{
    const QuantFormat& f = options.format;
    const auto rows = w.size(0), cols = w.size(1);
    IntGroups groups;
    groups.bits = f.bits;
    groups.symmetric = f.symmetric;
    groups.mse = f.mse;
    groups.group_of.assign(static_cast<std::size_t>(cols), 0);
    if (f.granularity == Granularity::Channel) {
        // The reference computes these before the dead-column fix (find_params(W) comes first
        // in fasterquant); we use the fixed W: a zeroed column only matters when it held a
        // row's extreme, and then its value is not quantized anyway.
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
    // Static groups: contiguous in the original order, gathered in that order from w.
    for (std::int64_t g = 0; g < n_groups; ++g) {
        const auto begin = g * size, end = std::min(cols, (g + 1) * size);
        torch::Tensor columns;
        if (invperm.empty()) {
            columns = w.slice(1, begin, end);
        } else {
            std::vector<std::int64_t> positions(invperm.begin() + begin, invperm.begin() + end);
            columns = w.index_select(1, torch::tensor(positions, torch::kInt64).to(w.device()));
        }
        auto params = int_find_params(columns, f.bits, f.symmetric, f.mse);
        groups.scales.select(1, g).copy_(params.scale.squeeze(1));
        groups.zeros.select(1, g).copy_(params.zero.squeeze(1));
    }
    return groups;
}

// The fast solver runs on the CPU and, in CUDA builds, on CUDA devices (solve_block_int_fast
// dispatches to the kernel); elsewhere the reference's tensor ops run on the device.
bool fast_solver_runs_on(const torch::Device& device)
{
#ifdef QS_CUDA
    if (device.is_cuda()) return true;
#endif
    return device.is_cpu();
}

std::vector<std::int64_t> to_vector(const torch::Tensor& t)
{
    auto c = t.to(torch::kCPU, torch::kInt64).contiguous();
    return {c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel()};
}

}  // namespace

GptqResult gptq_quantize_with(const torch::Tensor& weight, torch::Tensor hessian,
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
    if (solver == BlockSolver::Fast && !fast_solver_runs_on(weight.device()))
        solver = BlockSolver::Reference;
    if (solver == BlockSolver::Rows && !weight.device().is_cpu()) solver = BlockSolver::Reference;

    // Full-size buffers (fresh pages cost a page fault each): the working W, which ends up
    // holding Q, and the factor's copy of H. h is the input itself when it is already float32
    // and contiguous, and is never written.
    auto h = hessian.detach().to(weight.device(), torch::kFloat32).contiguous();
    hessian = torch::Tensor();  // h is the only handle left here (see the release below)
    if (!all_finite(h)) throw QsError("GPTQ: the Hessian contains NaN or Inf");
    const auto rows = weight.size(0), cols = weight.size(1);

    // Dead columns (no calibration signal): H_jj = 1 and W[:, j] = 0.
    const auto dead = h.diagonal() == 0;
    GptqResult result;
    result.hessian_diag = h.diagonal().masked_fill(dead, 1.0);
    std::vector<std::int64_t> perm, invperm;
    if (options.act_order) {
        result.perm = act_order_permutation(result.hessian_diag);
        perm = to_vector(result.perm);
        invperm.resize(perm.size());
        for (std::size_t c = 0; c < perm.size(); ++c)
            invperm[static_cast<std::size_t>(perm[c])] = static_cast<std::int64_t>(c);
    }

    // W in the processing order (a copy: the input stays untouched).
    auto w = result.perm.defined()
                 ? weight.detach().index_select(1, result.perm).to(torch::kFloat32)
                 : weight.detach().to(torch::kFloat32, false, /*copy=*/true,
                                      torch::MemoryFormat::Contiguous);
    w = w.contiguous();
    w.masked_fill_((result.perm.defined() ? dead.index_select(0, result.perm) : dead).unsqueeze(0),
                   0.0);
    if (!all_finite(w)) throw QsError("GPTQ: the weight contains NaN or Inf");
    IntGroups groups;
    if (is_int) groups = make_int_groups(w, options, perm, invperm);

    report(feedback, 0.0, "GPTQ: inverse Hessian");
    auto factor = damped_inverse_factor(h, dead, perm, options.percdamp, options.max_damp_retries,
                                        factor_method);
    result.damping = factor.damping;
    result.damp_retries = factor.retries;
    // H is done with once factored: freed here when the caller moved its handle in.
    h = torch::Tensor();

    // The solvers write one block's outputs ([blocksize, rows], transposed); each block then
    // moves into W's own columns, which the reference never reads again once the block is
    // solved (the lazy update only touches W[:, i2:]). So W ends up holding Q, and the only
    // [rows, cols] buffers beside the factor are W and, when asked for, the losses.
    const auto block_columns = std::min<std::int64_t>(options.blocksize, cols);
    auto block_q_t = torch::empty({block_columns, rows}, w.options());
    BlockState state;
    state.w = w;
    state.hinv = factor.hinv;
    state.q_t = block_q_t;
    state.losses_t = torch::empty_like(block_q_t);
    state.groups = is_int ? &groups : nullptr;
    auto column_error = torch::empty({cols}, w.options());
    torch::Tensor losses = options.keep_losses ? torch::empty_like(w) : torch::Tensor();
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
        state.out_first = i1;
        torch::Tensor err1_t;
        switch (solver) {
            case BlockSolver::Fast:
                err1_t = solve_block_int_fast(state, i1, i2);
                break;
            case BlockSolver::Reference:
                err1_t = solve_block_int_reference(state, i1, i2);
                break;
            case BlockSolver::Rows:
                err1_t = solve_block_int_rows(state, i1, i2);
                break;
            case BlockSolver::MicroBlock:
                err1_t = solve_block_micro(state, i1, i2, micro_block, micro_quantize);
                break;
        }
        if (i2 < cols) {
            auto rest = state.w.slice(1, i2);
            auto hinv_rest = state.hinv.slice(0, i1, i2).slice(1, i2);
            if (solver == BlockSolver::Reference)
                rest.sub_(err1_t.t().matmul(hinv_rest));
            else
                rest.addmm_(err1_t.t(), hinv_rest, /*beta=*/1, /*alpha=*/-1);  // BLAS, in place
        }
        const auto q_block = state.q_t.slice(0, 0, i2 - i1);
        const auto losses_block = state.losses_t.slice(0, 0, i2 - i1);
        auto w_block = state.w.slice(1, i1, i2);
        transpose_into(q_block, w_block);
        column_error.slice(0, i1, i2).copy_(losses_block.sum(1));
        if (losses.defined()) {
            auto losses_columns = losses.slice(1, i1, i2);
            transpose_into(losses_block, losses_columns);
        }
    }
    if (feedback) feedback->set_progress(1.0, "GPTQ: done");
    state = BlockState();  // the factor and the block buffers go
    factor.hinv = torch::Tensor();

    // Back to the original column order (act-order): one gather per result.
    if (invperm.empty()) {
        result.weight = w;
        result.losses = losses;
        result.column_error = column_error;
    } else {
        const auto order = torch::tensor(invperm, torch::kInt64).to(w.device());
        result.weight = w.index_select(1, order);
        w = torch::Tensor();
        if (losses.defined()) result.losses = losses.index_select(1, order);
        result.column_error = column_error.index_select(0, order);
    }
    result.total_error = result.column_error.to(torch::kFloat64).sum().item<double>();
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

GptqResult gptq_quantize(const torch::Tensor& weight, torch::Tensor hessian,
                         const GptqOptions& options, Feedback* feedback)
{
    using gptq_detail::BlockSolver;
    auto solver = BlockSolver::Fast;
    if (options.format.kind == FormatKind::Mx ||
        (options.format.kind == FormatKind::Int && options.mx_micro_block > 1))
        solver = BlockSolver::MicroBlock;
    return gptq_detail::gptq_quantize_with(weight, std::move(hessian), options, solver,
                                           gptq_detail::FactorMethod::Blocked, feedback);
}

}  // namespace qs
