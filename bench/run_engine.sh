#!/usr/bin/env bash
# Engine benchmark: stagegate (F16 and F32) against the PyTorch reference with a KV cache
# (F32, OpenBLAS), same checkpoint, same work, one run of this script. Prints a table of
# medians over RUNS runs. Needs: build/stagegate, /usr/bin/python3 with torch,
# libopenblas0-pthread. Not run by CI.
#   bench/run_engine.sh [checkpoint-dir]    (default: a random GPT-2 124M made on the fly)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
PROMPT=${PROMPT:-128}
GEN=${GEN:-128}
BATCH=${BATCH:-1,8}
out=${OUT_DIR:-/tmp/stagegate-bench}
mkdir -p "$out"
model=${1:-$out/gpt2-124m}
if [ ! -f "$model/model.safetensors" ]; then
  echo "making a random GPT-2 124M checkpoint in $model" >&2
  /usr/bin/python3 tools/make_checkpoint.py --preset gpt2-124m --dtype f16 --seed 1 --out "$model"
fi
: >"$out/results.jsonl"
for run in $(seq "$RUNS"); do
  for dtype in f16 f32; do
    echo "run $run: stagegate $dtype" >&2
    build/stagegate bench --model "$model" --dtype "$dtype" --prompt-tokens "$PROMPT" \
      --gen-tokens "$GEN" --batch "$BATCH" --json |
      /usr/bin/python3 -c 'import json,sys; [print(json.dumps(dict(r, impl="stagegate"))) for r in json.load(sys.stdin)]' \
        >>"$out/results.jsonl"
  done
  echo "run $run: pytorch f32" >&2
  # PyTorch's best setting on this machine: OpenBLAS with two threads, one torch thread.
  (unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
   LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=2 \
     /usr/bin/python3 bench/pytorch_peer.py --model "$model" --prompt-tokens "$PROMPT" \
     --gen-tokens "$GEN" --batch "$BATCH" --runs 1 --json) |
    /usr/bin/python3 -c 'import json,sys; [print(json.dumps(r)) for r in json.load(sys.stdin)]' \
      >>"$out/results.jsonl"
done
/usr/bin/python3 bench/summarize.py "$out/results.jsonl"
