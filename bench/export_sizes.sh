#!/usr/bin/env bash
# Size on disk of every checkpoint format against the bits per weight the analysis computes
# (core/analysis/model_size.h), for stories260K and for a random-initialised one-layer model of
# Llama-2-7B shapes (hidden 4096, MLP 11008, vocab 32000). RTN recipes: the size does not depend
# on the method. Usage: bench/export_sizes.sh [build/release/app/cli/quantscope-cli] [WORKDIR]
set -euo pipefail
cli=${1:-build/release/app/cli/quantscope-cli}
work=${2:-$(mktemp -d)}
shared=${QS_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
mkdir -p "$work"
[[ -d $work/llama7b-layer ]] ||
    "$cli" synth --preset llama-2-7b --layers 1 --out "$work/llama7b-layer" \
        --tokenizer-from "$shared/models/llama2-tokenizer" > /dev/null
recipe() { printf 'name: %s\nweights: %s\n' "$1" "$1" > "$work/$1.yaml"; echo "$work/$1.yaml"; }
printf '%-16s %-30s %14s %14s %8s %8s\n' model "format (recipe)" "disk bytes" "analysis bytes" \
    disk/ana "bits/w"
for model in "$shared/models/stories260K/hf" "$work/llama7b-layer"; do
    tag=$(basename "$(dirname "$model")")
    g=32  # stories260K's hidden size is 64
    [[ $model == */llama7b-layer ]] && tag=llama7b-layer && g=128
    for job in "gptq int4-g$g-asym" "gptq int4-g32-sym" "awq int4-g$g-asym" \
        "compressed-tensors int4-g$g-asym" "compressed-tensors int8-channel-sym" \
        "mx mxfp4-32" "mx mxint8-32" "gguf:q4_0 int4-g32-sym" "gguf:q8_0 int8-g32-sym" \
        "gguf:mxfp4 mxfp4-32"; do
        format=${job%% *}
        weights=${job#* }
        out=$work/out-$tag-${format/:/-}-$weights
        rm -rf "$out"
        if [[ $format == gguf:* ]]; then
            args=(--format gguf --gguf-type "${format#gguf:}")
        else
            args=(--format "$format")
        fi
        json=$("$cli" export --model "$model" --recipe "$(recipe "$weights")" "${args[@]}" \
            --out "$out" --json --quiet)
        python3 - "$tag" "$format ($weights)" "$json" <<'PY'
import json, sys
tag, what, j = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
print("%-16s %-30s %14d %14d %8.4f %8.3f" % (tag, what, j["bytes"], j["model_size_bytes"],
      j["bytes"] / j["model_size_bytes"], j["linear_bits_per_weight"]))
PY
        rm -rf "$out"
    done
done
