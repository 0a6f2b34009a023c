# eval on reference/story.txt at seqlen 512 reports 1.470701 within 1e-4 relative.
source "$(dirname "$0")/cli_common.bash"
require_shared
out=$("$CLI" eval --model "$MODEL" --dataset "$REF/story.txt" --seqlen 512 --json --quiet)
echo "$out"
ppl=$(echo "$out" | json_get ppl)
python3 -c "import sys; p=float(sys.argv[1]); sys.exit(0 if abs(p-1.470701)/1.470701 < 1e-4 else 1)" "$ppl" \
  || fail "ppl $ppl, expected 1.470701"
[ "$(echo "$out" | json_get windows)" = "1" ] || fail "expected 1 window"
[ "$(echo "$out" | json_get tokens)" = "62" ] || fail "expected 62 tokens"
# Text output prints the same number.
"$CLI" eval --model "$MODEL" --dataset "$REF/story.txt" --seqlen 512 --quiet | grep -q "perplexity 1.4707" \
  || fail "text output lacks the perplexity"
echo "OK: ppl $ppl"
