// Storage of a whole model under a recipe, for the size axis of the Pareto plot (and its
// full-precision reference). Rule:
// - Every decoder linear WEIGHT of a layer in the recipe's range costs
//   recipe.weights.storage_bits(out, in) (codes plus scales / zero points / shared exponents,
//   core/quant/quant_format.h); the range is [first_layer, last_layer], last_layer -1 meaning the
//   last layer, clamped to the model's layers exactly as quantize_model clamps it (an empty
//   range quantizes nothing), minus the recipe's full_precision_layers (Recipe::quantizes_layer).
// - Every other parameter costs 16 bits (fp16), whatever the checkpoint's dtype: embeddings,
//   norms, biases (also those of quantized linears), lm_head, OPT's positions and projections,
//   and the linear weights of layers outside the range or kept in full precision.
// - Parameters are ModelInfo::total_parameters: a tied lm_head is counted once.
// - linear_bits / linear_parameters cover every decoder linear weight (biases excluded):
//   quantized ones at the format's cost, the others at 16 bits.
#pragma once

#include "core/analysis/experiment_record.h"
#include "core/model/model_info.h"
#include "core/quant/recipe.h"

namespace qs {

ModelSize model_size(const ModelInfo& info, const Recipe& recipe);

// Every parameter at 16 bits: the reference the quantized sizes are compared with.
ModelSize model_size_fp16(const ModelInfo& info);

}  // namespace qs
