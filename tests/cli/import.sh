# import end to end: an 8-bit AutoGPTQ v1 checkpoint of stories260K written here with the Python
# standard library (qweight/qzeros packed as AutoGPTQ's QuantLinear.pack does, zeros stored
# minus one) is imported, opens in info/eval/generate with its tokenizer, and its perplexity
# stays within 2% of the float model; errors name the file; an existing target needs --force.
source "$(dirname "$0")/cli_common.bash"
require_shared

python3 - "$MODEL" "$TMP/gptq" <<'PY' || fail "writing the GPTQ checkpoint"
import array, json, os, shutil, struct, sys
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out)
data = open(src + "/model.safetensors", "rb").read()
n = struct.unpack("<Q", data[:8])[0]
hdr = json.loads(data[8:8 + n])
f16 = lambda x: struct.unpack("<H", struct.pack("<e", x))[0]
unf16 = lambda h: struct.unpack("<e", struct.pack("<H", h))[0]
u2i = lambda w: struct.unpack("<i", struct.pack("<I", w))[0]
tensors = {}
for name, info in hdr.items():
    if name == "__metadata__": continue
    b, e = info["data_offsets"]
    a = array.array("f"); a.frombytes(data[8 + n + b: 8 + n + e])
    if "_proj.weight" not in name:
        tensors[name] = ("F32", info["shape"], a.tobytes()); continue
    o, i = info["shape"]; mod = name[:-len(".weight")]
    scales, zeros, codes = [], [], []
    for r in range(o):   # per output row, asymmetric 8-bit, zero in [1, 255] (v1 cannot hold 0)
        row = a[r * i:(r + 1) * i]; lo = min(0.0, min(row)); hi = max(0.0, max(row))
        s = unf16(f16((hi - lo) / 255.0)); z = max(1, min(255, round(-lo / s)))
        scales.append(f16(s)); zeros.append(z)
        codes.append([max(0, min(255, round(x / s) + z)) for x in row])
    qweight = [u2i(sum(codes[r][4 * w + k] << (8 * k) for k in range(4)))
               for w in range(i // 4) for r in range(o)]
    qzeros = [u2i(sum((zeros[4 * w + k] - 1) << (8 * k) for k in range(4))) for w in range(o // 4)]
    tensors[mod + ".qweight"] = ("I32", [i // 4, o], array.array("i", qweight).tobytes())
    tensors[mod + ".qzeros"] = ("I32", [1, o // 4], array.array("i", qzeros).tobytes())
    tensors[mod + ".scales"] = ("F16", [1, o], array.array("H", scales).tobytes())
    tensors[mod + ".g_idx"] = ("I32", [i], array.array("i", [0] * i).tobytes())
header, blobs, off = {}, [], 0
for name in sorted(tensors):
    dt, shape, b = tensors[name]
    header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(b)]}
    off += len(b); blobs.append(b)
h = json.dumps(header).encode(); h += b" " * (-len(h) % 8)
with open(out + "/model.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
cfg = json.load(open(src + "/config.json"))
cfg["quantization_config"] = {"quant_method": "gptq", "bits": 8, "group_size": -1,
                              "desc_act": False, "sym": False, "checkpoint_format": "gptq"}
json.dump(cfg, open(out + "/config.json", "w"))
for f in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]:
    shutil.copy(src + "/" + f, out + "/" + f)
PY

out=$("$CLI" import --in "$TMP/gptq" --out "$TMP/imported" --json)
echo "$out"
[ "$(echo "$out" | json_get format)" = '"gptq"' ] || fail "format"
[ "$(echo "$out" | json_get dequantized_tensors)" = "35" ] || fail "expected 35 linears"
[ "$(echo "$out" | json_get tokenizer)" = "true" ] || fail "tokenizer not copied"
python3 - "$TMP/imported/config.json" <<'PY' || fail "config.json"
import json, sys
c = json.load(open(sys.argv[1]))
assert "quantization_config" not in c, c
assert c["quantscope_imported_from"]["format"] == "gptq", c
PY
"$CLI" info --model "$TMP/imported" | grep -q "layers:       5" || fail "info"
"$CLI" generate --model "$TMP/imported" --prompt "Once upon a time" --quiet >/dev/null || fail "generate"
ref=$("$CLI" eval --model "$MODEL" --dataset "$REF/story.txt" --seqlen 512 --json --quiet | json_get ppl)
ppl=$("$CLI" eval --model "$TMP/imported" --dataset "$REF/story.txt" --seqlen 512 --json --quiet | json_get ppl)
python3 -c "import sys; a, b = map(float, sys.argv[1:]); sys.exit(0 if abs(a - b) / b < 0.02 else 1)" "$ppl" "$ref" \
  || fail "imported ppl $ppl vs float $ref"
echo "ok: imported ppl $ppl, float $ref"

# An existing target is kept without --force and replaced with it.
set +e
"$CLI" import --in "$TMP/gptq" --out "$TMP/imported" --quiet 2>"$TMP/err"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "already exists" "$TMP/err" || fail "existing target: rc $rc $(cat "$TMP/err")"
"$CLI" import --in "$TMP/gptq" --out "$TMP/imported" --force --quiet >/dev/null || fail "--force"

# Errors name the file and the problem; nothing is left under the target name.
expect_error() {  # expect_error "<phrase>" "<file named>" cmd...
  local phrase=$1 named=$2; shift 2
  set +e; "$@" >/dev/null 2>"$TMP/err"; local rc=$?; set -e
  [ $rc -ne 0 ] && [ $rc -lt 100 ] || fail "rc $rc for: $*"
  grep -qF -- "$named" "$TMP/err" && grep -qF -- "$phrase" "$TMP/err" || { cat "$TMP/err"; fail "$phrase"; }
  echo "ok ($rc): $(cat "$TMP/err")"
}
expect_error "no quantization_config" "$MODEL/config.json" "$CLI" import --in "$MODEL" --out "$TMP/x"
sed -i 's/"gptq", "bits"/"hqq", "bits"/' "$TMP/gptq/config.json"
expect_error "unknown quant_method 'hqq'" "$TMP/gptq/config.json" "$CLI" import --in "$TMP/gptq" --out "$TMP/x"
expect_error "does not exist" "$TMP/missing" "$CLI" import --in "$TMP/missing" --out "$TMP/x"
[ ! -e "$TMP/x" ] || fail "a failed import left $TMP/x"
echo "OK"
