#!/usr/bin/env bash
# Tests of the Vim files, in Vim itself (headless):
#   - the syntax groups under chosen words of test/sample.wf (test/syntax.vim);
#   - re-indenting a formatted file (`weft fmt` style) changes nothing, for every .wf file
#     given (default: test/sample.wf);
#   - a file with its indentation removed (outside triple-quoted strings) is indented back.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
command -v vim >/dev/null || { echo "vim is not installed" >&2; exit 2; }
out="$(mktemp)"
tmp="$(mktemp --suffix=.wf)"
trap 'rm -f "$out" "$tmp"' EXIT

run_vim() { # SCRIPT FILE
  WEFT_OUT="$out" vim -N -u NONE -i NONE -es --cmd "set rtp^=$here" -c "source $1" "$2" </dev/null >/dev/null 2>&1
}

status=0
if run_vim "$here/test/syntax.vim" "$here/test/sample.wf"; then
  cat "$out"
else
  echo "vim syntax: failures:" >&2; cat "$out" >&2; status=1
fi

files=("$@")
[ ${#files[@]} -gt 0 ] || files=("$here/test/sample.wf")
checked=0
for file in "${files[@]}"; do
  run_vim "$here/test/indent.vim" "$file" || true
  if ! diff -u "$file" "$out" >&2; then
    echo "vim indent: re-indenting $file changed it" >&2; status=1
  fi
  checked=$((checked + 1))
done
echo "vim indent: $checked formatted files unchanged"

# Flatten the sample (its triple-quoted strings aside) and indent it back.
awk '/"""/ { n = gsub(/"""/, "&"); if (inside) { print; if (n % 2) inside = 0; next } else if (n % 2) { sub(/^[ \t]+/, ""); print; inside = 1; next } }
     inside { print; next } { sub(/^[ \t]+/, ""); print }' "$here/test/sample.wf" > "$tmp"
run_vim "$here/test/indent.vim" "$tmp" || true
if diff -u "$here/test/sample.wf" "$out" >&2; then
  echo "vim indent: a flattened file is indented back"
else
  echo "vim indent: the flattened sample was not indented back" >&2; status=1
fi
exit $status
