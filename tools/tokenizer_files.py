#!/usr/bin/python3
"""Tokenizer files (vocab.json + merges.txt) for the small checkpoints tools/ makes.

GPT-2: a prefix of GPT-2's real tokenizer. Ids 0..255 are its byte tokens and id 256+r is
the result of merge rank r, so keeping the first V-1 ids and the first V-257 merges gives a
valid byte-level BPE vocabulary of size V, with <|endoftext|> moved to id V-1.

GPT-1: a small lower-cased BPE with </w> word ends, learned here on KJV text in the format
of Hugging Face's openai-gpt files (single characters, characters with </w>, merges, <unk>)."""
import collections
import json
import os
import re
import subprocess

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
GPT2_DIR = os.path.join(ROOT, "models", "gpt2-tokenizer")


def write_gpt2_tokenizer(out, vocab_size):
    with open(os.path.join(GPT2_DIR, "vocab.json"), encoding="utf-8") as f:
        full = json.load(f)
    with open(os.path.join(GPT2_DIR, "merges.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    merges = [l for l in lines[1:] if l]
    if vocab_size >= len(full):
        vocab, kept = full, merges
    else:
        vocab = {tok: i for tok, i in full.items() if i < vocab_size - 1}
        vocab["<|endoftext|>"] = vocab_size - 1
        kept = merges[:vocab_size - 1 - 256]
    with open(os.path.join(out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(out, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(kept) + "\n")


def kjv_text():
    try:
        return subprocess.run(["bible", "-f", "Gen1:1-Gen11:32"], capture_output=True, text=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "In the beginning God created the heaven and the earth. " * 50


def learn_gpt1_bpe(text, vocab_size):
    """Classic BPE (Sennrich et al.) over lower-cased words with </w> on the last symbol."""
    words = collections.Counter(re.findall(r"[a-z]+|[^\sa-z]", text.lower()))
    corpus = {tuple(w[:-1]) + (w[-1] + "</w>",): c for w, c in words.items()}
    symbols = set()
    for w in corpus:
        symbols.update(w)
    base = sorted(symbols | {c for c in "abcdefghijklmnopqrstuvwxyz"} |
                  {c + "</w>" for c in "abcdefghijklmnopqrstuvwxyz.,;:!?'\"()-"})
    merges = []
    while len(base) + len(merges) + 1 < vocab_size:
        pairs = collections.Counter()
        for w, c in corpus.items():
            for a, b in zip(w, w[1:]):
                pairs[a, b] += c
        if not pairs:
            break
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        merges.append((a, b))
        new = {}
        for w, c in corpus.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] = new.get(tuple(out), 0) + c
        corpus = new
    vocab = {}
    for s in base:
        vocab[s] = len(vocab)
    for a, b in merges:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    vocab["<unk>"] = len(vocab)
    return vocab, merges


def write_gpt1_tokenizer(out, vocab_size):
    vocab, merges = learn_gpt1_bpe(kjv_text(), vocab_size)
    assert len(vocab) <= vocab_size, (len(vocab), vocab_size)
    with open(os.path.join(out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(out, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
