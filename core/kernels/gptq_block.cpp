// The row solver of gptq_block_math.h over a BlockState: the scalar CPU loop and (QS_CUDA) the
// torch glue of the CUDA kernel. The dynamic-group refresh stays torch ops on the tensors' own
// device; only the column loop itself runs in gptq_solve_row.
#include "core/kernels/gptq_block.h"

#include <string>
#include <vector>

#include "core/util/error.h"

#ifdef QS_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "core/kernels/gptq_block_cuda.h"
#endif

namespace qs::gptq_detail {
namespace {

// Rows per parallel task of the CPU loop: a row of a 128-column block is ~8k flops.
constexpr std::int64_t kRowGrain = 16;

// All parameter refreshes of a block read the block-start W (the reference reads W[:, c:c+g],
// which only changes in the lazy update after the block), so they can run up front.
void refresh_block_groups(BlockState& state, std::int64_t i1, std::int64_t i2)
{
    IntGroups& groups = *state.groups;
    for (auto c = i1; c < i2; ++c)
        if (groups.starts_group(c)) groups.refresh(state.w, c);
}

// Err1^T of the block: a view of the reused scratch state.err_t, reallocated when too small or
// on another device.
torch::Tensor block_errors(BlockState& state, std::int64_t count)
{
    const auto rows = state.w.size(0);
    if (!state.err_t.defined() || state.err_t.size(0) < count || state.err_t.size(1) != rows ||
        state.err_t.device() != state.w.device())
        state.err_t = torch::empty({count, rows}, state.w.options());
    return state.err_t.slice(0, 0, count);
}

void check_float_contiguous(const torch::Tensor& t, const char* what)
{
    if (t.scalar_type() != torch::kFloat32 || !t.is_contiguous())
        throw QsError(std::string("GPTQ block solver: ") + what +
                      " must be a contiguous float32 tensor");
}

}  // namespace

kernels::GptqBlockArgs gptq_block_args(BlockState& state, std::int64_t i1, std::int64_t i2,
                                       const torch::Tensor& err1_t, torch::Tensor* scales,
                                       torch::Tensor* zeros, const std::int64_t* group_of)
{
    const IntGroups& groups = *state.groups;
    *scales = groups.scales.contiguous();
    *zeros = groups.zeros.contiguous();
    check_float_contiguous(state.w, "W");
    check_float_contiguous(state.hinv, "Hinv");
    check_float_contiguous(state.q_t, "Q^T");
    check_float_contiguous(state.losses_t, "the losses");
    check_float_contiguous(*scales, "the scales");
    check_float_contiguous(*zeros, "the zero points");
    kernels::GptqBlockArgs a;
    a.w = state.w.data_ptr<float>();
    a.hinv = state.hinv.data_ptr<float>();
    a.scale = scales->data_ptr<float>();
    a.zero = zeros->data_ptr<float>();
    a.group_of = group_of;
    a.q_t = state.q_t.data_ptr<float>();
    a.losses_t = state.losses_t.data_ptr<float>();
    a.err_t = err1_t.data_ptr<float>();
    a.rows = state.w.size(0);
    a.cols = state.w.size(1);
    a.n_groups = scales->size(1);
    a.i1 = i1;
    a.count = i2 - i1;
    a.out_first = state.out_first;
    a.maxq = static_cast<float>((1 << groups.bits) - 1);
    return a;
}

torch::Tensor solve_block_int_rows(BlockState& state, std::int64_t i1, std::int64_t i2)
{
    refresh_block_groups(state, i1, i2);
    auto err1_t = block_errors(state, i2 - i1);
    torch::Tensor scales, zeros;
    const auto args =
        gptq_block_args(state, i1, i2, err1_t, &scales, &zeros, state.groups->group_of.data());
    const float* hinv_block = args.hinv + i1 * args.cols + i1;
    parallel_chunks(args.rows, kRowGrain, [&](std::int64_t r0, std::int64_t r1) {
        std::vector<float> wb(static_cast<std::size_t>(args.count));
        for (auto r = r0; r < r1; ++r)
            kernels::gptq_solve_row(args, r, hinv_block, args.cols, wb.data());
    });
    return err1_t;
}

#ifdef QS_CUDA
torch::Tensor solve_block_int_cuda(BlockState& state, std::int64_t i1, std::int64_t i2)
{
    const auto device = state.w.device();
    const c10::cuda::CUDAGuard guard(device);
    if (i2 - i1 > kernels::gptq_block_cuda_max_count(device.index()))
        return solve_block_int_reference(state, i1, i2);
    refresh_block_groups(state, i1, i2);
    IntGroups& groups = *state.groups;
    if (!groups.group_of_on_device.defined() || groups.group_of_on_device.device() != device)
        groups.group_of_on_device = torch::tensor(groups.group_of, torch::kInt64).to(device);
    for (const auto* t : {&state.hinv, &state.q_t, &state.losses_t, &groups.scales, &groups.zeros})
        if (t->device() != device)
            throw QsError("GPTQ CUDA block solver: every tensor must be on " + device.str());
    auto err1_t = block_errors(state, i2 - i1);
    torch::Tensor scales, zeros;
    const auto args = gptq_block_args(state, i1, i2, err1_t, &scales, &zeros,
                                      groups.group_of_on_device.data_ptr<std::int64_t>());
    const auto status = kernels::gptq_solve_block_cuda(
        args, c10::cuda::getCurrentCUDAStream(device.index()).stream());
    if (status != cudaSuccess)
        throw QsError(std::string("GPTQ CUDA block kernel: ") + cudaGetErrorString(status));
    return err1_t;
}
#endif

}  // namespace qs::gptq_detail
