#!/usr/bin/env bash
# GUI smoke test: quantscope's screenshot mode on stories260K must write a PNG of the requested
# size with real content (an empty window compresses far below 20 KB), and must fail cleanly on
# a bad model folder. Usage: screenshot.sh <path-to-quantscope>
set -euo pipefail

quantscope=${1:?usage: screenshot.sh <path-to-quantscope>}
shared=${QS_SHARED:-$(dirname "$0")/../../../shared}
model=$shared/models/stories260K/hf
if [[ ! -f $model/config.json ]]; then
    echo "SKIP: stories260K not found at $model"
    exit 0
fi
export QT_QPA_PLATFORM=offscreen

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$quantscope" --model "$model" --screenshot "$tmp/shot.png" --size 1400x900 --timeout 60

[[ -f $tmp/shot.png ]] || { echo "FAIL: no PNG written"; exit 1; }
bytes=$(stat -c %s "$tmp/shot.png")
(( bytes > 20000 )) || { echo "FAIL: PNG is only $bytes bytes"; exit 1; }

# Width and height from the IHDR chunk: bytes 16..23 after the 8-byte signature + chunk header.
read -r signature width height < <(python3 - "$tmp/shot.png" <<'PY'
import struct, sys
with open(sys.argv[1], "rb") as f:
    head = f.read(24)
print(head[:8].hex(), *struct.unpack(">II", head[16:24]))
PY
)
[[ $signature == 89504e470d0a1a0a ]] || { echo "FAIL: not a PNG"; exit 1; }
if [[ $width != 1400 || $height != 900 ]]; then
    echo "FAIL: PNG is ${width}x${height}, expected 1400x900"
    exit 1
fi

# A folder without a model: non-zero exit and a message, no crash and no hang.
set +e
"$quantscope" --model "$tmp/no-such-model" --screenshot "$tmp/bad.png" --timeout 20 \
    2> "$tmp/stderr.txt"
rc=$?
set -e
if (( rc == 0 || rc > 128 )); then
    echo "FAIL: bad model folder gave exit code $rc"
    exit 1
fi
grep -q "no-such-model" "$tmp/stderr.txt" || { echo "FAIL: error does not name the folder"; cat "$tmp/stderr.txt"; exit 1; }
[[ ! -e $tmp/bad.png ]] || { echo "FAIL: a PNG was written for a bad model"; exit 1; }

# Session mode: every view of a session made here by `quantscope-cli sweep` (tiny grid).
cli=$(dirname "$quantscope")/../cli/quantscope-cli
cat > "$tmp/grid.yaml" <<GRID
name: screenshot-test
calibration: {dataset: $shared/data/wikitext-2/valid.txt, samples: 4, seqlen: 64, seed: 0}
evaluation: {seqlen: 128, limit: 2, datasets: [wikitext2=$shared/data/wikitext-2-raw/wiki.test.raw]}
methods: [rtn, gptq]
weights: [int4-g32-asym]
GRID
"$cli" sweep --model "$model" --grid "$tmp/grid.yaml" --session "$tmp/s.h5" --quiet > /dev/null
for view in layer kurtosis depth pareto compare; do
    "$quantscope" --session-file "$tmp/s.h5" --view "$view" --experiment best \
        --linear 1:mlp.down_proj --size 1200x800 --screenshot "$tmp/$view.png" --timeout 60
    bytes=$(stat -c %s "$tmp/$view.png")
    # A view with plots, tables and the tree is far above 30 KB; an empty window is not.
    (( bytes > 30000 )) || { echo "FAIL: $view screenshot is only $bytes bytes"; exit 1; }
done
set +e
"$quantscope" --session-file "$tmp/s.h5" --view nonsense --screenshot "$tmp/x.png" 2> "$tmp/stderr.txt"
rc=$?
set -e
(( rc == 2 )) || { echo "FAIL: an unknown --view gave exit code $rc"; exit 1; }
grep -q "view must be one of" "$tmp/stderr.txt" || { echo "FAIL: no message for a bad --view"; exit 1; }

echo "OK: ${width}x${height}, $bytes bytes; session views"
