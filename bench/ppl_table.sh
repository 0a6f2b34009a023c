#!/usr/bin/env bash
# WikiText-2 test perplexity (seqlen 512) of stories260K under the issue's recipe matrix,
# calibrated on WikiText-2 valid (128 x 512 tokens, seed 0). Prints a Markdown table.
#   usage: bench/ppl_table.sh [path/to/quantscope-cli] [out-dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cli=${1:-$root/build/release/app/cli/quantscope-cli}
work=${2:-$(mktemp -d)}
shared=${QS_SHARED:-$root/../shared}
model=$shared/models/stories260K/hf
test_set=$shared/data/wikitext-2-raw/wiki.test.raw
calib=$shared/data/wikitext-2/valid.txt
mkdir -p "$work"

row() {  # row NAME METHODS WEIGHTS [ACTIVATIONS]
  local name=$1 methods=$2 weights=$3 acts=${4:-}
  local extra=()
  [ -n "$acts" ] && extra=(--activations "$acts")
  local start=$(date +%s.%N)
  local json
  json=$("$cli" quantize --model "$model" --out "$work/$name" --force --methods "$methods" --weights "$weights" \
    "${extra[@]}" --calib "$calib" --samples 128 --calib-seqlen 512 --seed 0 \
    --eval "$test_set" --seqlen 512 --json --quiet)
  local secs=$(python3 -c "import json,sys; print('%.1f' % json.loads(sys.argv[1])['seconds'])" "$json")
  local ppl=$(python3 -c "import json,sys; print('%.3f' % json.loads(sys.argv[1])['ppl'])" "$json")
  printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$methods" "$weights" "${acts:-fp32}" "$ppl" "$secs"
  rm -rf "$work/$name"
}

fp=$("$cli" eval --model "$model" --dataset "$test_set" --seqlen 512 --json --quiet |
  python3 -c "import json,sys; print('%.3f' % json.load(sys.stdin)['ppl'])")
echo "| recipe | methods | weights | activations | wikitext-2 ppl | quantize s |"
echo "|---|---|---|---|---|---|"
echo "| fp32 | - | fp32 | fp32 | $fp | - |"
for m in rtn gptq awq; do
  for w in int4-g32-asym int3-g32-asym mxint4-32 mxint3-32; do
    row "$m-$w" "$m" "$w"
  done
done
row "sq-w8a8" "smoothquant,rtn" int8-channel-sym int8-token-sym
row "awq+gptq-w4g32-a-mxint8" "awq,gptq" int4-g32-asym mxint8-32
row "sq+gptq-w4g32-a-mxint8" "smoothquant,gptq" int4-g32-asym mxint8-32
row "awq+gptq-mxint4-a-mxint8" "awq,gptq" mxint4-32 mxint8-32
row "sq+gptq-mxint4-a-mxint8" "smoothquant,gptq" mxint4-32 mxint8-32
row "gptq+awq-w4g32 (reversed)" "gptq,awq" int4-g32-asym
