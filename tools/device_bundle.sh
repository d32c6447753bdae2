#!/usr/bin/env bash
# Packs what tools/device_check.sh needs into .device.tar.xz (ignored; ~15 MB), for a machine
# lent by the `device` tool: an NVIDIA GPU with no compiler for this project (no glslc, no
# Vulkan or Boost headers) and no network. It holds the Release binaries of stagegate and the
# engine's test programs, with every shared library they load except glibc's, which must be
# the machine's own. The Vulkan loader itself comes from .gl/ (the device tool's README says
# how to fetch it).
#
# Room: the tool sends the working tree and the carried paths, 64 MiB in all, and the tracked
# tree alone is ~61 MiB, 53 of them the demo's checkpoints. The check needs only
# models/demo/stage1, so set the others aside for the run and restore them from git after:
#   mkdir -p /tmp/demo-aside
#   mv models/demo/{stage2,stage3,stage4,gpt1,toxicity-classifier} /tmp/demo-aside/
#   run(carry=[".gl", ".device.tar.xz"], command="bash tools/device_check.sh", timeout_s=540)
#   git checkout -- models/demo
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh >/dev/null
rm -rf .device
mkdir -p .device/bin .device/lib
tests=(test_matmul_shapes test_kernels test_model_reference test_classifier_reference
  test_logit_summary test_device_sampling test_pass_reuse test_continuous_batching)
cp build/stagegate .device/bin/
for t in "${tests[@]}"; do cp "build/tests/engine/$t" .device/bin/; done
# glibc's libraries and the loader stay the machine's; libvulkan comes from .gl/.
skip='^(libc|libm|libdl|libpthread|librt|ld-linux-x86-64|libvulkan)\.so'
for b in .device/bin/*; do
  ldd "$b" | awk '$3 ~ /^\// {print $3}'
done | sort -u | while read -r lib; do
  base=$(basename "$lib")
  [[ $base =~ $skip ]] || cp -L "$lib" .device/lib/
done
# The tests find their fixtures at the source path they were built from.
pwd >.device/source_dir
tar cJf .device.tar.xz .device
rm -rf .device
ls -l .device.tar.xz
