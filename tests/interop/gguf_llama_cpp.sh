#!/usr/bin/env bash
# Interop: llama.cpp (through the npm package node-llama-cpp, which ships prebuilt llama.cpp
# binaries) runs the GGUF files quantscope-cli writes for stories260K. F32 must reproduce the
# reference greedy continuation (story.greedy.i32, from an independent implementation) exactly;
# Q8_0 and MXFP4 must load and generate, and their perplexity on story.tokens.i32 is printed.
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
# mxfp4-recipe: QuantScope's own MXFP4 values (recipe mxfp4-32), checked exact by the export.
printf 'name: mxfp4-32\nweights: mxfp4-32\n' > "$tmp/mxfp4.yaml"
for type in f32 q8_0 mxfp4 mxfp4-recipe; do
    recipe=()
    [[ $type == mxfp4-recipe ]] && recipe=(--recipe "$tmp/mxfp4.yaml")
    "$cli" export --model "$model" --format gguf --gguf-type "${type%-recipe}" "${recipe[@]}" \
        --out "$tmp/$type" --quiet > /dev/null
    gguf=$(ls "$tmp/$type"/*.gguf)
    (cd "$node_dir" && node llama_cpp_check.mjs "$gguf" "$reference/story.tokens.i32" \
        "$reference/story.greedy.i32" 64) > "$tmp/$type.json"
    echo "$type: $(cat "$tmp/$type.json" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("ppl %.4f, greedy prefix %d/%d" % (r["ppl"], r["matching_prefix"], r["expected"]))')"
done
python3 - "$tmp/f32.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["matching_prefix"] == r["expected"] == 64, f"F32 greedy differs from the reference: {r}"
# The reference perplexity of story.tokens.i32 (../shared/README.md): 1.470701.
assert abs(r["ppl"] - 1.470701) < 2e-3, f"F32 perplexity {r['ppl']} is not the reference 1.470701"
PY
echo "OK: llama.cpp reproduces the reference greedy tokens and perplexity from our F32 GGUF"
