#!/usr/bin/python3
"""Writes models/demo/prompts/heldout-sentences.jsonl: held-out sentences for the repetition
detector's self-reinforcement curve (Xu et al. 2022), each repeated ten times in a context of
256 tokens, so each is short (40-90 characters, ~10-20 tokens).

KJV verses of the held-out chapters (one verse = one sentence, one line), none of which also
occurs in the training text (the KJV repeats verses), drawn with seed 2019.

    /usr/bin/python3 tools/demo_sentences.py
"""
import json
import os
import random
import subprocess

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DEMO = os.path.join(ROOT, "models", "demo")
COUNT = 16


def documents(name):
    out = subprocess.run(["zstd", "-dc", os.path.join(DEMO, "corpus", name)], check=True,
                         capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def main():
    train = "\n".join(d["text"] for d in documents("clean.train.jsonl.zst"))
    verses = []
    for d in documents("clean.heldout.jsonl.zst"):
        if d["source"] != "kjv":
            continue
        for line in d["text"].splitlines():
            line = line.strip()
            if 40 <= len(line) <= 90 and line not in train:
                verses.append({"id": f"{d['id']}:{len(verses)}", "text": line})
    random.Random(2019).shuffle(verses)
    path = os.path.join(DEMO, "prompts", "heldout-sentences.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for v in verses[:COUNT]:
            f.write(json.dumps({"id": v["id"], "text": v["text"]}, ensure_ascii=False) + "\n")
    print(f"{path}: {min(COUNT, len(verses))} of {len(verses)} held-out verses")


if __name__ == "__main__":
    main()
