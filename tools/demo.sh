#!/usr/bin/env bash
# Sets everything up, builds, and runs the main job on the bundled demo checkpoint: scores a
# text and generates from it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
model=tests/fixtures/models/gpt2-f16
sg=build/stagegate
echo "== stagegate $($sg --version | cut -d' ' -f2-) on: $($sg devices --json | head -c 200)"
echo "== score (a small random GPT-2 made by tools/make_fixtures.py; the demo family replaces it)"
$sg score --model "$model" --text "The quick brown fox jumps over the lazy dog." --json
echo "== generate (greedy, 24 tokens)"
$sg generate --model "$model" --prompt "Once upon a time" --max-tokens 24 --temperature 0 --json
