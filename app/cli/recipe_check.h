// What `quantscope-cli quantize --dry-run` prints about a recipe, and the warnings every
// command that quantizes gives for a recipe that does not suit the model.
#pragma once

#include <string>
#include <vector>

#include "core/quant/recipe.h"

namespace qs {
class CausalLM;
}

namespace qs::cli {

// Recipe::warnings() plus what only the model can tell (calibration windows longer than its
// context, a layer range past its last layer).
std::vector<std::string> recipe_warnings(const Recipe& recipe, const CausalLM* model);

// The recipe as canonical YAML; with a model, as YAML comments: the layers it quantizes, the
// exact size, and for every export format and GGUF type whether it fits (and why not), so
// stdout still parses as the same recipe.
void print_recipe_check(const Recipe& recipe, const CausalLM* model);

}  // namespace qs::cli
