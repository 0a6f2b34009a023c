# sweep + report on stories260K: a 17-recipe grid (16 quantized + the fp16 reference) written to
# an HDF5 session; SIGKILL in the middle leaves a session that opens with every completed
# experiment; --resume finishes it; h5ls shows the documented layout; report lists the frontier.
source "$(dirname "$0")/cli_common.bash"
require_shared
cat > "$TMP/grid.yaml" <<GRID
name: test-sweep
calibration: {dataset: $SHARED/data/wikitext-2/valid.txt, samples: 8, seqlen: 128, seed: 0}
evaluation: {seqlen: 256, limit: 6, datasets: [wikitext2=$SHARED/data/wikitext-2-raw/wiki.test.raw, ptb=$SHARED/data/ptb/ptb.test.txt]}
methods: [rtn, gptq, awq, [awq, gptq]]
weights: [int4-g32-asym, int3-g32-asym, mxint4-32, mxfp4-32]
GRID
S=$TMP/study.h5

# 1. Start, kill -9 after two experiments have completed.
"$CLI" sweep --model "$MODEL" --grid "$TMP/grid.yaml" --session "$S" --quiet > "$TMP/sweep1.out" 2> "$TMP/sweep1.err" &
pid=$!
for _ in $(seq 1 600); do
  [ "$(grep -c '^\[' "$TMP/sweep1.out" 2>/dev/null || true)" -ge 2 ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
kill -9 $pid 2>/dev/null || fail "sweep finished before it could be killed"
wait $pid 2>/dev/null || true
completed=$(grep -c '^\[' "$TMP/sweep1.out")
echo "killed after $completed completed experiment(s)"
"$CLI" report --session "$S" --csv "$TMP/partial.csv" > "$TMP/partial.md" || fail "killed session does not open"
rows=$(grep -c '^| exp-' "$TMP/partial.md")
[ "$rows" -ge "$completed" ] || fail "session lost experiments: $rows < $completed"
[ "$rows" -le $((completed + 1)) ] || fail "session holds $rows experiments, more than completed+1"

# 2. Resume: the rest of the grid, nothing twice.
"$CLI" sweep --model "$MODEL" --grid "$TMP/grid.yaml" --session "$S" --quiet 2>/dev/null \
  && fail "sweep over an existing session without --resume must refuse"
# The session records its compute dtype: resuming in another one is refused, naming both.
"$CLI" sweep --model "$MODEL" --grid "$TMP/grid.yaml" --session "$S" --resume --dtype bf16 --quiet \
  > /dev/null 2> "$TMP/dtype.err" && fail "resume with another --dtype must refuse"
grep -qF "was made with --dtype fp32, not bf16" "$TMP/dtype.err" || { cat "$TMP/dtype.err"; fail "unclear dtype refusal"; }
"$CLI" sweep --model "$MODEL" --grid "$TMP/grid.yaml" --session "$S" --resume --quiet > "$TMP/sweep2.out" 2> "$TMP/sweep2.err" \
  || { cat "$TMP/sweep2.err"; fail "resume failed"; }
"$CLI" report --session "$S" > "$TMP/report.md" || fail "report failed"
cat "$TMP/report.md"
[ "$(grep -c '^| exp-' "$TMP/report.md")" = 17 ] || fail "expected 17 experiments"
[ "$(cut -d'|' -f3 "$TMP/report.md" | grep -c '^ ')" -ge 17 ] || true
[ "$(grep '^| exp-' "$TMP/report.md" | cut -d'|' -f3 | sort | uniq -d | wc -l)" = 0 ] || fail "a recipe ran twice"
grep -q '| fp16 |' "$TMP/report.md" || fail "no fp16 reference row"
grep -q ' yes |$' "$TMP/report.md" || fail "no frontier point"
# The lowest wikitext2 perplexity and the smallest size are always on the frontier.
python3 - "$TMP/report.md" <<'PY' || fail "frontier misses the best or the smallest point"
import sys
rows = [l.split('|') for l in open(sys.argv[1]) if l.startswith('| exp-')]
pts = [(float(r[8]), float(r[9]), r[-2].strip() == 'yes') for r in rows]
best = min(pts, key=lambda p: (p[1], p[0]))
smallest = min(pts, key=lambda p: (p[0], p[1]))
assert best[2] and smallest[2], (best, smallest)
for s, p, on in pts:  # the report's marks agree with the definition
    dominated = any(s2 <= s and p2 <= p and (s2 < s or p2 < p) for s2, p2, _ in pts)
    assert on == (not dominated), (s, p, on)
PY
[ -f "${S%.h5}.csv" ] || fail "report wrote no CSV"
[ "$(wc -l < "${S%.h5}.csv")" = 18 ] || fail "CSV should have a header and 17 rows"
[ ! -e "$S.work" ] || fail "work directory left behind"

# 3. The documented layout, seen by the HDF5 tools.
if command -v h5ls >/dev/null; then
  h5ls -r "$S" > "$TMP/h5ls.txt"
  for path in /baseline/layer_000/self_attn.q_proj /experiments/exp-0002/depth/cosine \
              /experiments/exp-0002/layers/layer_004/mlp.down_proj/weight_stats/input; do
    grep -q "^$path" "$TMP/h5ls.txt" || fail "h5ls -r lacks $path"
  done
  grep -q "gptq_column_error" "$TMP/h5ls.txt" || fail "no per-column GPTQ error stored"
  h5dump -H "$S" > /dev/null || fail "h5dump -H failed"
fi
echo "OK: 17 experiments, killed after $completed and resumed"
