# docs/tutorial.md end to end: every ```sh block of the tutorial, in order, as one script run
# from the source folder (as a reader would) with quantscope-cli and quantscope from this build
# tree first on PATH, the shared data from QS_SHARED and the tutorial's folder under $TMP. Then
# every file the tutorial's "What you have now" list promises is checked for something real,
# and the printed perplexities are finite, the quantized ones worse than the baseline.
# The line that opens the window interactively ("# opens the window") runs with --screenshot
# instead. Without the GUI binary, `quantscope` is a stub that says SKIP and the figures and
# screenshots are not checked. Given /usr/bin/quantscope-cli it runs the installed package
# (quantscope is then the one beside it; installer/test_deb_install.sh does that).
source "$(dirname "$0")/cli_common.bash"
require_shared
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DOC=$ROOT/docs/tutorial.md
CLI_DIR=$(cd "$(dirname "$CLI")" && pwd)
GUI=$CLI_DIR/../gui/quantscope          # build tree: app/cli and app/gui
[ -x "$GUI" ] || GUI=$CLI_DIR/quantscope  # installed: both in /usr/bin
BIN=$TMP/bin
mkdir -p "$BIN"
ln -s "$CLI_DIR/quantscope-cli" "$BIN/quantscope-cli"
if [ -x "$GUI" ]; then
  have_gui=1
  ln -s "$(cd "$(dirname "$GUI")" && pwd)/quantscope" "$BIN/quantscope"
else
  have_gui=0
  printf '#!/bin/sh\necho "SKIP (no GUI in this build): quantscope $*"\n' > "$BIN/quantscope"
  chmod +x "$BIN/quantscope"
fi

# 1. The ```sh blocks, in order; the interactive line becomes an offscreen screenshot.
python3 - "$DOC" "$TMP/tutorial-run.sh" <<'PY' || fail "cannot extract the sh blocks"
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M)
assert len(blocks) >= 8, "expected the tutorial's sh blocks, found %d" % len(blocks)
script = ["set -euo pipefail"]
interactive = 0
for i, block in enumerate(blocks, 1):
    script.append("echo '### tutorial block %d' >&2" % i)
    for line in block.splitlines():
        if line.startswith("quantscope ") and "# opens the window" in line:
            command = line.split("#")[0].strip()
            line = 'QT_QPA_PLATFORM=offscreen %s --screenshot "$TUTORIAL_WINDOW_PNG"' % command
            interactive += 1
        script.append(line)
assert interactive == 1, "expected one line that opens the window, found %d" % interactive
open(sys.argv[2], "w").write("\n".join(script) + "\n")
PY

start=$(date +%s)
(cd "$ROOT" && PATH="$BIN:$PATH" TMPDIR="$TMP" QS_SHARED="$SHARED" OMP_WAIT_POLICY=passive \
  TUTORIAL_WINDOW_PNG="$TMP/window.png" bash "$TMP/tutorial-run.sh" > "$TMP/out.txt" 2> "$TMP/err.txt") \
  || { tail -30 "$TMP/err.txt"; fail "a tutorial command failed (last block: $(grep '^### tutorial block' "$TMP/err.txt" | tail -1))"; }
echo "tutorial ran in $(( $(date +%s) - start )) s"
W=$TMP/qs-tutorial
[ -d "$W" ] || fail "the tutorial did not work in \$TMPDIR/qs-tutorial"

# 2. Perplexities: the first is the baseline (step 2), every later one is a quantized model;
#    the last two (GPTQ checkpoint and GGUF Q4_0, both imported) hold the same codes.
grep '^perplexity' "$TMP/out.txt"
python3 - "$TMP/out.txt" <<'PY' || fail "perplexities"
import math, re, sys
ppl = [float(m) for m in re.findall(r"^perplexity (\S+)", open(sys.argv[1]).read(), re.M)]
assert len(ppl) >= 5, "expected at least 5 perplexities, got %s" % ppl
assert all(math.isfinite(p) and p > 1 for p in ppl), ppl
base = ppl[0]
assert all(p > base for p in ppl[1:]), "a quantized model beats the baseline %s: %s" % (base, ppl)
a, b = ppl[-2:]
assert abs(a - b) / a < 0.005, "imported GPTQ %s and GGUF Q4_0 %s differ" % (a, b)
PY

# 3. Every file the tutorial promises: the backticked paths before the colon of each item of
#    "What you have now" (globs allowed).
python3 - "$DOC" > "$TMP/promised.txt" <<'PY' || fail "no 'What you have now' list"
import re, sys
text = open(sys.argv[1]).read()
section = text.split("## What you have now", 1)[1].split("\n## ", 1)[0]
paths = []
for line in section.splitlines():
    if line.startswith("- "):
        paths += re.findall(r"`([^`]+)`", line.split(": ", 1)[0])
assert len(paths) >= 10, paths
print("\n".join(paths))
PY
checked=0
while read -r pattern; do
  if [ $have_gui = 0 ] && { [[ $pattern == figures/* ]] || [[ $pattern == *.png ]]; }; then
    echo "SKIP (no GUI): $pattern"; continue
  fi
  # shellcheck disable=SC2206
  matches=( $W/$pattern )
  [ -e "${matches[0]}" ] || fail "promised but missing: $pattern"
  for f in "${matches[@]}"; do
    f=${f%/}
    if [ -d "$f" ]; then
      [ -s "$f/config.json" ] || fail "$pattern: no config.json"
      ls "$f"/*.safetensors > /dev/null 2>&1 || fail "$pattern: no safetensors"
      case "$f" in
        *-imported) want='"quantization_config" not in c' ;;  # float again
        *-packed) want='(c["quantization_config"]["quant_method"], c["quantization_config"]["bits"], c["quantization_config"]["group_size"], c["quantization_config"]["sym"]) == ("gptq", 4, 32, True)' ;;
        *-layer2) want='"layers: [2, 2]" in c["quantization_config"]["recipe"]' ;;
        *) want='c["quantization_config"]["weights"] == "int4-g32-sym"' ;;
      esac
      python3 -c "import json,sys; c=json.load(open(sys.argv[1]+'/config.json')); assert $want, c.get('quantization_config')" "$f" \
        || fail "$pattern: config.json quantization_config is not what the tutorial says"
      if [[ $f == *-layer2 ]]; then  # layer 2 quantized, the others exactly as in the model
        python3 - "$f" "$MODEL" <<'PY' || fail "$pattern: not GPTQ on layer 2 only"
import glob, json, struct, sys
def tensors(d):
    out = {}
    for p in glob.glob(d + "/*.safetensors"):
        f = open(p, "rb"); n = struct.unpack("<Q", f.read(8))[0]; h = json.loads(f.read(n)); data = f.read()
        for k, v in h.items():
            if k != "__metadata__": out[k] = data[v["data_offsets"][0]:v["data_offsets"][1]]
    return out
q, m = tensors(sys.argv[1]), tensors(sys.argv[2])
for layer in range(5):
    for mod in ("self_attn.q_proj", "mlp.down_proj"):
        k = "model.layers.%d.%s.weight" % (layer, mod)
        assert (q[k] != m[k]) == (layer == 2), (k, "changed" if q[k] != m[k] else "unchanged")
PY
      fi
      checked=$((checked + 1)); continue
    fi
    [ -s "$f" ] || fail "$pattern: empty"
    case "$f" in
      *.yaml)
        grep -q '^methods: \[' "$f" || fail "$pattern: not a recipe" ;;
      *.csv)
        [ "$(wc -l < "$f")" = 8 ] || fail "$pattern: expected a header and 7 rows" ;;
      *.h5)
        h5ls "$f/experiments" > "$TMP/h5.txt" || fail "$pattern: h5ls cannot read /experiments"
        [ "$(grep -c '^exp-' "$TMP/h5.txt")" = 7 ] || fail "$pattern: expected 7 experiments"
        h5ls -r "$f" > "$TMP/h5r.txt"  # to a file: grep -q would cut the pipe (pipefail)
        grep -q '^/experiments/exp-0005/layers/layer_002/mlp.down_proj/gptq_column_error' "$TMP/h5r.txt" \
          || fail "$pattern: no GPTQ column error of exp-0005" ;;
      *.gguf)
        # Header, metadata and tensor infos (GGUF v3 layout): the linears must be Q4_0 (type 2).
        python3 - "$f" > "$TMP/gguf.txt" <<'PY' || fail "$pattern: not a GGUF file with Q4_0 tensors"
import struct, sys
d = open(sys.argv[1], "rb").read()
assert d[:4] == b"GGUF", d[:4]
version, n_tensors, n_kv = struct.unpack_from("<IQQ", d, 4)
pos = 24
def string():
    global pos
    n, = struct.unpack_from("<Q", d, pos); pos += 8 + n
    return d[pos - n:pos].decode()
SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
def value(t):
    global pos
    if t == 8: string()
    elif t == 9:
        et, n = struct.unpack_from("<IQ", d, pos); pos += 12
        for _ in range(n): value(et)
    else: pos += SIZES[t]
for _ in range(n_kv):
    string(); t, = struct.unpack_from("<I", d, pos); pos += 4; value(t)
types = {}
for _ in range(n_tensors):
    string(); nd, = struct.unpack_from("<I", d, pos); pos += 4 + 8 * nd
    t, = struct.unpack_from("<I", d, pos); pos += 12
    types[t] = types.get(t, 0) + 1
print("version", version, "tensors", n_tensors, "types", types)
assert types.get(2, 0) >= 30, "expected Q4_0 (type 2) tensors: %s" % types
PY
        cat "$TMP/gguf.txt" ;;
      *.pdf)
        [ "$(head -c 5 "$f")" = "%PDF-" ] || fail "$pattern: not a PDF"
        [[ $(tail -c 32 "$f" | tr -d '\0') == *%%EOF* ]] || fail "$pattern: truncated PDF"
        if command -v pdfinfo > /dev/null; then
          pdfinfo "$f" > "$TMP/pdfinfo.txt" && grep -q '^Pages: *1$' "$TMP/pdfinfo.txt" || fail "$pattern: pdfinfo"
        fi ;;
      *.svg)
        python3 -c 'import sys,xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); assert r.tag.endswith("svg") and len(list(r.iter()))>20' "$f" \
          || fail "$pattern: not an SVG with content" ;;
      *.png)
        python3 -c '
import struct,sys
d=open(sys.argv[1],"rb").read()
assert d[:8]==b"\x89PNG\r\n\x1a\n" and d[12:16]==b"IHDR"
w,h=struct.unpack(">II",d[16:24]); assert w>=300 and h>=200, (w,h)' "$f" || fail "$pattern: not a PNG of a figure" ;;
    esac
    checked=$((checked + 1))
  done
done < "$TMP/promised.txt"
echo "OK: $checked promised files checked"
