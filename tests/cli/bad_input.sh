# Every kind of bad input gives exactly one error line naming the file and the problem, and a
# non-zero exit code; never a crash (exit codes >= 128) or a hang.
source "$(dirname "$0")/cli_common.bash"
require_shared

expect_error() {  # expect_error "<phrase in message>" "<file named>" cmd...
  local phrase=$1 named=$2; shift 2
  set +e
  timeout 60 "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  set -e
  [ $rc -ne 0 ] || fail "exit 0 for: $*"
  [ $rc -lt 100 ] || fail "crash or timeout (rc $rc) for: $*"
  local lines; lines=$(grep -c . "$TMP/err" || true)
  [ "$lines" = "1" ] || { cat "$TMP/err"; fail "expected one error line, got $lines for: $*"; }
  grep -qF -- "$named" "$TMP/err" || { cat "$TMP/err"; fail "error does not name $named"; }
  grep -qiF -- "$phrase" "$TMP/err" || { cat "$TMP/err"; fail "error lacks '$phrase'"; }
  echo "ok ($rc): $(cat "$TMP/err")"
}

copy_model() {  # a writable copy of stories260K in $TMP/$1
  mkdir -p "$TMP/$1"; cp "$MODEL"/* "$TMP/$1/"; chmod -R u+w "$TMP/$1"
}

# safetensors: header length past the end of the file
copy_model trunc; head -c 100 "$MODEL/model.safetensors" > "$TMP/trunc/model.safetensors"
expect_error "header" "$TMP/trunc/model.safetensors" "$CLI" info --model "$TMP/trunc"
# safetensors: non-JSON header
copy_model nojson; printf '\x10\x00\x00\x00\x00\x00\x00\x00not json at all!' > "$TMP/nojson/model.safetensors"
expect_error "json" "$TMP/nojson/model.safetensors" "$CLI" info --model "$TMP/nojson"
# safetensors: data cut short (offsets outside the file)
copy_model cut; head -c 600000 "$MODEL/model.safetensors" > "$TMP/cut/model.safetensors"
expect_error "model.safetensors" "$TMP/cut/model.safetensors" "$CLI" eval --model "$TMP/cut" --dataset "$REF/story.txt" --seqlen 64
# config: unsupported model_type
copy_model gpt2; sed -i 's/"llama"/"gpt2"/' "$TMP/gpt2/config.json"
expect_error "unsupported model_type" "$TMP/gpt2/config.json" "$CLI" info --model "$TMP/gpt2"
# config: missing key
copy_model nokey; sed -i '/"hidden_size"/d' "$TMP/nokey/config.json"
expect_error "hidden_size" "$TMP/nokey/config.json" "$CLI" info --model "$TMP/nokey"
# config: inconsistent with the checkpoint
copy_model badshape; sed -i 's/"intermediate_size": 172/"intermediate_size": 256/' "$TMP/badshape/config.json"
expect_error "mlp" "$TMP/badshape" "$CLI" info --model "$TMP/badshape"
# tokenizer files missing
copy_model notok; rm "$TMP/notok/tokenizer.json"
expect_error "tokenizer" "$TMP/notok" "$CLI" generate --model "$TMP/notok" --prompt hi --max-new-tokens 2
# non-UTF-8 dataset
printf 'caf\xe9 au lait\n' > "$TMP/latin1.txt"
expect_error "UTF-8" "$TMP/latin1.txt" "$CLI" eval --model "$MODEL" --dataset "$TMP/latin1.txt" --seqlen 64
# dataset too short for a window (a single token: BOS only)
printf '\n' > "$TMP/empty.txt"
expect_error "$TMP/empty.txt" "$TMP/empty.txt" "$CLI" eval --model "$MODEL" --dataset "$TMP/empty.txt" --seqlen 64
# missing model directory
expect_error "not a model directory" "$TMP/nowhere" "$CLI" eval --model "$TMP/nowhere" --dataset "$REF/story.txt" --seqlen 64
echo "OK: all bad inputs rejected cleanly"
