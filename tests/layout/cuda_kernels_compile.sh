#!/usr/bin/env bash
# layout: the CUDA code compiles, on machines without a GPU too (CI). Every core/**/*.cu goes
# through nvcc for sm_90 with the flags of the QS_CUDA build (-std=c++20 --fmad=false), and every
# .cpp with a QS_CUDA branch (core/, app/, tests/) is syntax-checked with QS_CUDA defined, with
# its own flags from compile_commands.json (torch, HDF5, ...) plus the CUDA headers.
# Exit 77 (ctest: skipped) without nvcc.
# Usage: cuda_kernels_compile.sh <source-dir> <build-dir>
set -euo pipefail
src=${1:?usage: cuda_kernels_compile.sh <source-dir> <build-dir>}
build=${2:?usage: cuda_kernels_compile.sh <source-dir> <build-dir>}
nvcc=/usr/local/cuda/bin/nvcc
[[ -x $nvcc ]] || nvcc=$(command -v nvcc || true)
[[ -n $nvcc ]] || { echo "SKIP: no nvcc (/usr/local/cuda/bin or PATH)"; exit 77; }
cuda_include=$(cd "$(dirname "$nvcc")/../include" && pwd)
jobs=${QS_COMPILE_JOBS:-$(nproc)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mapfile -t kernels < <(find "$src/core" -name '*.cu' | sort)
echo "nvcc: $nvcc ($("$nvcc" --version | grep -o 'release [0-9.]*'))"
echo "${#kernels[@]} kernel file(s)"
export nvcc src tmp
# -Werror=all-warnings: a warning in a kernel (an unused variable, a narrowing) fails here too.
printf '%s\n' "${kernels[@]}" | xargs -r -P "$jobs" -I{} bash -c \
    '"$nvcc" -c -std=c++20 --fmad=false -arch=sm_90 -Werror=all-warnings -I"$src" "$1" \
        -o "$tmp/$(basename "$1").o" && echo "ok  nvcc ${1#$src/}"' _ {}

# The .cpp files with a QS_CUDA branch, with their flags from the build's compile database.
# C10_CUDA_NO_CMAKE_CONFIGURE_FILE: a CPU-only libtorch ships c10/cuda headers without the
# generated impl/cuda_cmake_macros.h (it only defines the shared-library export switch).
python3 - "$src" "$build/compile_commands.json" "$cuda_include" > "$tmp/commands" <<'PY'
import json, pathlib, re, shlex, sys
src, database, cuda_include = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
branch = re.compile(r"^\s*#\s*(ifdef\s+QS_CUDA\b|if\s+.*defined\s*\(?\s*QS_CUDA\b)", re.M)
wanted = sorted(p for top in ("core", "app", "tests") for p in (src / top).rglob("*.cpp")
                if branch.search(p.read_text(errors="replace")))
commands = {}
if database.is_file():
    for entry in json.loads(database.read_text()):
        commands[str(pathlib.Path(entry["file"]).resolve())] = entry
missing = [str(p) for p in wanted if str(p.resolve()) not in commands]
if missing:
    sys.exit("not in %s (reconfigure the build): %s" % (database, " ".join(missing)))
for p in wanted:
    entry = commands[str(p.resolve())]
    args = shlex.split(entry["command"]) if "command" in entry else entry["arguments"]
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a == "-o":
            skip = True
        elif a != "-c" and a != str(p):
            out.append(a)
    out += ["-fsyntax-only", "-DQS_CUDA=1", "-DC10_CUDA_NO_CMAKE_CONFIGURE_FILE",
            "-isystem", cuda_include, str(p)]
    print(shlex.join(["cd", entry["directory"]]) + " && " + shlex.join(out))
PY
echo "$(wc -l < "$tmp/commands") .cpp file(s) with a QS_CUDA branch"
tr '\n' '\0' < "$tmp/commands" | xargs -0 -r -P "$jobs" -I{} bash -c \
    '{ eval "$1"; } && echo "ok  g++ -fsyntax-only -DQS_CUDA=1 ${1##* }"' _ {}
echo "all CUDA code compiles"
