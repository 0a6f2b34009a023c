// The inverse factor of GPTQ: Hinv = the upper Cholesky factor U of (H + damp I)^-1, with the
// damping retry. Two ways to compute U:
//  - Reference: the reference's chain cholesky -> cholesky_inverse -> cholesky(upper) through
//    LAPACK, about 4/3 n^3 flops.
//  - Blocked: with A = J H J (J reverses the index order) and A = L L^T, H = (J L J)(J L J)^T
//    where J L J is upper triangular, so H^-1 = U^T U with U = (J L J)^-1 = J L^-1 J. One
//    Cholesky and one triangular inverse, 2/3 n^3 flops, both blocked so that the work is
//    torch::mm (BLAS gemm) on tiles and only nb x nb diagonal blocks go through LAPACK.
//    OpenBLAS's LAPACK potrf/potri thread poorly (with 2 threads on a busy machine they ran
//    10x slower than with one); gemm does not. U is the same matrix up to float32 rounding.
#include <algorithm>
#include <string>
#include <vector>

#include "core/quant/gptq_internal.h"
#include "core/util/error.h"

namespace qs::gptq_detail {
namespace {

// GPTQModel's damp_auto_increment: extra damping (times mean(diag H)) per failed factorisation.
constexpr double kDampRetryIncrement = 0.0015;

bool factorisation_ok(const torch::Tensor& info)
{
    return info.item<int>() == 0;
}

// Lower Cholesky factor of a symmetric [n, n] matrix (only its lower triangle is read),
// right-looking by blocks of nb; undefined when a pivot block is not positive definite.
torch::Tensor cholesky_lower_blocked(const torch::Tensor& sym, std::int64_t nb)
{
    auto a = sym.clone();
    const auto n = a.size(0);
    for (std::int64_t k = 0; k < n; k += nb) {
        const auto kb = std::min(nb, n - k);
        auto akk = a.slice(0, k, k + kb).slice(1, k, k + kb);
        auto [lkk, info] = torch::linalg_cholesky_ex(akk);
        if (!factorisation_ok(info)) return {};
        akk.copy_(lkk);
        if (k + kb == n) break;
        // Panel: L[k+kb:, k] = A[k+kb:, k] L_kk^-T.
        auto panel = a.slice(0, k + kb).slice(1, k, k + kb);
        panel.copy_(torch::linalg_solve_triangular(lkk.t(), panel, /*upper=*/true, /*left=*/false));
        // Trailing update of the lower triangle only, one tile column at a time.
        for (auto j = k + kb; j < n; j += nb) {
            const auto jb = std::min(nb, n - j);
            auto below = a.slice(0, j).slice(1, k, k + kb);
            auto tile_rows = a.slice(0, j, j + jb).slice(1, k, k + kb);
            a.slice(0, j).slice(1, j, j + jb).addmm_(below, tile_rows.t(), 1, -1);
        }
    }
    return a.tril_();
}

// L^-1 of a lower triangular [n, n] L by block forward substitution down each block column:
// X_jj = L_jj^-1, X_ij = -X_ii (L[i, j:i] X[j:i, j]) for i > j. Only nonzero tiles are multiplied.
torch::Tensor invert_lower_blocked(const torch::Tensor& l, std::int64_t nb)
{
    const auto n = l.size(0);
    auto x = torch::zeros_like(l);
    std::vector<torch::Tensor> diag_inv;
    for (std::int64_t j = 0; j < n; j += nb) {
        const auto jb = std::min(nb, n - j);
        auto eye = torch::eye(jb, l.options());
        diag_inv.push_back(torch::linalg_solve_triangular(l.slice(0, j, j + jb).slice(1, j, j + jb),
                                                          eye, /*upper=*/false));
        x.slice(0, j, j + jb).slice(1, j, j + jb).copy_(diag_inv.back());
    }
    for (std::int64_t j = 0; j < n; j += nb) {
        const auto jb = std::min(nb, n - j);
        for (auto i = j + nb; i < n; i += nb) {
            const auto ib = std::min(nb, n - i);
            auto s = torch::mm(l.slice(0, i, i + ib).slice(1, j, i),
                               x.slice(0, j, i).slice(1, j, j + jb));
            x.slice(0, i, i + ib).slice(1, j, j + jb).copy_(-torch::mm(diag_inv[i / nb], s));
        }
    }
    return x;
}

}  // namespace

torch::Tensor upper_cholesky_of_inverse_reference(const torch::Tensor& h)
{
    auto [lower, info] = torch::linalg_cholesky_ex(h);
    if (!factorisation_ok(info)) return {};
    auto [upper, info_inv] = torch::linalg_cholesky_ex(torch::cholesky_inverse(lower), true);
    if (!factorisation_ok(info_inv)) return {};
    return upper.contiguous();
}

torch::Tensor upper_cholesky_of_inverse_blocked(const torch::Tensor& h, std::int64_t block)
{
    auto lower = cholesky_lower_blocked(h.flip({0, 1}), block);
    if (!lower.defined()) return {};
    return invert_lower_blocked(lower, block).flip({0, 1}).contiguous();
}

InverseFactor damped_inverse_factor(const torch::Tensor& h, double percdamp, int max_retries,
                                    FactorMethod method)
{
    auto mean_diag = h.diagonal().mean();
    for (int attempt = 0; attempt <= max_retries; ++attempt) {
        // The first attempt exactly as the reference: float32 percdamp * mean(diag H).
        auto damp = (percdamp + attempt * kDampRetryIncrement) * mean_diag;
        auto damped = h.clone();
        damped.diagonal().add_(damp);
        auto u = method == FactorMethod::Reference ? upper_cholesky_of_inverse_reference(damped)
                                                   : upper_cholesky_of_inverse_blocked(damped);
        if (!u.defined() || !torch::isfinite(u).all().item<bool>()) continue;
        return {u, damp.item<double>(), attempt};
    }
    throw QsError("GPTQ: the Hessian is not positive definite, even after " +
                  std::to_string(max_retries) + " damping retries (damping up to " +
                  std::to_string(percdamp + max_retries * kDampRetryIncrement) +
                  " x mean(diag H))");
}

}  // namespace qs::gptq_detail
