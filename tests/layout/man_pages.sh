#!/usr/bin/env bash
# The man pages cannot drift from the binaries: every option each --help prints is defined in
# the matching section of installer/man/*.1, and every option defined there still exists.
#   man_pages.sh MAN_DIR QUANTSCOPE_CLI [QUANTSCOPE]
# quantscope-cli: its --help lists the commands; "quantscope-cli CMD --help" must match the
# ".SS CMD" section, "quantscope-cli --help" the OPTIONS section. quantscope (GUI, optional):
# "quantscope --help" must match OPTIONS, "quantscope --export-figures --help" FIGURE EXPORT.
# An option is "defined" in a section by a ".TP" followed by a .B/.BI/.BR line naming it
# (each long option on that line, so "-h, --help" defines --help). The pages must also
# format without groff warnings.
set -uo pipefail
man_dir=${1:?usage: man_pages.sh MAN_DIR QUANTSCOPE_CLI [QUANTSCOPE]}
cli=${2:?usage: man_pages.sh MAN_DIR QUANTSCOPE_CLI [QUANTSCOPE]}
gui=${3:-}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# Long options a --help text defines: the lines of its option list ("  --name ..." or Qt's
# "  -h, --name ..."); wrapped descriptions and examples are indented further.
help_options() {
    grep -oE '^ {1,4}(-[A-Za-z], )?--[a-z0-9][a-z0-9-]*' | sed -E 's/.*--/--/' | sort -u
}

# Long options a man page section defines. The section runs from ".SH NAME"/".SS NAME"
# (quotes optional) to the next .SH/.SS.
man_options() {
    local page=$1 section=$2
    awk -v want="$section" '
        /^\.S[HS] / {
            title = substr($0, 5); gsub(/"/, "", title)
            inside = (title == want); next
        }
        inside && after_tp && /^\.B[IR]? / {
            line = $0; gsub(/\\-/, "-", line)
            while (match(line, /--[a-z0-9][a-z0-9-]*/)) {
                print substr(line, RSTART, RLENGTH); line = substr(line, RSTART + RLENGTH)
            }
        }
        { after_tp = ($0 == ".TP") }
    ' "$page" | sort -u
}

# compare WHAT HELP_OPTIONS PAGE SECTION: both directions.
compare() {
    local what=$1 from_help=$2 page=$3 section=$4
    local from_man
    from_man=$(man_options "$page" "$section")
    if [ -z "$from_help" ]; then
        fail "$what: --help printed no options"
        return
    fi
    if [ -z "$from_man" ]; then
        fail "$what: no section '$section' with options in $(basename "$page")"
        return
    fi
    local missing extra
    missing=$(comm -23 <(echo "$from_help") <(echo "$from_man"))
    extra=$(comm -13 <(echo "$from_help") <(echo "$from_man"))
    [ -z "$missing" ] ||
        fail "$what: options missing from section '$section' of $(basename "$page"):" $missing
    [ -z "$extra" ] ||
        fail "$what: section '$section' of $(basename "$page") has options --help does not:" $extra
    [ -n "$missing$extra" ] || echo "ok: $what: $(wc -l <<<"$from_help") options match '$section'"
}

check_groff() {
    local page=$1
    command -v groff >/dev/null || {
        echo "note: groff not installed; formatting warnings not checked"
        return
    }
    local warnings
    warnings=$(groff -man -ww -z "$page" 2>&1)
    [ -z "$warnings" ] || fail "groff warnings in $(basename "$page"): $warnings"
}

# --- quantscope-cli ----------------------------------------------------------------------
cli_page=$man_dir/quantscope-cli.1
[ -f "$cli_page" ] || { echo "FAIL: $cli_page missing" >&2; exit 1; }
check_groff "$cli_page"
# The page's header names the version the binary reports.
version=$("$cli" --version | awk '{print $2}')
grep -q "^\.TH .*\"QuantScope $version\"" "$cli_page" ||
    fail "quantscope-cli.1: .TH does not name \"QuantScope $version\" (quantscope-cli --version)"
main_help=$("$cli" --help) || fail "quantscope-cli --help exited non-zero"
compare "quantscope-cli --help" "$(help_options <<<"$main_help")" "$cli_page" OPTIONS
# Commands: the two-space-indented words of the "commands:" block; "help" is an alias.
commands=$(awk '/^commands:/ {on = 1; next} on && /^$/ {exit} on && /^  [a-z]/ {print $1}' \
    <<<"$main_help" | grep -vx help)
[ "$(wc -w <<<"$commands")" -ge 5 ] || fail "found only '$commands' in quantscope-cli --help"
for cmd in $commands; do
    text=$("$cli" "$cmd" --help) || fail "quantscope-cli $cmd --help exited non-zero"
    compare "quantscope-cli $cmd" "$(help_options <<<"$text")" "$cli_page" "$cmd"
done
# Every command section of the page is a command that exists.
for section in $(awk '/^\.SH COMMANDS/ {on = 1; next} /^\.SH / {on = 0} on && /^\.SS / {
        t = substr($0, 5); gsub(/"/, "", t); print t }' "$cli_page"); do
    grep -qx "$section" <<<"$commands" || fail "quantscope-cli.1 documents a command '$section' that --help does not list"
done

# --- quantscope --------------------------------------------------------------------------
if [ -n "$gui" ]; then
    gui_page=$man_dir/quantscope.1
    [ -f "$gui_page" ] || { echo "FAIL: $gui_page missing" >&2; exit 1; }
    check_groff "$gui_page"
    version=$("$gui" --version 2>/dev/null | awk '{print $2}')
    grep -q "^\.TH .*\"QuantScope $version\"" "$gui_page" ||
        fail "quantscope.1: .TH does not name \"QuantScope $version\" (quantscope --version)"
    text=$("$gui" --help 2>/dev/null) || fail "quantscope --help exited non-zero"
    compare "quantscope --help" "$(help_options <<<"$text")" "$gui_page" OPTIONS
    text=$("$gui" --export-figures --help 2>/dev/null) ||
        fail "quantscope --export-figures --help exited non-zero"
    compare "quantscope --export-figures" "$(help_options <<<"$text")" "$gui_page" "FIGURE EXPORT"
fi

if [ "$failures" -gt 0 ]; then
    echo "$failures failure(s): update installer/man/ to match the --help texts" >&2
    exit 1
fi
echo "man pages match every --help"
