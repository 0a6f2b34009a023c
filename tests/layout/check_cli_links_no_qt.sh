#!/usr/bin/env bash
# Fails when quantscope-cli links Qt: any Qt library among its own NEEDED entries, or Qt 6 /
# QCustomPlot (what our widgets use) anywhere in its load closure.
# Debian's libtorch links OpenCV's highgui, which links Qt 5: that dependency of libtorch is
# outside the project and is reported, not failed.
set -euo pipefail
cli=${1:?usage: check_cli_links_no_qt.sh PATH_TO_quantscope-cli}
needed=$(objdump -p "$cli" | awk '/NEEDED/ {print $2}')
if echo "$needed" | grep -qiE 'libQt|qcustomplot'; then
  echo "quantscope-cli links Qt directly:"; echo "$needed" | grep -iE 'libQt|qcustomplot'; exit 1
fi
closure=$(ldd "$cli")
if echo "$closure" | grep -qiE 'libQt6|qcustomplot'; then
  echo "quantscope-cli pulls in Qt 6 / QCustomPlot:"; echo "$closure" | grep -iE 'libQt6|qcustomplot'; exit 1
fi
echo "quantscope-cli links no Qt ($(echo "$needed" | wc -l) direct libraries)"
if echo "$closure" | grep -qiE 'libQt5'; then
  echo "note: libtorch's own dependency chain (libtorch_cpu -> OpenCV highgui) loads Qt 5"
fi
