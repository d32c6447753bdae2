#!/usr/bin/python3
"""Medians per (implementation, dtype, batch) of benchmark rows (JSON lines), as a Markdown
table with decode speed relative to PyTorch at the same batch size."""
import json
import statistics
import sys
from collections import defaultdict


def main(path):
    groups = defaultdict(list)
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                groups[(r["impl"], r["dtype"], r["batch"])].append(r)
    keys = ["prefill_tok_s", "decode_tok_s", "ms_per_token_p50", "ms_per_token_p99", "peak_rss_mb"]
    med = {g: {k: statistics.median(r[k] for r in rows) for k in keys} | {"n": len(rows)}
           for g, rows in groups.items()}
    print("| impl | dtype | batch | prefill tok/s | decode tok/s | p50 ms/step | p99 ms/step "
          "| peak RSS MB | decode vs PyTorch | runs |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (impl, dtype, batch), m in sorted(med.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1])):
        peer = med.get(("pytorch", "f32", batch))
        ratio = f"{m['decode_tok_s'] / peer['decode_tok_s']:.2f}x" if peer else "-"
        print(f"| {impl} | {dtype} | {batch} | {m['prefill_tok_s']:.1f} | {m['decode_tok_s']:.1f} "
              f"| {m['ms_per_token_p50']:.2f} | {m['ms_per_token_p99']:.2f} | {m['peak_rss_mb']:.0f} "
              f"| {ratio} | {m['n']} |")


if __name__ == "__main__":
    main(sys.argv[1])
