# export end to end on stories260K: gptq and awq checkpoints with the layout loaders expect
# (tensor names, dtypes, shapes, quantization_config read independently from the files here),
# a refused recipe with a clear error and nothing written, an existing target kept without
# --force.
source "$(dirname "$0")/cli_common.bash"
require_shared
CALIB="calibration: {dataset: $SHARED/data/wikitext-2/valid.txt, samples: 8, seqlen: 64, seed: 0}"
printf 'methods: [gptq]\nweights: int4-g16-sym\ngptq: {act_order: true}\n%s\n' "$CALIB" > "$TMP/gptq.yaml"
printf 'methods: [awq]\nweights: int4-g16-asym\n%s\n' "$CALIB" > "$TMP/awq.yaml"
printf 'methods: [rtn]\nweights: mxfp4-32\n' > "$TMP/mx.yaml"

# safetensors header of every shard -> {name: [dtype, shape]}
headers() { python3 -c '
import json,struct,sys,glob
out={}
for p in sorted(glob.glob(sys.argv[1]+"/*.safetensors")):
    f=open(p,"rb"); n=struct.unpack("<Q",f.read(8))[0]; h=json.loads(f.read(n))
    out.update({k:[v["dtype"],v["shape"]] for k,v in h.items() if k!="__metadata__"})
print(json.dumps(out))' "$1"; }

"$CLI" export --model "$MODEL" --recipe "$TMP/gptq.yaml" --format gptq --out "$TMP/gptq" --quiet
python3 - "$TMP/gptq" "$(headers "$TMP/gptq")" <<'PY' || fail "gptq layout"
import json,sys
d=sys.argv[1]; h=json.loads(sys.argv[2]); c=json.load(open(d+"/config.json"))
q=c["quantization_config"]
assert q["quant_method"]=="gptq" and q["bits"]==4 and q["group_size"]==16 and q["desc_act"] and q["sym"], q
assert q["checkpoint_format"]=="gptq", q
assert json.load(open(d+"/quantize_config.json"))==q
assert c["intermediate_size"]==176, c["intermediate_size"]   # 172 padded to a multiple of 16
p="model.layers.0.mlp.down_proj"
assert h[p+".qweight"]==["I32",[176*4//32,64]], h[p+".qweight"]
assert h[p+".qzeros"]==["I32",[11,64*4//32]], h[p+".qzeros"]
assert h[p+".scales"]==["F16",[11,64]], h[p+".scales"]
assert h[p+".g_idx"]==["I32",[176]], h[p+".g_idx"]
assert h["model.layers.0.mlp.gate_proj.qweight"]==["I32",[8,176]]
assert not any(k.endswith("_proj.weight") for k in h), "unpacked linear left"
assert h["model.embed_tokens.weight"][0]=="F16"
import os; assert os.path.exists(d+"/tokenizer.json")
PY

"$CLI" export --model "$MODEL" --recipe "$TMP/awq.yaml" --format awq --out "$TMP/awq" --quiet
python3 - "$TMP/awq" "$(headers "$TMP/awq")" <<'PY' || fail "awq layout"
import json,sys
d=sys.argv[1]; h=json.loads(sys.argv[2]); q=json.load(open(d+"/config.json"))["quantization_config"]
assert q=={"quant_method":"awq","bits":4,"group_size":16,"zero_point":True,"version":"gemm","modules_to_not_convert":None}, q
p="model.layers.2.self_attn.q_proj"
assert h[p+".qweight"]==["I32",[64,64//8]], h[p+".qweight"]
assert h[p+".qzeros"]==["I32",[4,64//8]], h[p+".qzeros"]
assert h[p+".scales"]==["F16",[4,64]], h[p+".scales"]
assert h["model.layers.2.mlp.up_proj.qweight"]==["I32",[64,176//8]]
PY

# Independent decoders (AutoGPTQ's and AutoAWQ's formulas, written out here in plain Python)
# give back the fake checkpoint's weights bit for bit: `export --format fake --fp16-scales`
# quantizes with the fp16 scales that the packed layouts store.
cat > "$TMP/decode.py" <<'PY'
import glob, json, struct, sys
def load(d):
    out = {}
    for p in glob.glob(d + "/*.safetensors"):
        f = open(p, "rb"); n = struct.unpack("<Q", f.read(8))[0]
        h = json.loads(f.read(n)); data = f.read()
        for k, v in h.items():
            code = {"F32": "f", "F16": "e", "I32": "i"}.get(v["dtype"]) if k != "__metadata__" else None
            if code is None: continue
            b, e = v["data_offsets"]
            out[k] = (v["shape"], struct.unpack("<%d%s" % ((e - b) // struct.calcsize(code), code), data[b:e]))
    return out
layout, fake, packed = sys.argv[1], load(sys.argv[2]), load(sys.argv[3])
group = json.load(open(sys.argv[3] + "/config.json"))["quantization_config"]["group_size"]
AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]
def field(word, k): return ((word & 0xFFFFFFFF) >> (4 * k)) & 0xF
checked = 0
for name, (shape, ref) in fake.items():
    if not name.endswith("_proj.weight"): continue
    m = name[:-len(".weight")]
    qs, qw = packed[m + ".qweight"]; _, qz = packed[m + ".qzeros"]; _, sc = packed[m + ".scales"]
    O, I = shape
    if layout == "gptq":  # qweight [in/8, out] down the inputs, qzeros [groups, out/8] as zero - 1
        out = qs[1]; gi = packed[m + ".g_idx"][1]
        def weight(o, i):
            g = gi[i]
            q = field(qw[(i // 8) * out + o], i % 8)
            z = field(qz[g * (out // 8) + o // 8], o % 8) + 1
            return sc[g * out + o] * (q - z)
    else:  # awq: qweight [in, out/8] along the outputs in AWQ_ORDER, zeros without offset
        out = qs[1] * 8
        def weight(o, i):
            g = i // group; k = AWQ_ORDER.index(o % 8)
            q = field(qw[i * (out // 8) + o // 8], k)
            z = field(qz[g * (out // 8) + o // 8], k)
            return sc[g * out + o] * (q - z)
    for o in range(O):
        for i in range(I):
            if struct.pack("<f", weight(o, i)) != struct.pack("<f", ref[o * I + i]):
                sys.exit("%s [%d, %d]: %r != %r" % (m, o, i, weight(o, i), ref[o * I + i]))
            checked += 1
print(layout, "decoded independently:", checked, "weights bit for bit")
PY
"$CLI" export --model "$MODEL" --recipe "$TMP/gptq.yaml" --format fake --fp16-scales --out "$TMP/gptq-fake" --quiet
python3 "$TMP/decode.py" gptq "$TMP/gptq-fake" "$TMP/gptq" || fail "gptq independent decode"
"$CLI" export --model "$MODEL" --recipe "$TMP/awq.yaml" --format fake --fp16-scales --out "$TMP/awq-fake" --quiet
python3 "$TMP/decode.py" awq "$TMP/awq-fake" "$TMP/awq" || fail "awq independent decode"

# A refused recipe: a clear error naming the formats that fit, exit 1, nothing written.
set +e
err=$("$CLI" export --model "$MODEL" --recipe "$TMP/mx.yaml" --format gptq --out "$TMP/refused" --quiet 2>&1)
rc=$?
set -e
echo "$err"
[ $rc -eq 1 ] || fail "refused export exit code $rc"
echo "$err" | grep -q "integer weights only" || fail "refusal reason"
echo "$err" | grep -q "formats that fit: fake, compressed-tensors, mx" || fail "formats that fit"
[ ! -e "$TMP/refused" ] || fail "refused export wrote its target"
ls "$TMP" | grep -q partial && fail "staging folder left"

# The existing target is kept without --force, replaced with it.
set +e
"$CLI" export --model "$MODEL" --recipe "$TMP/awq.yaml" --format awq --out "$TMP/gptq" --quiet 2>/dev/null
rc=$?
set -e
[ $rc -eq 1 ] || fail "overwrite without --force: exit $rc"
[ -e "$TMP/gptq/quantize_config.json" ] || fail "target changed without --force"
"$CLI" export --model "$MODEL" --recipe "$TMP/mx.yaml" --format mx --out "$TMP/gptq" --force --quiet
[ ! -e "$TMP/gptq/quantize_config.json" ] || fail "--force did not replace the target"
echo "OK"
