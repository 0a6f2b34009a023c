#!/usr/bin/env bash
# quantscope --export-figures on a session made here by `quantscope-cli sweep` (stories260K, a
# tiny grid): every promised figure is written in every format and is valid (PDF one page of
# 89 mm with embedded fonts, SVG in millimetres, PNG of the requested DPI, CSV with rows), and
# errors (missing session, bad preset, unwritable folder) exit non-zero naming the culprit
# without writing anything. Usage: export_figures.sh <path-to-quantscope>
set -euo pipefail

quantscope=${1:?usage: export_figures.sh <path-to-quantscope>}
cli=$(dirname "$quantscope")/../cli/quantscope-cli
shared=${QS_SHARED:-$(dirname "$0")/../../../shared}
model=$shared/models/stories260K/hf
if [[ ! -f $model/config.json || ! -x $cli ]]; then
    echo "SKIP: stories260K or quantscope-cli not found ($model, $cli)"
    exit 0
fi
export QT_QPA_PLATFORM=offscreen

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat > "$tmp/grid.yaml" <<GRID
name: export-figures-test
calibration: {dataset: $shared/data/wikitext-2/valid.txt, samples: 4, seqlen: 64, seed: 0}
evaluation: {seqlen: 128, limit: 2, datasets: [wikitext2=$shared/data/wikitext-2-raw/wiki.test.raw]}
methods: [rtn, gptq]
weights: [int4-g32-asym, int3-g32-asym]
GRID
session=$tmp/study.h5
"$cli" sweep --model "$model" --grid "$tmp/grid.yaml" --session "$session" --quiet \
    > "$tmp/sweep.out" 2> "$tmp/sweep.err" || { cat "$tmp/sweep.err"; fail "sweep failed"; }

# A GPTQ experiment, so that the per-linear GPTQ figure exists too.
gptq=$(awk '/ gptq-int4-g32-asym:/ {print $2}' "$tmp/sweep.out")
[[ $gptq == exp-* ]] || fail "no gptq-int4-g32-asym experiment in the sweep output"
out=$tmp/figures
"$quantscope" --export-figures "$session" --out "$out" --preset one-column --dpi 150 \
    --experiment "$gptq" > "$tmp/export.out" 2> "$tmp/export.err" \
    || { cat "$tmp/export.err"; fail "export failed"; }
cat "$tmp/export.out"
grep -q "figures of $gptq " "$tmp/export.err" || fail "--experiment $gptq not used"

# Default selection: the quantized experiment with the lowest perplexity.
"$quantscope" --export-figures "$session" --out "$tmp/csv" --formats csv \
    > /dev/null 2> "$tmp/default.err" || { cat "$tmp/default.err"; fail "CSV export failed"; }
best=$(awk -F, 'NR > 1 && $2 != "fp16" {print $6, $1}' "$tmp/csv/pareto-wikitext2.csv" | sort -g | head -1 | cut -d' ' -f2)
grep -q "figures of $best " "$tmp/default.err" || { cat "$tmp/default.err"; fail "default is not the best experiment $best"; }
[[ -z $(ls "$tmp/csv" | grep -v '\.csv$') ]] || fail "--formats csv wrote other formats"

for stem in pareto-wikitext2 depth-error kurtosis-weights kurtosis-activations; do
    for ext in pdf svg png csv; do
        [[ -s $out/$stem.$ext ]] || fail "missing $stem.$ext"
        grep -qx "$out/$stem.$ext" "$tmp/export.out" || fail "$stem.$ext not printed"
    done
done
ls "$out"/gptq-column-error-L*.pdf > /dev/null 2>&1 || fail "no GPTQ column error figure"
ls "$out"/histogram-weights-L*.pdf > /dev/null 2>&1 || fail "no weight histogram figure"

python3 - "$out" <<'PY' || fail "invalid figure files"
import re, struct, sys, xml.etree.ElementTree as ET
from pathlib import Path
out = Path(sys.argv[1])
width_pt = 89 / 25.4 * 72
for pdf in out.glob("*.pdf"):
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF"), pdf
    assert len(re.findall(rb"/Type\s*/Page(?!s)", data)) == 1, f"{pdf}: not one page"
    box = [float(v) for v in re.search(rb"/MediaBox\s*\[([^\]]*)\]", data).group(1).split()]
    assert abs(box[2] - box[0] - width_pt) <= 1, f"{pdf}: {box}"
    assert b"/FontFile2" in data or b"/FontFile3" in data, f"{pdf}: fonts not embedded"
for svg in out.glob("*.svg"):
    root = ET.parse(svg).getroot()
    assert abs(float(root.get("width").removesuffix("mm")) - 89) < 0.3, svg
for png in out.glob("*.png"):
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", png
    width, height = struct.unpack(">II", head[16:24])
    assert abs(width - 89 / 25.4 * 150) <= 1 and abs(height - 60 / 25.4 * 150) <= 1, (png, width, height)
for csv in out.glob("*.csv"):
    lines = csv.read_text().splitlines()
    assert len(lines) >= 2 and "," in lines[0], csv
pareto = (out / "pareto-wikitext2.csv").read_text().splitlines()
assert pareto[0] == "id,name,dataset,size_bytes,bits_per_weight,ppl,on_frontier", pareto[0]
assert len(pareto) == 1 + 5, f"5 experiments expected, got {len(pareto) - 1}"
assert any(line.endswith(",1") for line in pareto[1:]), "no frontier point"
PY

# Errors: non-zero exit, the culprit named, nothing written.
expect_failure() {  # name, expected text, command...
    local name=$1 text=$2
    shift 2
    set +e
    "$@" > "$tmp/$name.out" 2> "$tmp/$name.err"
    local rc=$?
    set -e
    (( rc != 0 && rc < 128 )) || fail "$name: exit code $rc"
    grep -qF -- "$text" "$tmp/$name.err" || { cat "$tmp/$name.err"; fail "$name: message lacks $text"; }
}
expect_failure missing "$tmp/no-such.h5" "$quantscope" --export-figures "$tmp/no-such.h5" --out "$tmp/none"
[[ ! -e $tmp/none ]] || fail "output written for a missing session"
expect_failure preset "poster" "$quantscope" --export-figures "$session" --out "$tmp/none" --preset poster
touch "$tmp/file"
expect_failure folder "$tmp/file/sub" "$quantscope" --export-figures "$session" --out "$tmp/file/sub"
expect_failure experiment "exp-9999" "$quantscope" --export-figures "$session" --out "$tmp/none" --experiment exp-9999
[[ ! -e $tmp/none ]] || fail "output written for a bad option"

echo "OK: $(ls "$out" | wc -l) files"
