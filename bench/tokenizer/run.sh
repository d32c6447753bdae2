#!/usr/bin/env bash
# Tokenizer benchmark: stagegate's GPT-2 encoder against tiktoken (WASM) and js-tiktoken on
# the KJV Bible (package bible-kjv) and on a multilingual mix, in one run. Needs build/ and
# `npm ci` in tools/tokenizer. Not run by CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT_DIR:-/tmp/stagegate-tokbench}
mkdir -p "$out"
bible -f "Gen1:1-Rev22:21" | sed -E 's/^[^ ]+ [0-9]+:[0-9]+ *//' >"$out/kjv.txt"
# The multilingual mix: the non-KJV strings of the tokenizer fixture, repeated to ~4 MB.
/usr/bin/python3 - "$out/mix.txt" <<'PY'
import json, sys
texts = [json.loads(l)["text"] for l in open("tests/fixtures/tokenizer/gpt2_corpus.jsonl")][511:]
body = "\n".join(t.replace("\n", " ") for t in texts) + "\n"
with open(sys.argv[1], "w") as f:
    f.write(body * max(1, 4_000_000 // len(body.encode())))
PY
for corpus in kjv mix; do
  echo "== $corpus ($(du -h "$out/$corpus.txt" | cut -f1))"
  build/bench/tokenizer/bench_tokenizer models/gpt2-tokenizer "$out/$corpus.txt" 5
  node bench/tokenizer/peer.js "$out/$corpus.txt" 5
done
