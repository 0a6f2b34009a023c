#!/usr/bin/env bash
# QuantScope quick start on Debian 12 (run as root, or with sudo available).
#   bash installer/quickstart.sh run    install packages, build, open the GUI on the bundled model
#   bash installer/quickstart.sh test   install packages, build, run the whole test suite headless
# Environment: QS_SHARED (default ../shared), QS_PRESET (default "release"), QS_JOBS.
set -euo pipefail
mode=${1:-run}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
preset=${QS_PRESET:-release}
export QS_SHARED=${QS_SHARED:-$(cd "$root/.." && pwd)/shared}

packages=(
  cmake ninja-build g++ pkg-config file binutils
  qt6-base-dev qt6-svg-dev libqcustomplot-dev libqcustomplot2.1-qt6
  libeigen3-dev libhdf5-dev hdf5-tools libtorch-dev libopenblas0-openmp
  nlohmann-json3-dev libsentencepiece-dev libyaml-cpp-dev libpcre2-dev libgtest-dev
  xvfb xauth fonts-dejavu-core python3
)

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "quickstart: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {
  cmake --preset "$preset"
  cmake --build --preset "$preset" -j "${QS_JOBS:-$(nproc)}"
}

install_packages
build
bin="$root/build/$preset"
case "$mode" in
  run)
    model="$QS_SHARED/models/stories260K/hf"
    args=()
    [ -d "$model" ] && args=(--model "$model")
    if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
      echo "quickstart: no display; starting under Xvfb (xvfb-run). Use a desktop session to see the window."
      exec xvfb-run -a "$bin/app/gui/quantscope" "${args[@]}"
    fi
    exec "$bin/app/gui/quantscope" "${args[@]}"
    ;;
  test)
    export QT_QPA_PLATFORM=offscreen
    ctest --test-dir "$bin" --output-on-failure -j 2 --timeout 900
    ;;
  *)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac
