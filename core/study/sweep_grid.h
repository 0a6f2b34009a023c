// A sweep grid: the YAML file `quantscope-cli sweep --grid` reads, expanded into recipes.
//
//   name: stories260k-study
//   calibration: {dataset: data/valid.txt, samples: 32, seqlen: 256, seed: 0}
//   evaluation: {seqlen: 512, limit: 40, datasets: [wikitext2=data/wiki.test.raw]}
//   reference: true                  # add the full-precision model as a point (default true)
//   methods: [rtn, gptq, awq, [awq, gptq], [smoothquant, gptq]]   # a method or an ordered list
//   orders: [listed, reversed]       # reversed: also every combination in reverse order
//   weights: [int8-channel-sym]      # explicit format names, plus the generators below
//   int: {bits: [3, 4], groups: [32, 128], symmetric: [false]}     # groups: 0 = per channel
//   mx: {elements: [mxint4, mxint3, mxfp4], blocks: [32, 128]}
//   fp8: [e4m3]
//   activations: [none, mxint8-32]
//   gptq: {act_order: true}  awq: {...}  smoothquant: {alpha: 0.5}   # passed to every recipe
//
// Recipes = methods x orders x weight formats x activation formats, in that nesting order
// (deterministic). A combination a recipe cannot express (e.g. gptq with no weight format) is
// skipped and listed in `skipped`. Relative paths are resolved against the grid file's folder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/quant/recipe.h"

namespace qs {

struct SweepGrid {
    std::string name;
    CalibrationSettings calibration;
    std::int64_t eval_seqlen = 512;
    std::int64_t eval_limit = 0;
    std::vector<std::string> datasets;  // "label=path" with absolute paths
    bool reference = true;
    std::vector<Recipe> recipes;       // the full-precision reference first when enabled
    std::vector<std::string> skipped;  // "<methods> <weights>: <reason>"

    // Throws QsError "<path>: <problem>".
    static SweepGrid load(const std::string& path);
    static SweepGrid from_yaml(const std::string& text, const std::string& source,
                               const std::string& base_dir);
};

}  // namespace qs
