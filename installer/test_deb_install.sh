#!/usr/bin/env bash
# Installs the Debian package on a clean Debian 12 and runs what a new user runs first.
#   bash installer/test_deb_install.sh [quantscope_VERSION_amd64.deb]
# (default: the newest build/release/quantscope_*_amd64.deb; make it with
#  `cd build/release && cpack -G DEB`). Needs root, debootstrap and network access to the
# Debian mirror. Not part of ctest: it takes about two minutes (2 cores; 40 s of it apt, 50 s
# the tutorial) and downloads about 290 MB.
#
# A minimal bookworm (debootstrap --variant=minbase) is made once under $QS_DEBTEST_DIR
# (default /var/tmp/quantscope-debtest/bookworm-base) and copied to a fresh root every run, so
# every run installs onto an untouched system. Inside it, as an ordinary user:
# quantscope-cli --version / info / synth + generate (a SentencePiece tokenizer, through the
# private shim), an offscreen quantscope --screenshot of stories260K, and "the first ten
# minutes": docs/tutorial.md as the package installs it, run by tests/cli/tutorial.sh with
# /usr/bin/quantscope-cli and /usr/bin/quantscope (the data it reads copied in under the same
# layout as QS_SHARED, removed after). Then the user guide where Help > User Guide looks for it,
# the desktop entry, the MIME type, the man pages, and a clean purge.
# Environment: QS_SHARED (stories260K, WikiText-2 and the Llama-2 tokenizer; default ../shared),
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
# What docs/tutorial.md reads from QS_SHARED (its step 0), copied to the same paths in the root.
tutorial_data=(models/stories260K/hf data/wikitext-2-raw/wiki.test.raw data/wikitext-2/valid.txt)
for path in "${tutorial_data[@]}"; do
    [ -e "$shared/$path" ] || skip "needs $shared/$path for the tutorial (set QS_SHARED)"
done
for path in docs/tutorial.md tests/cli/tutorial.sh tests/cli/cli_common.bash; do
    [ -f "$repo/$path" ] || die "no $repo/$path"
done

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
echo "installed in ${install_s}s ($(grep -o 'Need to get [^ ]* [kMG]B' "$work/apt-install.log" |
    sed 's/Need to get/downloaded/')): $((packages_after - packages_before)) packages," \
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
root_shared=/tmp/qs-shared  # QS_SHARED inside the root
for path in "${tutorial_data[@]}"; do
    mkdir -p "$(dirname "$root$root_shared/$path")"
    cp -rL "$shared/$path" "$root$root_shared/$path"
done
chmod -R u+w,a+rX "$root$root_shared"
root_model=$root_shared/models/stories260K/hf
info=$(as_user quantscope-cli info --model $root_model) || die "quantscope-cli info failed"
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
    $root_model >"$work/screenshot.log" 2>&1 ||
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

# --- 5. the first ten minutes: docs/tutorial.md with the installed binaries only -------------
# The tutorial as the package ships it, run the way ctest's cli.tutorial runs it but given
# /usr/bin/quantscope-cli: PATH is /usr/bin:/bin (no build tree in the root), so step 0 takes
# the binaries from PATH and the recipes from /usr/share/quantscope/recipes. tutorial.sh checks
# what it promises with python3 and h5ls: installed now, after the package's own checks above,
# so that they cannot stand in for a missing dependency of the package.
say "the first ten minutes: docs/tutorial.md with /usr/bin/quantscope-cli and quantscope"
tutorial_src=/tmp/qs-tutorial-src  # tutorial.sh finds the tutorial at ../../docs/tutorial.md
mkdir -p "$root$tutorial_src/docs" "$root$tutorial_src/tests/cli"
installed_tutorial=$root/usr/share/doc/quantscope/docs/tutorial.md
[ -f "$installed_tutorial" ] || die "the package has no /usr/share/doc/quantscope/docs/tutorial.md"
cmp -s "$installed_tutorial" "$repo/docs/tutorial.md" ||
    echo "note: the packaged tutorial differs from $repo/docs/tutorial.md (an older package?)"
cp "$installed_tutorial" "$root$tutorial_src/docs/"
cp "$repo/tests/cli/tutorial.sh" "$repo/tests/cli/cli_common.bash" "$root$tutorial_src/tests/cli/"
chmod -R a+rX "$root$tutorial_src"
packages_no_tools=$(in_root dpkg-query -W -f='${Package}\n' | sort)
apt_in_root install --no-install-recommends python3 hdf5-tools \
    >"$work/apt-tutorial-tools.log" 2>&1 ||
    die "installing python3 and hdf5-tools failed; see $work/apt-tutorial-tools.log"
echo "for tutorial.sh's checks: python3 hdf5-tools ($(comm -13 <(echo "$packages_no_tools") \
    <(in_root dpkg-query -W -f='${Package}\n' | sort) | wc -l) packages)"
tutorial_start=$SECONDS
as_user env QS_SHARED=$root_shared bash $tutorial_src/tests/cli/tutorial.sh \
    /usr/bin/quantscope-cli >"$work/tutorial.log" 2>&1 ||
    { tail -40 "$work/tutorial.log" >&2; die "the tutorial failed; see $work/tutorial.log"; }
tutorial_s=$((SECONDS - tutorial_start))
grep -E '^(tutorial ran|perplexity|OK:)' "$work/tutorial.log" || true
! grep -q "SKIP" "$work/tutorial.log" || die "tutorial.sh skipped something; see $work/tutorial.log"
grep -q "^OK: [0-9]* promised files checked" "$work/tutorial.log" ||
    die "tutorial.sh did not check the promised files; see $work/tutorial.log"
echo "tutorial.sh with the installed package: ${tutorial_s}s"
rm -rf "$root$root_shared" "$root$tutorial_src"

# --- 6. the user guide where Help > User Guide finds it: <bin>/../share/doc/quantscope/docs --
say "the user guide in /usr/share/doc/quantscope/docs"
docs=$root/usr/share/doc/quantscope/docs
[ -s "$docs/user-guide.md" ] || die "no /usr/share/doc/quantscope/docs/user-guide.md"
images=$(grep -o '](img/[^)]*)' "$docs/user-guide.md" | sed 's/^](//; s/)$//' | sort -u || true)
[ -n "$images" ] || die "user-guide.md shows no img/*.png"
for image in $images; do
    [ "$(head -c 8 "$docs/$image" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] ||
        die "user-guide.md shows $image: not a PNG in /usr/share/doc/quantscope/docs"
done
echo "user-guide.md and its $(wc -w <<<"$images") images are in /usr/share/doc/quantscope/docs"
# Relative links between the installed documents (what a click in the guide window opens).
broken=""
for page in "$docs"/*.md; do
    for target in $(grep -o '\]([^)#: ]*[)#]' "$page" | sed 's/^](//; s/[)#]$//' | sort -u); do
        [ -z "$target" ] || [ -e "$docs/$target" ] || broken+=" $(basename "$page")->$target"
    done
done
[ -z "$broken" ] || die "links to files the package does not install:$broken"

# --- 7. desktop entry, MIME type, man pages (with the tools that read them) ------------------
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

# --- 8. removal leaves nothing behind ---------------------------------------------------------
say "apt-get purge quantscope"
apt_in_root purge quantscope >"$work/apt-purge.log" 2>&1 || die "apt-get purge failed"
for path in usr/bin/quantscope usr/bin/quantscope-cli usr/lib/quantscope usr/share/quantscope \
    usr/share/doc/quantscope usr/share/mime/packages/quantscope.xml; do
    [ ! -e "$root/$path" ] || die "/$path is left after purge"
done
! grep -q quantscope "$root/usr/share/mime/globs2" || die "the MIME type is left after purge"

say "passed: $(basename "$deb") on a clean Debian $(cat "$root/etc/debian_version")"
echo "timings: apt-get install ${install_s}s, tutorial.sh ${tutorial_s}s," \
    "whole test $((SECONDS - started))s"
