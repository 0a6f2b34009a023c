#!/usr/bin/env bash
# Fails when any file under core/ includes a Qt header or uses a Qt keyword-macro include.
set -euo pipefail
root=${1:?usage: check_core_has_no_qt.sh SOURCE_ROOT}
hits=$(grep -rnE '#[[:space:]]*include[[:space:]]*[<"](Q[A-Z][A-Za-z]*|Qt[A-Za-z]*/|qcustomplot)' \
  "$root/core" --include='*.h' --include='*.hpp' --include='*.cpp' --include='*.cu' || true)
if [ -n "$hits" ]; then
  echo "core/ must not include Qt headers:"; echo "$hits"; exit 1
fi
# The build must not link Qt into qs_core either.
if grep -rqiE 'Qt6|Qt5' "$root/core/CMakeLists.txt"; then
  echo "core/CMakeLists.txt mentions Qt"; exit 1
fi
echo "core/ is Qt-free"
