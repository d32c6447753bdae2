#!/usr/bin/env bash
# Runs on a GPU machine lent by the `device` tool, from the bundle tools/device_bundle.sh made:
# the engine's tests on the GPU (its own shapes, KernelShapes::for_device), then
# `stagegate bench` on random GPT-2 124M and 1.5B checkpoints next to PyTorch on the same
# GPU. It prints a summary and the benchmarks' JSON, and leaves every log in
# $OUT/device-check.tar.gz (the tool brings back at most 8 files). About 6-8 minutes on an
# H200; each step has its own time limit, so a hang costs that step, not the lease.
# Tests that fail on the GPU are the finding; the script goes on to the benchmarks.
set -uo pipefail
cd "$(dirname "$0")/.."
out=/tmp/device-check
rm -rf "$out"
mkdir -p "$out"
if [ -d .gl ]; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
[ -d .device ] || tar xJf .device.tar.xz
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
export LD_LIBRARY_PATH=$PWD/.device/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
src=$(cat .device/source_dir)
if [ ! -e "$src" ]; then
  mkdir -p "$(dirname "$src")"
  ln -s "$PWD" "$src"
fi
bin=.device/bin
py=${PYTHON:-$(command -v python3)}  # the one with torch (the device image's python3)

# The whole script stays inside DEADLINE seconds (the device run's timeout less a margin):
# a step gets what is left of it at most, and none once under 10 s are left.
deadline=${DEADLINE:-500}
step() {  # step NAME SECONDS COMMAND...: its output to $out/NAME.log, its status to the summary
  local name=$1 limit=$2
  shift 2
  local left=$((deadline - SECONDS))
  if [ "$left" -lt 10 ]; then
    echo "$name: skipped, the deadline is reached"
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  local t0=$SECONDS
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  echo "$name: rc=$? in $((SECONDS - t0)) s; $(grep -E 'PASSED|FAILED' "$out/$name.log" | tail -1)"
}

step devices 30 "$bin/stagegate" devices
cat "$out/devices.log"
for t in "$bin"/test_*; do step "$(basename "$t")" 120 "$t"; done
step make_124m 120 "$py" tools/make_checkpoint.py --preset gpt2-124m --dtype f16 --seed 1 \
  --out /tmp/gpt2-124m
step bench_124m 120 "$bin/stagegate" bench --model /tmp/gpt2-124m --batch 1,8,64 --json
step profile_124m 60 "$bin/stagegate" bench --model /tmp/gpt2-124m --batch 1 --profile
step peer_124m 120 "$py" bench/pytorch_peer.py --device cuda --model /tmp/gpt2-124m \
  --batch 1,8,64 --runs 1 --json
step make_1.5b 180 "$py" tools/make_checkpoint.py --preset gpt2-1.5b --dtype f16 --seed 3 \
  --out /tmp/gpt2-1.5b
step bench_1.5b 150 "$bin/stagegate" bench --model /tmp/gpt2-1.5b --batch 1,8 --json
step peer_1.5b 120 "$py" bench/pytorch_peer.py --device cuda --model /tmp/gpt2-1.5b \
  --batch 1,8 --runs 1 --json
for f in bench_124m peer_124m bench_1.5b peer_1.5b profile_124m; do
  [ -f "$out/$f.log" ] || continue
  echo "== $f"
  tail -c 2000 "$out/$f.log"
  echo
done
[ -n "${OUT:-}" ] && tar czf "$OUT/device-check.tar.gz" -C /tmp device-check
exit 0
