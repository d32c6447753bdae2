#!/usr/bin/python3
"""Reference values of the repetition detector's metrics (detectors/repetition/metrics.hpp),
computed straight from their definitions in issue 13, on seeded random token sequences: plain
random ones over vocabularies of 2 to 1000 ids, and ones ending in loops (short and long
periods, up to and past the longest period of 256, with noise before the loop).

    /usr/bin/python3 tools/repetition_reference.py > tests/fixtures/repetition/reference.json

tests/detectors/test_repetition_metrics.cpp compares the C++ metrics with these values.
"""
import json
import random
import sys
import zlib

WORDS = ["the", "LORD", "and", "said", "unto", "him", "of", "a", "is", "it", "naïve", "über",
         "code", "vault", "shalt", "thou", "fire", "water", "love", "--", ",", ".", "\n", "x"]
MAX_PERIOD, MIN_LENGTH = 256, 16


def seq_rep(tokens, n):
    grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def rep(tokens, window):
    if len(tokens) < 2:
        return 0.0
    hits = sum(1 for t in range(1, len(tokens)) if tokens[t] in tokens[max(0, t - window):t])
    return hits / (len(tokens) - 1)


def loop(tokens):
    """The smallest period p whose run (tokens[i] == tokens[i + p] from `start` to the end)
    reaches the end and is at least 3p and 16 tokens long, with the earliest start."""
    n = len(tokens)
    for p in range(1, MAX_PERIOD + 1):
        start = next((s for s in range(0, n - p + 1)
                      if all(tokens[i] == tokens[i + p] for i in range(s, n - p))), None)
        if start is not None and n - start >= max(3 * p, MIN_LENGTH):
            return {"period": p, "start": start}
    return None


def distinct(sequences, n):
    grams = [tuple(s[i:i + n]) for s in sequences for i in range(len(s) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def sequences(rng):
    out = [[], [7], [3, 3]]
    for _ in range(30):  # plain random
        vocab = rng.choice([2, 5, 20, 1000])
        out.append([rng.randrange(vocab) for _ in range(rng.randrange(0, 300))])
    for _ in range(30):  # ending in a loop, maybe cut mid-unit, maybe noisy before it
        head = [rng.randrange(1000) for _ in range(rng.randrange(0, 80))]
        unit = [rng.randrange(rng.choice([3, 1000])) for _ in range(rng.randrange(1, 40))]
        body = unit * rng.randrange(2, 8) + unit[:rng.randrange(0, len(unit))]
        if rng.random() < 0.3 and len(body) > 4:
            body[rng.randrange(len(body) // 2)] = 5000  # noise: the loop starts after it
        out.append(head + body)
    for period in (255, 256, 257):  # the longest period allowed, and one past it
        unit = [rng.randrange(1000) for _ in range(period)]
        out.append([1, 2] + unit * 3)
    return out


def main():
    rng = random.Random(13)
    cases = []
    seqs = sequences(rng)
    for tokens in seqs:
        text = "".join(" " + WORDS[t % len(WORDS)] for t in tokens)
        raw = text.encode("utf-8")
        found = loop(tokens)
        cases.append({
            "tokens": tokens, "text": text,
            "seq_rep_2": seq_rep(tokens, 2), "seq_rep_3": seq_rep(tokens, 3),
            "seq_rep_4": seq_rep(tokens, 4),
            "rep_16": rep(tokens, 16), "rep_32": rep(tokens, 32), "rep_128": rep(tokens, 128),
            "zlib_ratio": len(zlib.compress(raw, 9)) / len(raw) if raw else None,
            "loop": found,
            "loop_fraction": (len(tokens) - found["start"]) / len(tokens) if found else 0.0,
        })
    out = {"generator": "tools/repetition_reference.py (seed 13)", "cases": cases,
           "distinct": {str(n): distinct(seqs, n) for n in (1, 2, 3)}}
    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
