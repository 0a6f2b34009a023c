# --help, --version and the hints of bad command lines, for every command; and the recipe
# reference cannot drift: every ```yaml block of docs/recipes.md (and every bundled recipe)
# parses, and its table of export formats matches what `quantize --dry-run` decides.
source "$(dirname "$0")/cli_common.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
COMMANDS="info generate eval quantize export import sweep report synth"
export OMP_WAIT_POLICY=passive

# run_cli NAME ARGS...: stdout -> $TMP/NAME.out, stderr -> $TMP/NAME.err, status -> $rc
run_cli() {
  local name=$1; shift
  set +e
  timeout 120 "$CLI" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
  rc=$?
  set -e
}
expect_rc() { [ "$rc" = "$1" ] || { cat "$TMP/$2.err" >&2; fail "$2: exit $rc, expected $1"; }; }
expect_in() {  # expect_in FILE TEXT...: each TEXT occurs in FILE
  local file=$1; shift
  for text in "$@"; do grep -qF -- "$text" "$file" || { cat "$file" >&2; fail "$file lacks '$text'"; }; done
}
# Option names a command's source declares in its `specs` table ({"name", true|false, ...}).
declared_options() {
  grep -oE '\{"[a-z0-9-]+", (true|false)' "$ROOT/app/cli/cmd_$1.cpp" | sed -E 's/\{"([^"]+)".*/\1/'
}

# --- top-level help, version, unknown command ---------------------------------------------
run_cli top --help; expect_rc 0 top
head -1 "$TMP/top.out" | grep -q '^usage: quantscope-cli <command>' || fail "--help: no usage line"
for c in $COMMANDS; do grep -qE "^  $c  " "$TMP/top.out" || fail "--help does not list $c"; done
run_cli none; expect_rc 2 none
expect_in "$TMP/none.err" "usage: quantscope-cli"
version=$(sed -nE 's/^project\(QuantScope VERSION ([0-9.]+).*/\1/p' "$ROOT/CMakeLists.txt")
[ -n "$version" ] || fail "no project version in CMakeLists.txt"
run_cli version --version; expect_rc 0 version
head -1 "$TMP/version.out" | grep -q "^quantscope-cli $version " || fail "--version: $(cat "$TMP/version.out"), expected $version"
run_cli badcmd exprot; expect_rc 2 badcmd
expect_in "$TMP/badcmd.err" "unknown command 'exprot'" "did you mean 'export'" "quantscope-cli --help"
run_cli badtop --verbose; expect_rc 2 badtop
expect_in "$TMP/badtop.err" "unknown option '--verbose'" "quantscope-cli --help"

# --- every command: usage first, a sentence, every declared option with help, an example ----
for c in $COMMANDS; do
  run_cli "help-$c" "$c" --help; expect_rc 0 "help-$c"
  out="$TMP/help-$c.out"
  head -1 "$out" | grep -q "^usage: quantscope-cli $c " || fail "$c --help does not start with usage"
  # The first paragraph after the usage lines is one sentence saying what the command does.
  awk 'NF == 0 { getline; print; exit }' "$out" | grep -qE '^[A-Z][a-z]+s .{20,}' ||
    fail "$c --help: no summary sentence after the usage lines"
  grep -q '^options:$' "$out" || fail "$c --help: no options section"
  grep -A3 -E '^examples?:$' "$out" | grep -q "quantscope-cli $c " || fail "$c --help: no example"
  options=$(declared_options "$c")
  [ -n "$options" ] || fail "no specs found in app/cli/cmd_$c.cpp"
  for o in $options; do
    # The option's line has its help text, on the same line or (long names) the next one.
    grep -A1 -E "^  --$o( [A-Z.0-9]+)?( |$)" "$out" | grep -qE '[a-z]{3}' ||
      fail "$c --help: --$o has no help line"
  done
  # Every option the help shows is one the command accepts (no stale help lines).
  for o in $(grep -oE '^  --[a-z0-9-]+' "$out" | sed 's/^  --//'); do
    echo "$options" | grep -qx -- "$o" || fail "$c --help shows --$o, which $c does not declare"
  done
  run_cli "h-$c" "$c" -h; expect_rc 0 "h-$c"
  cmp -s "$out" "$TMP/h-$c.out" || fail "$c -h differs from $c --help"
  run_cli "helpcmd-$c" help "$c"; expect_rc 0 "helpcmd-$c"
  cmp -s "$out" "$TMP/helpcmd-$c.out" || fail "help $c differs from $c --help"
  # An unknown option: exit 2, the nearest name, and where the options are.
  run_cli "bad-$c" "$c" --no-such-option; expect_rc 2 "bad-$c"
  expect_in "$TMP/bad-$c.err" "unknown option '--no-such-option'" "quantscope-cli $c --help"
done
run_cli typo info --modle x; expect_rc 2 typo
expect_in "$TMP/typo.err" "did you mean --model?" "quantscope-cli info --help"
run_cli missing info; expect_rc 2 missing
expect_in "$TMP/missing.err" "missing required option --model DIR" "quantscope-cli info --help"
run_cli stray info --json extra; expect_rc 2 stray
expect_in "$TMP/stray.err" "unexpected argument 'extra'" "--json takes no value"
run_cli notint eval --model x --dataset y --limit many; expect_rc 2 notint
expect_in "$TMP/notint.err" "--limit expects an integer, got 'many'"
echo "ok: --help, --version and usage errors of $COMMANDS"

require_shared

# --- common mistakes: one error line naming the file and saying what to do ------------------
expect_hint() {  # expect_hint NAME RC TEXT... -- ARGS...
  local name=$1 want=$2; shift 2
  local texts=()
  while [ "$1" != "--" ]; do texts+=("$1"); shift; done
  shift
  run_cli "$name" "$@"; expect_rc "$want" "$name"
  [ "$(grep -c . "$TMP/$name.err")" = 1 ] || { cat "$TMP/$name.err" >&2; fail "$name: not one line"; }
  expect_in "$TMP/$name.err" "${texts[@]}"
  echo "ok ($name): $(cat "$TMP/$name.err")"
}
mkdir -p "$TMP/empty" "$TMP/exists"
printf 'weights: int4-g32-sym\nfoo: 1\n' > "$TMP/badkey.yaml"
printf 'methods: [rtn]\nweights: int4-g32-sym\n' > "$TMP/rtn.yaml"
expect_hint notmodel 1 "$TMP/empty: not a model directory" "config.json" -- info --model "$TMP/empty"
expect_hint nomodel 1 "$TMP/nowhere: not a model directory" "no such folder" -- info --model "$TMP/nowhere"
expect_hint norecipe 1 "$TMP/none.yaml: no such recipe file" "docs/recipes.md" -- \
  quantize --model "$MODEL" --out "$TMP/q" --recipe "$TMP/none.yaml"
expect_hint badkey 1 "unknown key 'foo'" "known: activation_ranges" "docs/recipes.md" -- \
  quantize --model "$MODEL" --out "$TMP/q" --recipe "$TMP/badkey.yaml"
expect_hint badformat 1 "unknown quantization format 'int9'" "docs/recipes.md" -- \
  quantize --recipe /dev/stdin --dry-run < <(printf 'weights: int9\n')
expect_hint nodata 1 "$TMP/none.txt: no such dataset file" "UTF-8 text file" -- \
  eval --model "$MODEL" --dataset "$TMP/none.txt"
expect_hint exists 1 "$TMP/exists: already exists" "use --force" -- \
  quantize --model "$MODEL" --out "$TMP/exists" --recipe "$TMP/rtn.yaml"
expect_hint exists-export 1 "$TMP/exists: already exists" "use --force" -- \
  export --model "$MODEL" --recipe "$TMP/rtn.yaml" --format gptq --out "$TMP/exists"
expect_hint norecipe-export 2 "--format gptq needs --recipe FILE" -- \
  export --model "$MODEL" --format gptq --out "$TMP/g"
expect_hint context 2 "exceeds the model context of 512 tokens" "--seqlen 512" -- \
  eval --model "$MODEL" --dataset "$REF/story.txt" --seqlen 4096
"$CLI" export --model "$MODEL" --recipe "$TMP/rtn.yaml" --format gptq --out "$TMP/packed" --quiet >/dev/null
expect_hint packed 1 "packed gptq checkpoint" "quantscope-cli import --in $TMP/packed" -- \
  eval --model "$TMP/packed" --dataset "$REF/story.txt"
expect_hint exclusive 2 "--resume and --force exclude each other" -- \
  sweep --model "$MODEL" --grid "$ROOT/bench/sweep_stories260k.yaml" --session "$TMP/s.h5" --resume --force

# --- docs/recipes.md: every ```yaml block parses (recipes with quantize --dry-run, grids -----
# --- whose first line is "# sweep grid" with sweep --dry-run); paths under ../shared are ----
# --- read from $SHARED ------------------------------------------------------------------------
DOC="$ROOT/docs/recipes.md"
[ -f "$DOC" ] || fail "no $DOC"
mkdir -p "$TMP/blocks"
awk -v dir="$TMP/blocks" '
  /^```yaml/ { n++; file = sprintf("%s/%03d.yaml", dir, n); inside = 1; next }
  /^```/ { inside = 0; next }
  inside { print > file }' "$DOC"
blocks=$(ls "$TMP/blocks" | wc -l)
[ "$blocks" -ge 10 ] || fail "docs/recipes.md has only $blocks yaml blocks"
for f in "$TMP"/blocks/*.yaml "$ROOT"/resources/recipes/*.yaml; do
  sed -i "s#\.\./shared/#$SHARED/#g" "$f" 2>/dev/null || true
  if head -1 "$f" | grep -q '^# sweep grid'; then
    cp "$f" "$TMP/grid.yaml"  # a grid resolves relative paths against its folder
    run_cli grid sweep --grid "$TMP/grid.yaml" --dry-run; expect_rc 0 grid
    grep -qv '^#' "$TMP/grid.out" || fail "grid block $f expands to no recipe"
    continue
  fi
  run_cli block quantize --recipe "$f" --dry-run --model "$MODEL"
  [ "$rc" = 0 ] || { cat "$f" "$TMP/block.err" >&2; fail "recipe block $(basename "$f") does not parse"; }
  # The canonical form parses back to itself.
  grep -v '^#' "$TMP/block.out" > "$TMP/canonical.yaml"
  run_cli again quantize --recipe "$TMP/canonical.yaml" --dry-run; expect_rc 0 again
  diff -q "$TMP/canonical.yaml" "$TMP/again.out" >/dev/null || fail "$f: canonical form changes on a re-read"
done
echo "ok: $blocks yaml blocks of docs/recipes.md and every bundled recipe parse"

# --- the table "which export formats fit" against --dry-run on a Llama of hidden 256 ------------
"$CLI" synth --out "$TMP/llama" --layers 2 >/dev/null 2>&1 || fail "synth"
rows=0
while IFS='|' read -r _ recipe formats gguf _; do
  recipe=$(echo "$recipe" | sed -E 's/^ *`//; s/` *$//')
  formats=$(echo "$formats" | sed -E 's/^ *//; s/ *$//')
  gguf=$(echo "$gguf" | sed -E 's/^ *//; s/ *$//')
  echo "$recipe" > "$TMP/row.yaml"
  run_cli row quantize --recipe "$TMP/row.yaml" --dry-run --model "$TMP/llama"
  [ "$rc" = 0 ] || { cat "$TMP/row.err" >&2; fail "table row '$recipe' does not parse"; }
  got=$(sed -nE 's/^# export --format that fit: //p' "$TMP/row.out")
  got_gguf=$(sed -nE 's/^# export --format gguf --gguf-type that fit: //p' "$TMP/row.out")
  [ "$got" = "$formats" ] || fail "table row '$recipe': formats '$formats', --dry-run says '$got'"
  [ "$got_gguf" = "$gguf" ] || fail "table row '$recipe': gguf '$gguf', --dry-run says '$got_gguf'"
  rows=$((rows + 1))
done < <(sed -n '/^<!-- export-table -->/,/^$/p' "$DOC" | grep -E '^\| `\{')
[ "$rows" -ge 8 ] || fail "export table of docs/recipes.md has $rows checked rows"
echo "ok: $rows rows of the export-format table match quantize --dry-run"

# --- the GUI (when built beside the CLI): --help ends with an example, --version ------------
GUI=$(dirname "$CLI")/../gui/quantscope
if [ -x "$GUI" ]; then
  export QT_QPA_PLATFORM=offscreen
  "$GUI" --help > "$TMP/gui.out" 2>/dev/null || fail "quantscope --help failed"
  expect_in "$TMP/gui.out" "--screenshot" "--export-figures" "Examples:"
  "$GUI" --version 2>/dev/null | grep -q "$version" || fail "quantscope --version lacks $version"
  "$GUI" --export-figures --help > "$TMP/fig.out" 2>/dev/null || fail "--export-figures --help failed"
  expect_in "$TMP/fig.out" "--preset" "Examples:"
  set +e; "$GUI" --no-such-option >/dev/null 2>"$TMP/guibad.err"; rc=$?; set -e
  expect_rc 2 guibad
  expect_in "$TMP/guibad.err" "quantscope --help"
  echo "ok: quantscope --help, --version, --export-figures --help"
fi
echo "OK"
