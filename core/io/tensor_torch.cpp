#include "core/io/tensor_torch.h"

#include "core/util/error.h"

namespace qs {
namespace {

// A tensor over the mapped bytes without copying; only read, so the const_cast is safe.
torch::Tensor mapped_view(const TensorView& v, const std::string& where)
{
    auto options = torch::TensorOptions().dtype(torch_dtype_of(v.info->dtype, where));
    return torch::from_blob(const_cast<std::uint8_t*>(v.data), v.info->shape, options);
}

}  // namespace

torch::Dtype torch_dtype_of(DType dtype, const std::string& where)
{
    switch (dtype) {
        case DType::F32:
            return torch::kFloat32;
        case DType::F16:
            return torch::kFloat16;
        case DType::BF16:
            return torch::kBFloat16;
        case DType::F64:
            return torch::kFloat64;
        default:
            fail_file(where, "tensor dtype " + dtype_name(dtype) + " is not a float type");
    }
}

torch::Tensor load_tensor(const TensorStore& store, const std::string& name, torch::Dtype dtype,
                          const torch::Device& device)
{
    TensorView v = store.view(name);
    auto view = mapped_view(v, store.location() + " tensor " + name);
    auto copy = (view.scalar_type() == dtype && device.is_cpu())
                    ? view.clone()
                    : view.to(device, dtype, /*non_blocking=*/false, /*copy=*/true);
    store.release(name);
    return copy;
}

torch::Tensor gather_rows(const TensorStore& store, const std::string& name,
                          const torch::Tensor& ids, torch::Dtype dtype, const torch::Device& device)
{
    TensorView v = store.view(name);
    const auto& shape = v.info->shape;
    if (shape.size() != 2) fail_file(store.location(), "tensor " + name + " is not 2-D");
    auto flat = ids.reshape({-1}).to(torch::kCPU, torch::kLong);
    if (flat.numel() > 0) {
        auto lo = flat.min().item<std::int64_t>(), hi = flat.max().item<std::int64_t>();
        if (lo < 0 || hi >= shape[0])
            fail_file(store.location(), "token id " + std::to_string(lo < 0 ? lo : hi) +
                                            " outside the " + std::to_string(shape[0]) +
                                            " rows of " + name);
    }
    auto rows = mapped_view(v, store.location() + " tensor " + name)
                    .index_select(0, flat)
                    .to(device, dtype);
    auto out_shape = ids.sizes().vec();
    out_shape.push_back(shape[1]);
    return rows.view(out_shape);
}

}  // namespace qs
