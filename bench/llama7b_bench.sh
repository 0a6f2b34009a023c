#!/usr/bin/env bash
# Issue 8 pipeline benchmark on a random-initialised model of Llama-2-7B shapes: writes the model
# once (quantscope-cli synth --preset llama-2-7b, F16 safetensors, Llama-2 tokenizer), runs
# bench/pipeline_7b on it (matmul rate, WikiText-2 eval, GPTQ W4 g128, AWQ W4 g128) and prints a
# Markdown table of every results-*.json in OUTDIR (so phases run as separate calls add up).
#   usage: bench/llama7b_bench.sh CLI_DIR OUTDIR [pipeline_7b args...]
#     CLI_DIR  the folder holding quantscope-cli (build/release/app/cli) or the build folder
#              (build/release); pipeline_7b is looked up in <build>/bench/ ($PIPELINE overrides)
#     OUTDIR   work folder: model-L<layers>/ (kept and reused), quantized/ (removed after each
#              method unless --keep), results-<phases>.json, pipeline-<phases>.log
#   environment: LAYERS (default 32; 2 for the scaled CPU run), QS_SHARED (default ../shared)
#   examples:
#     GPU, full:   bench/llama7b_bench.sh build/release /tmp/qs7b --device cuda:0
#     CPU, scaled: LAYERS=2 bench/llama7b_bench.sh build/release /tmp/qs7b \
#                      --calib-samples 8 --eval-windows 4
set -euo pipefail
if [ $# -lt 2 ]; then
  sed -n '2,16p' "$0" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
cli_dir=$1 outdir=$2
shift 2
if [ -x "$cli_dir/app/cli/quantscope-cli" ]; then build=$cli_dir; cli=$cli_dir/app/cli/quantscope-cli
else build=$(cd "$cli_dir/../.." && pwd); cli=$cli_dir/quantscope-cli; fi
pipeline=${PIPELINE:-$build/bench/pipeline_7b}
[ -x "$cli" ] || { echo "no quantscope-cli in $cli_dir" >&2; exit 2; }
[ -x "$pipeline" ] || { echo "no pipeline_7b at $pipeline (build the target pipeline_7b)" >&2; exit 2; }
export QS_SHARED=${QS_SHARED:-$root/../shared}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
layers=${LAYERS:-32}
model=$outdir/model-L$layers
mkdir -p "$outdir"

if [ ! -f "$model/config.json" ]; then
  echo "writing the random Llama-2-7B-shaped model ($layers layers, F16) to $model" >&2
  start=$(date +%s.%N)
  "$cli" synth --preset llama-2-7b --layers "$layers" --seed 0 \
    --tokenizer-from "$QS_SHARED/models/llama2-tokenizer" --out "$model"
  echo "synth: $(python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" \
    "$start" "$(date +%s.%N)") s, $(du -sh "$model" | cut -f1)" >&2
fi

# The phases this call runs name its result files, so separate calls (one per phase on a
# machine with a per-command time limit) keep each other's results.
phases=matmul,eval,gptq,awq
args=("$@")
for ((i = 0; i < ${#args[@]}; ++i)); do
  [ "${args[$i]}" = --phases ] && phases=${args[$((i + 1))]}
done
tag=${phases//,/-}
"$pipeline" --model "$model" --out "$outdir/quantized" --json "$outdir/results-$tag.json" "$@" \
  2>&1 | tee "$outdir/pipeline-$tag.log"

python3 - "$outdir" <<'EOF'
import glob, json, os, sys
rows = []
def gib(b): return "%.2f GiB" % (b / 2**30)
def mem(j):
    m = j.get("memory", {})
    if "device_peak_allocated_bytes" in m:
        return "device peak %s" % gib(m["device_peak_allocated_bytes"])
    return "host peak anon +%s (RSS %s)" % (
        gib(m["host_peak_anon_bytes"] - m["host_anon_start_bytes"]), gib(m["host_peak_rss_bytes"]))
for path in sorted(glob.glob(os.path.join(sys.argv[1], "results-*.json"))):
    r = json.load(open(path))
    where = "%s, %s, %d layers" % (r["device"], r["dtype"], r["model"]["layers"])
    budget = r["budget"]["total_bytes"]
    mm = r.get("matmul")
    if mm:
        names = [k[:-len("_tflops")] for k in mm if k.endswith("_tflops")]
        rows.append(("matmul " + ", ".join("%s %d^3" % (n, mm[n + "_n"]) for n in names), where,
                     "-", "-", ", ".join("%s %.2f" % (n, mm[n + "_tflops"]) for n in names) +
                     " TFLOP/s", "-", "-"))
    e = r.get("eval")
    if e:
        parts = []
        if "fraction_of_dtype_matmul" in e:
            parts.append("%.1f %% of %s mm" % (100 * e["fraction_of_dtype_matmul"], r["dtype"]))
        if "fraction_of_bf16_matmul" in e:
            parts.append("%.1f %% of bf16 mm" % (100 * e["fraction_of_bf16_matmul"]))
        frac = ", ".join(parts) or "no matmul phase"
        em = e["memory"]
        peak = em.get("device_peak_allocated_bytes",
                      em["host_peak_anon_bytes"] - em["host_anon_start_bytes"])
        rows.append(("eval %d x %d (ppl %.1f)" % (e["windows"], e["seqlen"], e["ppl"]), where,
                     "%.1f s" % e["wall_seconds"], "%.0f" % e["tokens_per_second"],
                     "%.3f TFLOP/s (%s)" % (e["tflops"], frac), mem(e),
                     "%.2fx of %s" % (peak / e["budget_bytes"], gib(e["budget_bytes"]))))
    for method in ("gptq", "awq"):
        q = r.get(method)
        if not q: continue
        qm = q["memory"]
        peak = qm.get("device_peak_allocated_bytes",
                      qm["host_peak_anon_bytes"] - qm["host_anon_start_bytes"])
        layers = q["layer_seconds"]
        rows.append(("%s %d tokens" % (q["recipe"], q["calibration_tokens"]), where,
                     "%.1f s (%.1f s/layer)" % (q["wall_seconds"], sum(layers) / max(1, len(layers))),
                     "%.0f" % (q["calibration_tokens"] / q["wall_seconds"]), "-", mem(q),
                     "%.2fx of %s" % (peak / budget, gib(budget))))
print("| phase | run | wall | tokens/s | rate | memory peak | vs 2 layers + activations |")
print("|---|---|---|---|---|---|---|")
for row in rows:
    print("| " + " | ".join(row) + " |")
EOF
