#!/usr/bin/env bash
# Run HERE (Debian 12, network): download the Debian packages the headless QS_CUDA build needs on
# a GPU machine into .gpu-deps/debs (git-ignored, carried with the working tree). The GPU machines
# have pip torch (CUDA), nvcc, cmake, ninja and python3, but no network and none of: HDF5,
# yaml-cpp, pcre2, sentencepiece, nlohmann-json, Eigen, GoogleTest, pkg-config. Their glibc is
# newer than Debian 12's, so Debian 12's binaries run there. bench/gpu/build_cuda.sh unpacks
# them (dpkg -x) and builds.
#
# What is fetched: the -dev packages (headers, CMake/pkg-config files, link-time .so links), the
# shared libraries they link to, and those libraries' own dependencies except the base every
# glibc system has (libc6, libgcc-s1, libstdc++6, zlib1g); build_cuda.sh only puts the ones
# the GPU machine lacks on the library path.
# Usage: bench/gpu/fetch_deps.sh            (from the repository root or anywhere in it)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/.gpu-deps/debs
limit_mib=60

dev_packages=(
    libeigen3-dev nlohmann-json3-dev libyaml-cpp-dev libsentencepiece-dev libpcre2-dev
    libhdf5-dev libgtest-dev libgmock-dev pkgconf-bin
)
# Shared libraries the build links and runs against (the -dev packages' .so links point here).
runtime_roots=(
    libyaml-cpp0.7 libsentencepiece0 libpcre2-8-0 libhdf5-103-1 libhdf5-cpp-103-1 libpkgconf3
)
base_on_every_system='^(libc6|libgcc-s1|libstdc\+\+6|gcc-12-base|zlib1g)$'

mapfile -t runtime < <(apt-cache depends --recurse --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances "${runtime_roots[@]}" |
    grep '^[a-z0-9]' | sort -u | grep -Ev "$base_on_every_system")

rm -rf "$out"
mkdir -p "$out"
cd "$out"
echo "downloading ${#dev_packages[@]} -dev and ${#runtime[@]} runtime packages into $out"
apt-get download "${dev_packages[@]}" "${runtime[@]}" 2>&1 | grep -v '^Get:' || true
count=$(find . -name '*.deb' | wc -l)
expected=$((${#dev_packages[@]} + ${#runtime[@]}))
if [[ $count -ne $expected ]]; then
    echo "error: $count of $expected packages downloaded" >&2
    exit 1
fi
size_kib=$(du -sk . | cut -f1)
printf '%d packages, %.1f MiB (limit %d MiB)\n' "$count" "$(echo "$size_kib / 1024" | bc -l)" \
    "$limit_mib"
if ((size_kib > limit_mib * 1024)); then
    echo "error: the dependencies exceed ${limit_mib} MiB" >&2
    exit 1
fi
ls -1 | sed 's/^/  /'
