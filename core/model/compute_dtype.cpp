#include "core/model/compute_dtype.h"

#include "core/model/compute_dtype_names.h"
#include "core/util/error.h"

namespace qs {
namespace {

// float16 on the CPU: libtorch has no CPU kernel for these ops, so they run in float32 on the
// float16 values and round to float16 (what a float16 op with float32 accumulation returns).
bool emulate_half(const torch::Tensor& x)
{
    return x.scalar_type() == torch::kHalf && x.is_cpu();
}

torch::Tensor as_dtype(const torch::Tensor& t, torch::ScalarType dtype)
{
    return t.defined() && t.scalar_type() != dtype ? t.to(dtype) : t;
}

}  // namespace

torch::ScalarType parse_compute_dtype(const std::string& name)
{
    if (name == "fp32" || name == "f32" || name == "float32") return torch::kFloat32;
    if (name == "bf16" || name == "bfloat16") return torch::kBFloat16;
    if (name == "fp16" || name == "f16" || name == "float16" || name == "half") return torch::kHalf;
    throw QsError("compute dtype expects fp32, bf16 or fp16, got '" + name + "'");
}

std::vector<std::string> compute_dtype_names()
{
    return {compute_dtype_name(torch::kFloat32), compute_dtype_name(torch::kBFloat16),
            compute_dtype_name(torch::kHalf)};
}

std::string compute_dtype_name(torch::ScalarType dtype)
{
    switch (dtype) {
        case torch::kFloat32:
            return "fp32";
        case torch::kBFloat16:
            return "bf16";
        case torch::kHalf:
            return "fp16";
        default:
            throw QsError(std::string("unsupported compute dtype ") + c10::toString(dtype));
    }
}

torch::Tensor dtype_linear(const torch::Tensor& x, const torch::Tensor& weight,
                           const torch::Tensor& bias)
{
    const auto dtype = x.scalar_type();
    if (emulate_half(x)) {
        auto b = bias.defined() ? as_dtype(bias, dtype).to(torch::kFloat32) : torch::Tensor();
        return torch::linear(x.to(torch::kFloat32), as_dtype(weight, dtype).to(torch::kFloat32), b)
            .to(dtype);
    }
    return torch::linear(x, as_dtype(weight, dtype), as_dtype(bias, dtype));
}

torch::Tensor dtype_bmm(const torch::Tensor& a, const torch::Tensor& b)
{
    const auto dtype = a.scalar_type();
    if (emulate_half(a))
        return torch::bmm(a.to(torch::kFloat32), as_dtype(b, dtype).to(torch::kFloat32)).to(dtype);
    return torch::bmm(a, as_dtype(b, dtype));
}

torch::Tensor dtype_baddbmm(const torch::Tensor& add, const torch::Tensor& a,
                            const torch::Tensor& b)
{
    const auto dtype = a.scalar_type();
    if (emulate_half(a))
        return torch::baddbmm(as_dtype(add, dtype).to(torch::kFloat32), a.to(torch::kFloat32),
                              as_dtype(b, dtype).to(torch::kFloat32))
            .to(dtype);
    return torch::baddbmm(as_dtype(add, dtype), a, as_dtype(b, dtype));
}

torch::Tensor dtype_silu(const torch::Tensor& x)
{
    return emulate_half(x) ? torch::silu(x.to(torch::kFloat32)).to(x.scalar_type())
                           : torch::silu(x);
}

torch::Tensor dtype_relu(const torch::Tensor& x)
{
    return emulate_half(x) ? torch::relu(x.to(torch::kFloat32)).to(x.scalar_type())
                           : torch::relu(x);
}

}  // namespace qs
