# Sourced by the CLI tests: $CLI is quantscope-cli, $SHARED the shared data, $TMP a scratch dir.
set -euo pipefail
CLI=${1:?usage: test.sh PATH_TO_quantscope-cli}
SHARED=${QS_SHARED:-$(dirname "$0")/../../../shared}
MODEL=$SHARED/models/stories260K/hf
REF=$SHARED/models/stories260K/reference
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
require_shared() {
  if [ ! -d "$MODEL" ]; then echo "SKIP: no shared data at $SHARED"; exit 0; fi
}
fail() { echo "FAIL: $*" >&2; exit 1; }
# int32 little-endian file -> JSON list
i32_json() { python3 -c 'import struct,sys,json; d=open(sys.argv[1],"rb").read(); print(json.dumps(list(struct.unpack("<%di"%(len(d)//4), d))))' "$1"; }
json_get() { python3 -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.read())[sys.argv[1]]))' "$1"; }
