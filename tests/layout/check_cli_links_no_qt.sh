#!/usr/bin/env bash
# Fails when the quantscope-cli binary depends on any Qt library.
set -euo pipefail
cli=${1:?usage: check_cli_links_no_qt.sh PATH_TO_quantscope-cli}
needed=$(objdump -p "$cli" | awk '/NEEDED/ {print $2}')
if echo "$needed" | grep -qiE 'libQt|qcustomplot'; then
  echo "quantscope-cli links Qt:"; echo "$needed" | grep -iE 'libQt|qcustomplot'; exit 1
fi
if ldd "$cli" | grep -qiE 'libQt'; then
  echo "quantscope-cli pulls Qt in transitively:"; ldd "$cli" | grep -iE 'libQt'; exit 1
fi
echo "quantscope-cli links no Qt ($(echo "$needed" | wc -l) direct libraries)"
