// Internal to the AWQ implementation (awq.cpp, awq_scale_search.cpp, awq_clip.cpp): the
// scaling groups of a decoder layer and the two searches of the reference llm-awq.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/model/decoder_layer.h"
#include "core/quant/quant_format.h"
#include "core/quant/recipe.h"

namespace qs::awq_detail {

// What the scale search compares before and after quantization (reference module2inspect).
enum class Inspect { Attention, Mlp, FirstLinear };

// Linears sharing one input, with the op their scales fold into (reference scales_list).
struct AwqGroup {
    std::string previous;  // norm module, or the previous linear for fc->fc groups
    bool previous_is_norm = true;
    std::vector<std::string> linears;
    Inspect inspect = Inspect::FirstLinear;
};

// Reference auto_scale_block order. The v->o group only where v_proj's rows map one-to-one to
// o_proj's columns (no GQA); post-LN OPT has no norm directly before its linears (its norms
// also feed the residual), so only its fc->fc groups are scaled.
std::vector<AwqGroup> awq_groups(const ModelConfig& config, const LayerWeights& weights);

// Linears whose weights are clipped: every linear but q and k (reference auto_clip_block:
// "due to qk bmm, it is hard to clip precisely").
std::vector<std::string> awq_clip_linears(const ModelConfig& config);

struct ScaleChoice {
    torch::Tensor scales;  // [in]
    double ratio = 0;
};

// _search_module_scale: x is the group's cached input [n, T, in], x_mean = mean |x| [in] (over
// all calibration tokens). The inspected block runs on `weights` (copied, never modified).
ScaleChoice search_group_scale(const ModelConfig& config, const LayerWeights& weights,
                               const AwqGroup& group, const torch::Tensor& x,
                               const torch::Tensor& x_mean, const LayerContext& context,
                               const QuantFormat& format, const AwqSettings& settings);

// Columns per clip group: the INT group (whole row per channel), the MX block; 0 when the
// format has no per-row range to clip (per-tensor INT and FP8).
std::int64_t clip_group_size(const QuantFormat& format, std::int64_t cols);

// auto_clip_layer: best clip value per (row, group) [rows, groups] of w [rows, cols] for the
// input x [tokens, cols]; a shorter last group (cols not a multiple of the group) is its own.
torch::Tensor search_clip(const torch::Tensor& w, const torch::Tensor& x, const QuantFormat& format,
                          int grid);

// apply_clip: w clamped to [-max, max] per (row, group).
torch::Tensor apply_clip(const torch::Tensor& w, const torch::Tensor& max_val, std::int64_t group);

// Copies the tensors only (no observer or input transform of the caller's LayerWeights).
LayerWeights plain_copy(const LayerWeights& weights);

}  // namespace qs::awq_detail
