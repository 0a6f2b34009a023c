#!/usr/bin/env bash
# Installs the Debian package on a clean Debian 12 and runs what a new user runs first.
#   bash installer/test_deb_install.sh [quantscope_VERSION_amd64.deb]
# (default: the newest build/release/quantscope_*_amd64.deb; make it with
#  `cd build/release && cpack -G DEB`). Needs root, debootstrap and network access to the
# Debian mirror. Not part of ctest: it takes minutes and downloads about 200 MB.
#
# A minimal bookworm (debootstrap --variant=minbase) is made once under $QS_DEBTEST_DIR
# (default /var/tmp/quantscope-debtest/bookworm-base) and copied to a fresh root every run, so
# every run installs onto an untouched system. Inside it, as an ordinary user:
# quantscope-cli --version / info / synth + generate (a SentencePiece tokenizer, through the
# private shim), and an offscreen quantscope --screenshot of stories260K (copied in, removed
# after). Then the desktop entry, the MIME type, the man pages, and a clean purge.
# Environment: QS_SHARED (for stories260K and the Llama-2 tokenizer; default ../shared),
# QS_DEBTEST_DIR, QS_DEBIAN_MIRROR (default http://deb.debian.org/debian), QS_DEBTEST_KEEP=1
# keeps the test root afterwards. Exit status: 0 passed, 1 failed, 77 cannot run here.
set -euo pipefail
started=$SECONDS
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${QS_SHARED:-$(cd "$repo/.." && pwd)/shared}
work=${QS_DEBTEST_DIR:-/var/tmp/quantscope-debtest}
mirror=${QS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
base=$work/bookworm-base
root=$work/root
user=qsuser

say() { printf '\n== %s (%ds)\n' "$*" $((SECONDS - started)); }
die() {
    echo "test_deb_install: FAIL: $*" >&2
    exit 1
}
skip() {
    echo "test_deb_install: SKIP: $*" >&2
    exit 77
}

deb=${1:-$(ls -t "$repo"/build/release/quantscope_*_amd64.deb 2>/dev/null | head -1)}
[ -n "$deb" ] && [ -f "$deb" ] || die "no package: run 'cd build/release && cpack -G DEB' first"
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, chroot, mount)"
command -v debootstrap >/dev/null || skip "needs debootstrap (apt-get install debootstrap)"
model=$shared/models/stories260K/hf
spm=$shared/models/llama2-tokenizer/tokenizer.model
[ -f "$model/config.json" ] || skip "needs $model (set QS_SHARED)"

# --- mounts: everything mounted under $root is unmounted on every exit ----------------------
mounts=()
mount_into() {  # mount_into TARGET MOUNT-ARGS...
    local target=$root$1
    shift
    mount "$@" "$target" || die "mount $* $target failed"
    mounts+=("$target")
}
unmount_all() {
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true
    done
    mounts=()
}
# Deleting a root with /dev bind-mounted in it would delete the host's /dev: never do that.
remove_root() {
    if grep -q " $root/" /proc/mounts; then
        echo "test_deb_install: $root still has mounts; not removing it" >&2
        return 1
    fi
    rm -rf --one-file-system "$root"
}
cleanup() {
    unmount_all
    [ "${QS_DEBTEST_KEEP:-0}" = 1 ] || remove_root || true
}
trap cleanup EXIT

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
as_user() {  # numeric ids: chroot may look names up in the host's passwd
    local uid gid
    uid=$(in_root id -u "$user") && gid=$(in_root id -g "$user") || die "no user $user"
    chroot --userspec="$uid:$gid" --groups="$gid" "$root" /usr/bin/env -i PATH=/usr/bin:/bin \
        LANG=C.UTF-8 HOME=/home/$user USER=$user OMP_WAIT_POLICY=passive "$@"
}
installed_count() { in_root dpkg-query -W -f='${db:Status-Abbrev}\n' | grep -c '^ii'; }
apt_in_root() { in_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y "$@"; }

# --- 1. the cached clean bookworm -------------------------------------------------------------
mkdir -p "$work"
if [ ! -f "$base/.quantscope-debootstrap-done" ]; then
    say "debootstrap --variant=minbase bookworm (once; cached in $base)"
    rm -rf --one-file-system "$base.partial"
    debootstrap --variant=minbase bookworm "$base.partial" "$mirror" >"$work/debootstrap.log" 2>&1 ||
        die "debootstrap failed; see $work/debootstrap.log"
    touch "$base.partial/.quantscope-debootstrap-done"
    rm -rf --one-file-system "$base"
    mv "$base.partial" "$base"
fi
say "fresh root from the cached bookworm"
[ -e "$root" ] && { remove_root || die "cannot remove the previous $root"; }
cp -a "$base" "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"  # no daemons start in the chroot
chmod 755 "$root/usr/sbin/policy-rc.d"
mount_into /proc -t proc proc
mount_into /sys -t sysfs sysfs
mount_into /dev --bind /dev
mount_into /dev/pts --bind /dev/pts
echo "Debian $(cat "$root/etc/debian_version"), $(installed_count) packages"

# --- 2. install the package -------------------------------------------------------------------
say "apt-get install ./$(basename "$deb")"
cp "$deb" "$root/tmp/"
apt_in_root update >/dev/null
packages_before=$(installed_count)
kb_before=$(du -skx "$root" | cut -f1)
install_start=$SECONDS
apt_in_root install "/tmp/$(basename "$deb")" >"$work/apt-install.log" 2>&1 ||
    die "apt-get install failed; see $work/apt-install.log"
install_s=$((SECONDS - install_start))
in_root apt-get clean
packages_after=$(installed_count)
kb_after=$(du -skx "$root" | cut -f1)
echo "installed in ${install_s}s: $((packages_after - packages_before)) packages," \
    "$(((kb_after - kb_before) / 1024)) MiB on disk with its dependencies;" \
    "quantscope itself $(in_root dpkg-query -W -f='${Installed-Size}' quantscope) KiB"
in_root useradd --create-home --shell /bin/sh "$user"

# --- 3. the command-line tool -----------------------------------------------------------------
say "quantscope-cli"
version=$(as_user quantscope-cli --version) || die "quantscope-cli --version failed"
echo "$version"
grep -q "^quantscope-cli [0-9]" <<<"$version" || die "unexpected --version: $version"
# libtorch links the libblas.so.3 alternative: the declared OpenBLAS must be the one in use.
grep -q "openblas" <<<"$version" || die "BLAS in use is not OpenBLAS: $version"
mkdir -p "$root/tmp/stories260K"
cp -r "$model/." "$root/tmp/stories260K/"
chmod -R a+rX "$root/tmp/stories260K"
info=$(as_user quantscope-cli info --model /tmp/stories260K) || die "quantscope-cli info failed"
echo "$info" | head -4
grep -q "layers: *5" <<<"$info" || die "info does not report stories260K's 5 layers"
# A SentencePiece tokenizer goes through /usr/lib/quantscope/libqs_sentencepiece_shim.so: the
# one file the binaries find beside themselves at run time.
if [ -f "$spm" ]; then
    mkdir -p "$root/tmp/llama2-tokenizer"
    cp "$spm" "$root/tmp/llama2-tokenizer/"
    chmod -R a+rX "$root/tmp/llama2-tokenizer"
    as_user quantscope-cli synth --out /home/$user/spm-model --vocab 32000 --layers 1 \
        --hidden 64 --intermediate 128 --heads 4 --kv-heads 4 \
        --tokenizer-from /tmp/llama2-tokenizer >/dev/null 2>&1 || die "quantscope-cli synth failed"
    text=$(as_user quantscope-cli generate --model /home/$user/spm-model --prompt "Hello world" \
        --max-new-tokens 4 --quiet) || die "generate with a SentencePiece tokenizer failed"
    [[ "$text" == "Hello world"* ]] || die "generate did not echo its prompt: $text"
    echo "generate (SentencePiece tokenizer): ok"
else
    echo "note: $spm missing; SentencePiece shim not exercised"
fi

# --- 4. the GUI, offscreen --------------------------------------------------------------------
say "QT_QPA_PLATFORM=offscreen quantscope --screenshot"
as_user env QT_QPA_PLATFORM=offscreen quantscope --screenshot /tmp/quantscope-deb.png \
    /tmp/stories260K >"$work/screenshot.log" 2>&1 ||
    { cat "$work/screenshot.log" >&2; die "quantscope --screenshot failed"; }
png_bytes=$(stat -c %s "$root/tmp/quantscope-deb.png" 2>/dev/null || echo 0)
[ "$png_bytes" -gt 10240 ] || die "screenshot is $png_bytes bytes (expected > 10 KB)"
cp "$root/tmp/quantscope-deb.png" "$work/screenshot.png"
echo "screenshot: $work/screenshot.png ($png_bytes bytes)"
# Without a display and without QT_QPA_PLATFORM (a shell over ssh): --help/--version work.
as_user quantscope --version 2>/dev/null | grep -q "QuantScope [0-9]" ||
    die "quantscope --version failed without a display"
as_user quantscope --help 2>/dev/null | grep -q -- "--screenshot" ||
    die "quantscope --help failed without a display"

# --- 5. desktop entry, MIME type, man pages (with the tools that read them) ------------------
say "desktop entry, MIME type, man pages"
apt_in_root install --no-install-recommends desktop-file-utils xdg-utils \
    libfile-mimeinfo-perl man-db >"$work/apt-tools.log" 2>&1 ||
    die "installing the test tools failed; see $work/apt-tools.log"
in_root desktop-file-validate /usr/share/applications/quantscope.desktop ||
    die "desktop-file-validate reports errors"
grep -q "application/x-quantscope-session:\*\.quantscope\.h5" "$root/usr/share/mime/globs2" ||
    die "the MIME database (update-mime-database) has no *.quantscope.h5"
printf '\211HDF\r\n\032\n' >"$root/tmp/study.quantscope.h5"  # the HDF5 signature
chmod a+r "$root/tmp/study.quantscope.h5"
type=$(as_user env XDG_DATA_DIRS=/usr/share xdg-mime query filetype /tmp/study.quantscope.h5)
[ "$type" = application/x-quantscope-session ] || die "xdg-mime says '$type' for a session"
handler=$(as_user env XDG_DATA_DIRS=/usr/share xdg-mime query default \
    application/x-quantscope-session)
[ "$handler" = quantscope.desktop ] || die "sessions open with '$handler', not quantscope.desktop"
echo "xdg-mime: study.quantscope.h5 is $type, opened by $handler"
for page in quantscope quantscope-cli; do
    rendered=$(as_user env MANWIDTH=80 man -P cat "$page" 2>&1) || die "man $page failed"
    grep -q "^NAME" <<<"$rendered" || die "man $page shows no NAME section"
    echo "man $page: $(wc -l <<<"$rendered") lines"
done

# --- 6. removal leaves nothing behind ---------------------------------------------------------
say "apt-get purge quantscope"
apt_in_root purge quantscope >"$work/apt-purge.log" 2>&1 || die "apt-get purge failed"
for path in usr/bin/quantscope usr/bin/quantscope-cli usr/lib/quantscope usr/share/quantscope \
    usr/share/doc/quantscope usr/share/mime/packages/quantscope.xml; do
    [ ! -e "$root/$path" ] || die "/$path is left after purge"
done
! grep -q quantscope "$root/usr/share/mime/globs2" || die "the MIME type is left after purge"

say "passed: $(basename "$deb") on a clean Debian $(cat "$root/etc/debian_version")"
