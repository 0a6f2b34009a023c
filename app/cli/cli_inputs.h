// Checks of the files a command is given, made before any work starts, so the common mistakes
// (a folder that is not a model, a recipe path with a typo, an output that already exists) fail
// at once with one line that names the file and says what to do instead. Every failure is a
// QsError "<path>: <problem> (<what to do>)".
#pragma once

#include <string>

#include <c10/core/ScalarType.h>

#include "app/cli/cli_args.h"
#include "core/quant/recipe.h"

namespace qs::cli {

// --model: a folder with config.json that CausalLM can open. Refuses a missing folder, a file
// (a .gguf points to `import`), a folder without config.json, and packed checkpoints (gptq,
// awq, compressed-tensors, quantscope-mx: they must be imported first). Returns the path.
std::string model_dir_arg(const Args& args, const std::string& option = "model");

// --recipe (or `option`): Recipe::load with a hint on every failure; a calibration dataset the
// recipe names must exist (relative paths are read from the current folder).
Recipe load_recipe_arg(const Args& args, const std::string& option = "recipe");
// The same checks for a recipe that is already parsed (quantize's short options).
void check_recipe_inputs(const Recipe& recipe, const std::string& source);

// A text file for eval / calibration: must exist (`what` names it in the message: "dataset").
std::string text_file_arg(const Args& args, const std::string& option, const std::string& what);

// --dtype: the compute dtype of the model forward, fp32 (default), bf16 or fp16. Throws
// UsageError "--dtype expects fp32, bf16 or fp16, got '<value>'".
c10::ScalarType compute_dtype_arg(const Args& args);

// An output path that must not exist unless --force (`hint_option` names the alternative,
// e.g. "--force").
void check_output_free(const std::string& path, bool force);

}  // namespace qs::cli
