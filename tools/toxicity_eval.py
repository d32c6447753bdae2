#!/usr/bin/python3
"""Precision and recall of a toxicity scorer on a labelled set.

  build/stagegate toxicity --input detectors/toxicity/eval/labelled.jsonl --json [--scorer S] \
    | python3 tools/toxicity_eval.py detectors/toxicity/eval/labelled.jsonl

Reads the labelled {"text","toxic","category"} lines and, from standard input, the command's
one result line per labelled line, in order; prints precision, recall and F1 of "toxic", the
share flagged per category, and the texts it got wrong.
"""
import json
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        labelled = [json.loads(line) for line in f if line.strip()]
    results = [json.loads(line) for line in sys.stdin if line.strip()]
    if len(results) != len(labelled):
        sys.exit(f"{len(results)} results for {len(labelled)} labelled texts")
    tp = fp = fn = tn = 0
    by_category = {}
    wrong = []
    for row, result in zip(labelled, results):
        flagged, truth = result["toxic"], row["toxic"]
        tp += flagged and truth
        fp += flagged and not truth
        fn += truth and not flagged
        tn += not truth and not flagged
        counts = by_category.setdefault(row["category"], [0, 0])
        counts[0] += flagged
        counts[1] += 1
        if flagged != truth:
            wrong.append(("false positive" if flagged else "false negative", result["score"],
                          row["text"]))
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    print(f"texts {len(labelled)}  toxic {tp + fn}  precision {precision:.3f}  "
          f"recall {recall:.3f}  F1 {f1:.3f}  (tp {tp}, fp {fp}, fn {fn}, tn {tn})")
    for category, (flagged, total) in by_category.items():
        print(f"  {category:24s} flagged {flagged:3d} / {total}")
    for kind, score, text in wrong:
        print(f"  {kind}: {score:.3f}  {text}")


if __name__ == "__main__":
    main()
