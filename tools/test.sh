#!/usr/bin/env bash
# Sets everything up, builds, and runs the whole test suite on the first Vulkan device
# (Mesa's lavapipe on a machine without a GPU); then the sanitizer step: a Clang
# ASan+UBSan build of the input-reading suites and every fuzz target, run on their corpora
# (tools/test_sanitized.sh says which suites and why).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
# Validation layers are enabled by the tests themselves where installed.
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 900
bash tools/test_sanitized.sh
