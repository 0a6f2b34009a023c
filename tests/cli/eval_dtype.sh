# eval --dtype: bf16 runs the model in bfloat16 (ppl within 1 % of the float32 1.470701 on
# reference/story.txt, JSON says so); a value other than fp32, bf16 or fp16 is a usage error.
source "$(dirname "$0")/cli_common.bash"
require_shared
out=$("$CLI" eval --model "$MODEL" --dataset "$REF/story.txt" --seqlen 512 --dtype bf16 --json --quiet)
echo "$out"
ppl=$(echo "$out" | json_get ppl)
python3 -c "import sys; p=float(sys.argv[1]); sys.exit(0 if abs(p-1.470701)/1.470701 < 0.01 else 1)" "$ppl" \
  || fail "bf16 ppl $ppl, expected 1.470701 within 1 %"
[ "$(echo "$out" | json_get dtype)" = '"bf16"' ] || fail "JSON does not say dtype bf16"
fp32=$("$CLI" eval --model "$MODEL" --dataset "$REF/story.txt" --seqlen 512 --json --quiet | json_get ppl)
[ "$fp32" != "$ppl" ] || fail "bf16 gave the float32 ppl $fp32 bit for bit: dtype not applied"
# A bad value: exit 2, one line naming the option and the accepted values.
set +e
"$CLI" eval --model "$MODEL" --dataset "$REF/story.txt" --dtype fp64 >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
[ $rc -eq 2 ] || { cat "$TMP/err"; fail "--dtype fp64: exit $rc, expected 2"; }
grep -qF -- "--dtype expects fp32, bf16 or fp16" "$TMP/err" || { cat "$TMP/err"; fail "unclear error"; }
echo "OK: bf16 ppl $ppl (fp32 $fp32); $(head -1 "$TMP/err")"
