#!/usr/bin/env bash
# One fuzz run: every input of SEEDS is executed first (the regression part), then libFuzzer
# mutates for SECONDS, writing new inputs under WORK/corpus (never into SEEDS) and any crash
# under WORK/artifacts. Exit status non-zero on a crash, a sanitizer report, a leak, a
# timeout (10 s per input) or more than 2 GB of memory.
# Usage: fuzz_run.sh BINARY SEEDS WORK SECONDS [--keep]   (--keep: WORK/corpus grows across runs)
set -euo pipefail
bin=$1 seeds=$2 work=$3 seconds=$4 keep=${5:-}
source "$(dirname "$0")/sanitizer_env.sh"
[ "$keep" = --keep ] || rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
name=$(basename "$seeds")
dict=()
[ -f "$seeds/../../dict/$name.dict" ] && dict=(-dict="$seeds/../../dict/$name.dict")
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  "${dict[@]}" -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds"
