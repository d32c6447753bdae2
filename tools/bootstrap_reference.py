#!/usr/bin/env python3
"""Independent reference for stagegate's bootstrap intervals (detectors/seam/intervals.*).

Recomputes, from the written definition and nothing of stagegate's code, the 95 %
percentile-bootstrap intervals of a mean, of a corpus perplexity and of a ratio of sums (bits per byte): 2,000 resamples with
replacement, indices drawn from mt19937_64 (seed 0x5eed5eed) by Lemire's nearly
divisionless method, percentiles at sorted indices floor(0.025 * 1999) and
floor(0.975 * 1999). Writes tests/fixtures/intervals/bootstrap.json, which
tests/detectors/test_intervals.cpp compares with the C++ code.

Usage: python3 tools/bootstrap_reference.py [OUT.json]   (standard library only)
"""
import json
import math
import random
import sys
from pathlib import Path

MASK = (1 << 64) - 1
RESAMPLES = 2000
SEED = 0x5EED5EED


class MT19937_64:
    """The 64-bit Mersenne Twister, as the C++ standard specifies std::mt19937_64."""

    N, M = 312, 156
    A = 0xB5026F5AA96619E9
    UPPER, LOWER = MASK & ~((1 << 31) - 1), (1 << 31) - 1

    def __init__(self, seed):
        self.mt = [seed & MASK]
        for i in range(1, self.N):
            prev = self.mt[-1]
            self.mt.append((6364136223846793005 * (prev ^ (prev >> 62)) + i) & MASK)
        self.index = self.N

    def _twist(self):
        mt = self.mt
        for i in range(self.N):
            x = (mt[i] & self.UPPER) | (mt[(i + 1) % self.N] & self.LOWER)
            xa = x >> 1
            if x & 1:
                xa ^= self.A
            mt[i] = mt[(i + self.M) % self.N] ^ xa
        self.index = 0

    def __call__(self):
        if self.index >= self.N:
            self._twist()
        y = self.mt[self.index]
        self.index += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000 & MASK
        y ^= (y << 37) & 0xFFF7EEE000000000 & MASK
        y ^= y >> 43
        return y & MASK


def uniform_index(rng, n):
    product = rng() * n
    low = product & MASK
    if low < n:
        threshold = ((1 << 64) - n) % n
        while low < threshold:
            product = rng() * n
            low = product & MASK
    return product >> 64


def bootstrap(n, stat):
    value = stat(None)
    if n < 2:
        return {"value": value, "low": None, "high": None}
    rng = MT19937_64(SEED)
    stats = []
    for _ in range(RESAMPLES):
        idx = [uniform_index(rng, n) for _ in range(n)]
        stats.append(stat(idx))
    stats.sort()
    return {"value": value, "low": stats[int(0.025 * (RESAMPLES - 1))],
            "high": stats[int(0.975 * (RESAMPLES - 1))]}


def mean_interval(values):
    def stat(idx):
        picked = values if idx is None else [values[i] for i in idx]
        if not picked:
            return 0.0
        total = 0.0
        for v in picked:
            total += v
        return total / len(picked)
    return bootstrap(len(values), stat)


def perplexity_interval(texts):
    sums = []
    for t in texts:
        s = 0.0
        for lp in t:
            s += lp
        sums.append(s)
    counts = [float(len(t)) for t in texts]

    def stat(idx):
        s = c = 0.0
        for i in (range(len(texts)) if idx is None else idx):
            s += sums[i]
            c += counts[i]
        return math.exp(-s / c) if c > 0 else 0.0
    return bootstrap(len(texts), stat)


def ratio_interval(numerators, denominators):
    def stat(idx):
        s = c = 0.0
        for i in (range(len(numerators)) if idx is None else idx):
            s += numerators[i]
            c += denominators[i]
        return s / c if c > 0 else 0.0
    return bootstrap(len(numerators), stat)


def main():
    # The standard's own check of mt19937_64: its 10,000th output from the default seed.
    check = MT19937_64(5489)
    for _ in range(9999):
        check()
    assert check() == 9981545732273789042, "mt19937_64 transcription is wrong"

    rnd = random.Random(2019)
    means = [
        {"name": "empty", "values": []},
        {"name": "one value", "values": [3.5]},
        {"name": "two values", "values": [1.0, 2.0]},
        {"name": "ten normals", "values": [rnd.gauss(5, 2) for _ in range(10)]},
        {"name": "137 skewed", "values": [rnd.expovariate(0.1) for _ in range(137)]},
        {"name": "odd n for the index draw", "values": [rnd.uniform(-1, 1) for _ in range(33)]},
    ]
    for case in means:
        case["expected"] = mean_interval(case["values"])
    texts = [[-rnd.expovariate(0.3) for _ in range(rnd.randint(1, 60))] for _ in range(17)]
    perplexities = [
        {"name": "one text", "texts": texts[:1]},
        {"name": "seventeen texts", "texts": texts},
    ]
    for case in perplexities:
        case["expected"] = perplexity_interval(case["texts"])
    # Bits over bytes of whole texts (bits per byte): the ratio of sums, texts resampled whole.
    ratios = []
    for name, n in (("one text", 1), ("two texts", 2), ("forty texts", 40)):
        bytes_ = [float(rnd.randint(50, 2000)) for _ in range(n)]
        ratios.append({"name": name, "numerators": [b * rnd.uniform(0.8, 3.0) for b in bytes_],
                       "denominators": bytes_})
    for case in ratios:
        case["expected"] = ratio_interval(case["numerators"], case["denominators"])
    out = Path(sys.argv[1] if len(sys.argv) > 1 else
               Path(__file__).resolve().parent.parent / "tests/fixtures/intervals/bootstrap.json")
    out.write_text(json.dumps({"generator": "tools/bootstrap_reference.py", "mean": means,
                               "perplexity": perplexities, "ratio": ratios}, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
