#!/usr/bin/env bash
# Sampling on the device against sampling on the host: `stagegate bench` with and without
# --host-sampling, alternated, for greedy, top-k and top-p decoding at batch 1 and 8, on a
# random GPT-2 124M (vocabulary 50,257) and the demo family's stage 4 (8,192). Prints one
# row per setting and round; compare the two paths within a round. Not run by CI. Needs
# /usr/bin/python3 with torch (Debian's python3-torch) to make the GPT-2 checkpoint.
#   bench/run_sampling.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
out=${OUT_DIR:-/tmp/stagegate-bench}
mkdir -p "$out"
gpt2=$out/gpt2-124m
if [ ! -f "$gpt2/model.safetensors" ]; then
  echo "making a random GPT-2 124M checkpoint in $gpt2" >&2
  /usr/bin/python3 tools/make_checkpoint.py --preset gpt2-124m --dtype f16 --seed 1 --out "$gpt2"
fi
printf '| round | model | decoding | batch | device decode tok/s | host decode tok/s | device / host | picks from the summary |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for round in $(seq "$ROUNDS"); do
  for model in "$gpt2" models/demo/stage4; do
    for decoding in "greedy:--temperature 0" "top-k 40:--temperature 1 --top-k 40" \
      "top-p 0.9:--temperature 1 --top-p 0.9"; do
      name=${decoding%%:*}
      flags=${decoding#*:}
      # shellcheck disable=SC2086
      device=$(build/stagegate bench --model "$model" --prompt-tokens 16 --gen-tokens 64 \
        --batch 1,8 $flags --json)
      # shellcheck disable=SC2086
      host=$(build/stagegate bench --model "$model" --prompt-tokens 16 --gen-tokens 64 \
        --batch 1,8 $flags --host-sampling --json)
      /usr/bin/python3 - "$round" "$(basename "$model")" "$name" "$device" "$host" <<'PY'
import json, sys
round_, model, name, device, host = sys.argv[1:]
for d, h in zip(json.loads(device), json.loads(host)):
    picks = d["summary_picks"] + d["full_row_picks"]
    print(f"| {round_} | {model} | {name} | {d['batch']} | {d['decode_tok_s']:.1f} | "
          f"{h['decode_tok_s']:.1f} | {d['decode_tok_s'] / h['decode_tok_s']:.2f}x | "
          f"{100 * d['summary_picks'] / max(picks, 1):.0f} % |")
PY
    done
  done
done
