#!/usr/bin/env bash
# Run THERE (a GPU machine: pip torch with CUDA, nvcc, cmake, ninja, python3; no network, none of
# the other dependencies): the headless QS_CUDA build from the Debian 12 packages that
# bench/gpu/fetch_deps.sh put into .gpu-deps/debs, then the gpu and core tests.
#   1. unpack the packages into .gpu-deps/prefix (dpkg -x; once, again when they change);
#   2. the carried shared libraries whose soname the machine lacks go on LD_LIBRARY_PATH (a
#      library the machine has stays the machine's);
#   3. configure as `cmake --preset cuda` (QS_CUDA=ON, no GUI, Torch_DIR from python3's torch),
#      pkg-config and HDF5 pointed at the prefix, and check that every dependency's include
#      directory is the prefix's;
#   4. build quantscope-cli, qs_core_tests, qs_gpu_tests and the benchmarks; 5. ctest -L gpu|core.
#
# Usage: bench/gpu/build_cuda.sh [build-dir]          (default build/cuda)
# Environment:
#   QS_GPU_DRY_RUN=1  test the carried dependencies on a CPU machine: QS_CUDA=OFF with the
#                     system libtorch, build dir /tmp/qs-gpu-dry, quantscope-cli only, no tests
#   QS_GPU_TARGETS    targets to build instead of the default list
#   QS_GPU_JOBS       parallel jobs (default: nproc)
#   QS_GPU_NO_TESTS=1 build only
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
debs=$root/.gpu-deps/debs
prefix=$root/.gpu-deps/prefix
dry=${QS_GPU_DRY_RUN:-0}
if [[ $dry == 1 ]]; then
    build=${1:-/tmp/qs-gpu-dry}
    targets=${QS_GPU_TARGETS:-quantscope-cli}
else
    build=${1:-$root/build/cuda}
    benches=$(sed -n 's/^add_executable(\([A-Za-z0-9_]*\).*/\1/p' "$root/bench/CMakeLists.txt" | tr '\n' ' ')
    targets=${QS_GPU_TARGETS:-quantscope-cli qs_core_tests qs_gpu_tests $benches}
fi
jobs=${QS_GPU_JOBS:-$(nproc)}
say() { printf '== %s\n' "$*"; }

compgen -G "$debs/*.deb" > /dev/null ||
    { echo "no packages in $debs: run bench/gpu/fetch_deps.sh on a Debian 12 machine first" >&2; exit 1; }

# --- 1. unpack -------------------------------------------------------------------------------
stamp=$prefix/.unpacked-from
listing=$(cd "$debs" && ls -1 -- *.deb)
if [[ ! -f $stamp || $(cat "$stamp") != "$listing" ]]; then
    say "unpacking $(wc -l <<< "$listing") packages into $prefix"
    rm -rf "$prefix"
    mkdir -p "$prefix"
    for deb in "$debs"/*.deb; do
        if command -v dpkg > /dev/null; then
            dpkg -x "$deb" "$prefix"
        else  # a .deb is an ar archive holding data.tar.{xz,zst,gz}
            member=$(ar t "$deb" | grep '^data\.tar')
            ar p "$deb" "$member" | tar -x -a -f - -C "$prefix" 2> /dev/null ||
                ar p "$deb" "$member" | tar -x --"${member##*.}" -f - -C "$prefix"
        fi
    done
    # Absolute links would point into the machine's /usr: point them into the prefix.
    while IFS= read -r link; do
        ln -sfn "$prefix$(readlink "$link")" "$link"
    done < <(find "$prefix" -type l -lname '/*')
    echo "$listing" > "$stamp"
fi
arch=$(gcc -print-multiarch 2> /dev/null || echo x86_64-linux-gnu)
libdir=$prefix/usr/lib/$arch
[[ -d $libdir ]] || { echo "no $libdir in the unpacked packages (this machine: $arch)" >&2; exit 1; }

# --- 2. runtime libraries the machine lacks --------------------------------------------------
missing=$prefix/missing-libs
rm -rf "$missing"
mkdir -p "$missing"
system_sonames=$(ldconfig -p 2> /dev/null | awk '{print $1}' | sort -u)
while IFS= read -r lib; do
    soname=$(readelf -d "$lib" 2> /dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    [[ -n $soname ]] || continue
    grep -qxF "$soname" <<< "$system_sonames" || ln -sfn "$lib" "$missing/$soname"
done < <(find "$libdir" -maxdepth 1 -type f -name 'lib*.so*')
say "carried libraries this machine lacks (on LD_LIBRARY_PATH): $(ls "$missing" | tr '\n' ' ')"
export LD_LIBRARY_PATH=$missing${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# --- 3. configure ----------------------------------------------------------------------------
# pkg-config: the carried pkgconf, reading only the prefix's .pc files, whose /usr paths the
# sysroot maps into the prefix; -I/usr/include is kept (it is the prefix's, not the system's).
export PKG_CONFIG_LIBDIR=$libdir/pkgconfig:$prefix/usr/share/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$prefix
export PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
# HDF5: Debian's serial build under <libdir>/hdf5/serial (include/ and lib/ links). FindHDF5
# would ask an h5cc wrapper first (none is carried; a system one would describe the system's
# HDF5): a wrapper path that does not exist makes it search HDF5_ROOT alone.
hdf5_root=$libdir/hdf5/serial
cmake_args=(
    -S "$root" -B "$build" -G Ninja
    -DCMAKE_BUILD_TYPE=Release -DQS_BUILD_GUI=OFF
    -DCMAKE_PREFIX_PATH="$prefix/usr"
    -DPKG_CONFIG_EXECUTABLE="$prefix/usr/bin/pkgconf"
    -DHDF5_ROOT="$hdf5_root"
    -DHDF5_C_COMPILER_EXECUTABLE="$prefix/no-h5cc" -DHDF5_CXX_COMPILER_EXECUTABLE="$prefix/no-h5c++"
)
if [[ $dry == 1 ]]; then
    say "dry run: QS_CUDA=OFF, the system libtorch, build in $build"
    cmake_args+=(-DQS_CUDA=OFF)
else
    torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
    say "torch $(python3 -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)')"
    cmake_args+=(-DQS_CUDA=ON -DTorch_DIR="$torch_prefix/Torch")
    command -v nvcc > /dev/null || export PATH=/usr/local/cuda/bin:$PATH
fi
say "configure"
cmake "${cmake_args[@]}"

# Every dependency's headers come from the prefix: on the GPU machine there is no other copy,
# while here /usr/include has them all and would hide a missing -I.
python3 - "$build/compile_commands.json" "$prefix" "$hdf5_root" <<'PY'
import json, sys
database, prefix, hdf5_root = sys.argv[1:]
entry = next(e for e in json.load(open(database)) if e["file"].endswith("core/session/session_file.cpp"))
command = entry["command"]
need = {"the prefix's /usr/include (yaml-cpp, nlohmann, pcre2)": prefix + "/usr/include ",
        "Eigen": prefix + "/usr/include/eigen3",
        "HDF5": hdf5_root + "/include"}
missing = [what for what, path in need.items() if path not in command + " "]
if missing:
    sys.exit("include directories not from the prefix: %s\n%s" % (", ".join(missing), command))
print("== include directories from the prefix: " + ", ".join(need))
PY

# --- 4. build --------------------------------------------------------------------------------
say "build: $targets"
# shellcheck disable=SC2086
nice -n 15 cmake --build "$build" --target $targets -j "$jobs"
cli=$build/app/cli/quantscope-cli
say "$cli links: $(ldd "$cli" | grep -E 'hdf5|yaml|pcre2|torch_cuda|cudart' | awk '{print $1 " -> " $3}' | tr '\n' ' ')"
if ldd "$cli" | grep -q 'not found'; then
    ldd "$cli" | grep 'not found' >&2
    exit 1
fi
"$cli" --version

# --- 5. tests --------------------------------------------------------------------------------
if [[ $dry == 1 || ${QS_GPU_NO_TESTS:-0} == 1 ]]; then
    say "done (no tests)"
    exit 0
fi
say "ctest -L 'gpu|core'"
OMP_WAIT_POLICY=passive ctest --test-dir "$build" -L 'gpu|core' --output-on-failure -j "$jobs"
