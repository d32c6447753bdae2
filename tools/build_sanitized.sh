#!/usr/bin/env bash
# Builds stagegate with Clang, AddressSanitizer and UndefinedBehaviorSanitizer (no recovery)
# and the libFuzzer targets into build-asan/. Arguments: targets to build (default: all).
# -O1 with line tables: the speed ASan's authors recommend, with file:line in every report.
# A unity build, as tools/build.sh's and for the same reason (each batch of 16 sources parses
# the heavy headers once): CI builds this tree from nothing.
# CMAKE_CXX_COMPILER_LAUNCHER=ccache in the environment is honoured by CMake.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
if [ ! -f build-asan/CMakeCache.txt ]; then
  cmake -S . -B build-asan -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
    -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 \
    -DSTAGEGATE_SANITIZE=address,undefined -DSTAGEGATE_FUZZ=ON >/dev/null
fi
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build build-asan -j"$(nproc)" "${targets[@]}"
