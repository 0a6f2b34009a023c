# generate on stories260K with reference/story.txt as prompt reproduces llama2.c's tokens.
source "$(dirname "$0")/cli_common.bash"
require_shared
out=$("$CLI" generate --model "$MODEL" --prompt "$(cat "$REF/story.txt")" --max-new-tokens 64 --json --quiet)
prompt=$(echo "$out" | json_get prompt_tokens)
new=$(echo "$out" | json_get new_tokens)
[ "$prompt" = "$(i32_json "$REF/story.tokens.i32")" ] || fail "prompt tokens differ: $prompt"
[ "$new" = "$(i32_json "$REF/story.greedy.i32")" ] || fail "greedy tokens differ: $new"
echo "$out" | json_get text
echo "OK: prompt and 64 greedy tokens match llama2.c"
