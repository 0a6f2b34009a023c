# info prints architecture, layers, linear shapes, parameter count, dtype.
source "$(dirname "$0")/cli_common.bash"
require_shared
out=$("$CLI" info --model "$MODEL")
echo "$out"
echo "$out" | grep -q "layers: *5" || fail "layers"
echo "$out" | grep -qE "self_attn.k_proj +32 x 64" || fail "k_proj shape"
echo "$out" | grep -qE "mlp.down_proj +64 x 172" || fail "down_proj shape"
echo "$out" | grep -q "dtype: *F32" || fail "dtype"
json=$("$CLI" info --model "$MODEL" --json)
# parameters = sum over the checkpoint's tensors, computed independently from the header here.
expected=$(python3 -c '
import json,struct,sys
f=open(sys.argv[1],"rb"); n=struct.unpack("<Q",f.read(8))[0]; h=json.loads(f.read(n))
import math
print(sum(math.prod(v["shape"]) for k,v in h.items() if k!="__metadata__"))' "$MODEL/model.safetensors")
[ "$(echo "$json" | json_get stored_parameters)" = "$expected" ] || fail "stored parameters != $expected"
# stories260K ties lm_head to the embedding (512 x 64): counted once in "parameters".
[ "$(echo "$json" | json_get parameters)" = "$((expected - 512 * 64))" ] || fail "parameters != $((expected - 32768))"
echo "OK"
