#!/usr/bin/env bash
# Parses every .wf file under the given directories (or the given files) with the tree-sitter
# grammar of this directory and fails when any tree holds an ERROR or MISSING node.
#
#   check-corpus.sh [--skip NAME]... PATH...
#
# --skip NAME leaves out files whose path has a component NAME (e.g. a case that is a syntax
# error on purpose). Needs the `tree-sitter` CLI (cargo install tree-sitter-cli --locked).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
skips=()
paths=()
while [ $# -gt 0 ]; do
  case "$1" in
    --skip) skips+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) paths+=("$1"); shift ;;
  esac
done
if [ ${#paths[@]} -eq 0 ]; then
  echo "usage: $0 [--skip NAME]... PATH..." >&2
  exit 2
fi

files=()
for path in "${paths[@]}"; do
  if [ ! -e "$path" ]; then
    echo "check-corpus: no such file or directory: $path" >&2
    exit 2
  fi
  while IFS= read -r -d '' file; do
    skipped=false
    for skip in "${skips[@]+"${skips[@]}"}"; do
      case "/$file/" in */"$skip"/*) skipped=true ;; esac
    done
    $skipped || files+=("$(cd "$(dirname "$file")" && pwd)/$(basename "$file")")
  done < <(find "$path" -name '*.wf' -type f -print0 | sort -z)
done
if [ ${#files[@]} -eq 0 ]; then
  echo "check-corpus: no .wf file under ${paths[*]}" >&2
  exit 2
fi

# An empty configuration: the grammar of this directory is the only one wanted.
config="$(mktemp)"
trap 'rm -f "$config"' EXIT
echo '{"parser-directories": []}' > "$config"

cd "$here"
status=0
output="$(tree-sitter parse --quiet --config-path "$config" "${files[@]}" 2>&1)" || status=$?
bad="$(grep -E 'ERROR|MISSING' <<<"$output" || true)"
if [ $status -ne 0 ] || [ -n "$bad" ]; then
  echo "check-corpus: tree-sitter could not parse these files cleanly:" >&2
  echo "${bad:-$output}" >&2
  exit 1
fi
echo "check-corpus: ${#files[@]} files parsed with no ERROR or MISSING node"
