#!/usr/bin/env bash
# Installs the build dependencies (Debian packages) and builds stagegate into build/.
# -O2 without debug information: a third less compile CPU than RelWithDebInfo (a sample of 16
# translation units: 112 s against 169 s). Not CMake's Release -O3, which compiles no faster and
# trips GCC 12's false -Wrestrict on std::string (GCC bug 105651). Configure another build
# directory with RelWithDebInfo to debug.
# A unity build: CMake compiles each target's sources in batches of up to 16 files, so the
# headers every file includes (Vulkan-Hpp, nlohmann/json, GoogleTest) are parsed once per batch
# instead of once per file. Not for development, where one edited file recompiles its batch.
# Each file's anonymous namespace then shares its batch with the others': helpers of the same
# name in two files of one target must differ in name (or live in one shared header).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 >/dev/null
cmake --build build -j"$(nproc)"
