# eval runs on WikiText-2 raw test (first 40 windows at seqlen 512 to keep the suite fast; the
# full run is in the issue note) and gives a sane perplexity with the requested window count.
source "$(dirname "$0")/cli_common.bash"
require_shared
out=$("$CLI" eval --model "$MODEL" --dataset "$SHARED/data/wikitext-2-raw/wiki.test.raw" --seqlen 512 --limit 40 --json --quiet)
echo "$out"
[ "$(echo "$out" | json_get windows)" = "40" ] || fail "expected 40 windows"
python3 -c "import sys; p=float(sys.argv[1]); sys.exit(0 if 1.5 < p < 1e4 else 1)" "$(echo "$out" | json_get ppl)" \
  || fail "implausible perplexity"
# PTB uses the space-joined protocol and must run too.
"$CLI" eval --model "$MODEL" --dataset "$SHARED/data/ptb/ptb.test.txt" --seqlen 256 --limit 4 --quiet >/dev/null \
  || fail "ptb eval failed"
echo OK
