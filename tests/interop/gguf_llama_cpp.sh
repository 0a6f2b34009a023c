#!/usr/bin/env bash
# Interop: llama.cpp (through the npm package node-llama-cpp, which ships prebuilt llama.cpp
# binaries) runs the GGUF files quantscope-cli writes for stories260K. F32 must reproduce the
# reference greedy continuation (story.greedy.i32, from an independent implementation) exactly;
# Q8_0, Q4_0 and MXFP4 (llama.cpp's rule and QuantScope recipes) must load and generate; their
# perplexity on story.tokens.i32 is printed, and a recipe export's perplexity must match
# QuantScope's for the same weights.
# Exit 77 (ctest: skipped) when node/npm or the package cannot be had (no network).
# Usage: gguf_llama_cpp.sh <path-to-quantscope-cli>
set -euo pipefail

cli=${1:?usage: gguf_llama_cpp.sh <path-to-quantscope-cli>}
here=$(cd "$(dirname "$0")" && pwd)
shared=${QS_SHARED:-$here/../../../shared}
model=$shared/models/stories260K/hf
reference=$shared/models/stories260K/reference
[[ -f $model/config.json ]] || { echo "SKIP: stories260K not found at $model"; exit 77; }
command -v npm > /dev/null || { echo "SKIP: npm not installed"; exit 77; }

# node-llama-cpp is installed once per build tree (about 20 s, 700 MB with its prebuilt
# binaries for every platform).
node_dir=${QS_NODE_DIR:-$(dirname "$cli")/../../interop-node}
mkdir -p "$node_dir"
if [[ ! -d $node_dir/node_modules/node-llama-cpp ]]; then
    (cd "$node_dir" && npm install --no-audit --no-fund --silent node-llama-cpp@3 > npm.log 2>&1) \
        || { echo "SKIP: npm install node-llama-cpp failed (no network?)"; tail -5 "$node_dir/npm.log"; exit 77; }
fi
cp "$here/llama_cpp_check.mjs" "$node_dir/"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() {  # check NAME FILE.gguf: llama.cpp's perplexity and greedy tokens as NAME.json
    (cd "$node_dir" && node llama_cpp_check.mjs "$2" "$reference/story.tokens.i32" \
        "$reference/story.greedy.i32" 64) > "$tmp/$1.json"
    echo "$1: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("llama.cpp ppl %.5f, greedy prefix %d/%d" % (r["ppl"], r["matching_prefix"], r["expected"]))' "$tmp/$1.json")"
}
# *-recipe: QuantScope's own quantized values, checked exact by the export: mxfp4-32 for MXFP4,
# symmetric INT with one fp16 scale per 32 weights for Q8_0 / Q4_0.
printf 'name: mxfp4-32\nweights: mxfp4-32\n' > "$tmp/mxfp4.yaml"
printf 'name: rtn-int8-g32-sym\nweights: int8-g32-sym\n' > "$tmp/q8_0.yaml"
printf 'name: rtn-int4-g32-sym\nweights: int4-g32-sym\n' > "$tmp/q4_0.yaml"
for type in f32 q8_0 q4_0 mxfp4 mxfp4-recipe q8_0-recipe q4_0-recipe; do
    recipe=()
    [[ $type == *-recipe ]] && recipe=(--recipe "$tmp/${type%-recipe}.yaml")
    "$cli" export --model "$model" --format gguf --gguf-type "${type%-recipe}" "${recipe[@]}" \
        --out "$tmp/$type" --quiet > /dev/null
    check "$type" "$(ls "$tmp/$type"/*.gguf)"
done
# The same INT weights as a float checkpoint (fake, fp16 scales): QuantScope's perplexity, and
# llama.cpp's on an F32 GGUF of them. The Q8_0 / Q4_0 files hold exactly these weights; llama.cpp
# multiplies them with activations it rounds to Q8_0, hence a small gap.
for type in q8_0 q4_0; do
    "$cli" export --model "$model" --format fake --fp16-scales --recipe "$tmp/$type.yaml" \
        --out "$tmp/$type-fake" --quiet > /dev/null
    "$cli" eval --model "$tmp/$type-fake" --dataset "$reference/story.txt" --seqlen 512 \
        --protocol plain --json --quiet > "$tmp/$type-quantscope.json"
    "$cli" export --model "$tmp/$type-fake" --format gguf --gguf-type f32 \
        --out "$tmp/$type-fake-f32" --quiet > /dev/null
    check "$type-fake-f32" "$(ls "$tmp/$type-fake-f32"/*.gguf)"
    echo "$type-fake: QuantScope ppl $(python3 -c 'import json,sys; print("%.5f" % json.load(open(sys.argv[1]))["ppl"])' "$tmp/$type-quantscope.json")"
done
python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
load = lambda name: json.load(open(f"{d}/{name}.json"))
r = load("f32")
assert r["matching_prefix"] == r["expected"] == 64, f"F32 greedy differs from the reference: {r}"
# The reference perplexity of story.tokens.i32 (../shared/README.md): 1.470701.
assert abs(r["ppl"] - 1.470701) < 2e-3, f"F32 perplexity {r['ppl']} is not the reference 1.470701"
for t, gap in (("q8_0", 0.005), ("q4_0", 0.01)):
    ours = load(f"{t}-quantscope")["ppl"]
    f32 = load(f"{t}-fake-f32")["ppl"]
    blocks = load(f"{t}-recipe")["ppl"]
    # llama.cpp on the F32 twin reproduces QuantScope's perplexity of the quantized weights.
    assert abs(f32 - ours) < 1e-3 * ours, f"{t}: llama.cpp F32 ppl {f32} vs QuantScope {ours}"
    # The block file holds the same linears; llama.cpp's Q8_0 activations and the F16
    # embeddings make the difference.
    assert abs(blocks - ours) < gap * ours, f"{t}: llama.cpp {t} ppl {blocks} vs QuantScope {ours}"
PY
echo "OK: llama.cpp reproduces the reference greedy tokens and perplexity from our F32 GGUF, and QuantScope's perplexity of its Q8_0 / Q4_0 recipe weights"
