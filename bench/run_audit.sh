#!/usr/bin/env bash
# Audit benchmark: the demo plan (policies/plans/demo.ini) on every stage of the demo
# family into a fresh database, timing the whole audit and, inside it, every call into the
# store. "engine only" is the same audit with the store's time taken out. Not run by CI.
#   bench/run_audit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT_DIR:-/tmp/stagegate-bench-audit}
rm -rf "$out" && mkdir -p "$out"
for stage in stage1 stage2 stage3 stage4; do
  build/stagegate audit --model "models/demo/$stage" --plan policies/plans/demo.ini \
    --db "$out/audit.db" --json >>"$out/results.jsonl"
done
/usr/bin/python3 - "$out/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| stage | samples | audit s | store s | store share | samples/s (audit) | samples/s (engine only) |")
print("| --- | --- | --- | --- | --- | --- | --- |")
tot = [0, 0.0, 0.0]
for r in rows:
    n, s, st = r["samples_new"], r["seconds"], r["store_seconds"]
    tot[0] += n; tot[1] += s; tot[2] += st
    print(f"| {r['stage']} | {n} | {s:.1f} | {st:.2f} | {100 * st / s:.2f} % | {n / s:.1f} | {n / (s - st):.1f} |")
n, s, st = tot
print(f"| all | {n} | {s:.1f} | {st:.2f} | {100 * st / s:.2f} % | {n / s:.1f} | {n / (s - st):.1f} |")
PY
