#!/usr/bin/env bash
# Sets everything up, builds, and runs the whole test suite on the first Vulkan device
# (Mesa's lavapipe on a machine without a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
# Validation layers are enabled by the tests themselves where installed.
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 900
