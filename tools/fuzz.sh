#!/usr/bin/env bash
# Fuzzes one target for SECONDS on its committed seed corpus plus the corpus grown by earlier
# runs (build-asan/fuzz/TARGET/corpus, kept between runs). A crash is written to
# build-asan/fuzz/TARGET/artifacts/: fix it, then add that input to tests/fuzz/corpus/TARGET/.
# Usage: tools/fuzz.sh TARGET SECONDS     (targets: ls tests/fuzz/corpus)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 2 ]; then
  echo "usage: tools/fuzz.sh TARGET SECONDS   (targets: $(ls tests/fuzz/corpus | tr '\n' ' '))" >&2
  exit 2
fi
target=$1 seconds=$2
[ -d "tests/fuzz/corpus/$target" ] || { echo "fuzz.sh: no target '$target' (tests/fuzz/corpus/$target)" >&2; exit 2; }
bash tools/build_sanitized.sh "fuzz_$target"
work=build-asan/fuzz/$target
mkdir -p "$work"
set +e
bash tools/fuzz_run.sh "build-asan/tests/fuzz/fuzz_$target" "tests/fuzz/corpus/$target" "$work" "$seconds" --keep \
  2>&1 | tee "$work.log"
status=${PIPESTATUS[0]}
set -e
files=$(find "$work/corpus" "tests/fuzz/corpus/$target" -type f | wc -l)
bytes=$(cat "$work/corpus"/* "tests/fuzz/corpus/$target"/* 2>/dev/null | wc -c)
crashes=$(find "$work/artifacts" -type f | wc -l)
echo "fuzz.sh: $target ${seconds}s: exit $status, corpus $files files ($bytes bytes), artifacts $crashes" \
  "($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work.log" | grep -o '[0-9]*$' || echo '?') runs)"
exit $status
