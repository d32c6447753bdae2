#!/usr/bin/env bash
# Audit efficiency: tokens generated per second inside `stagegate audit` (the demo plan on
# one stage, into a fresh database) divided by `stagegate bench`'s decode tokens per second
# at the batch size the audit ran with, on the same checkpoint, measured alternately in one
# run. Only generated tokens count: prompt prefill, held-out scoring and the store are work
# the audit does on top of the bench's. To show where the time goes, the same plan is also
# audited without its detectors (generation only: the plan's strategies and prompts).
# Not run by CI.
#   bench/run_audit_efficiency.sh [STAGE] [ROUNDS]    (default stage4, 2 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
stage=${1:-stage4}
rounds=${2:-2}
plan=policies/plans/demo.ini
out=${OUT_DIR:-/tmp/stagegate-bench-efficiency}
rm -rf "$out" && mkdir -p "$out"
# The same plan without [detectors] and its sections (paths stay relative to policies/plans).
sed '/^\[detectors\]/,$d' "$plan" >"policies/plans/.generation-only.ini"
trap 'rm -f policies/plans/.generation-only.ini' EXIT
# The bench mirrors the plan's sequences: prompts of the held-out prompts' length (~14
# tokens), the strategies' largest max_tokens.
gen=$(sed -n 's/^max_tokens *= *//p' "$plan" | sort -n | tail -n1)
for r in $(seq "$rounds"); do
  for kind in full generation; do
    p=$plan
    [ "$kind" = generation ] && p=policies/plans/.generation-only.ini
    build/stagegate audit --model "models/demo/$stage" --stage "$stage" --plan "$p" \
      --db "$out/$kind-$r.db" --json >"$out/$kind-$r.json"
  done
  slots=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["slots"])' "$out/full-$r.json")
  build/stagegate bench --model "models/demo/$stage" --batch "$slots" --prompt-tokens 16 \
    --gen-tokens "$gen" --json >"$out/bench-$r.json"
done
/usr/bin/python3 - "$out" "$rounds" "$stage" <<'PY'
import json, sys
out, rounds, stage = sys.argv[1], int(sys.argv[2]), sys.argv[3]
print("| round | stage | audit | slots | samples | generated tokens | audit s | generated tok/s | bench decode tok/s (same batch) | efficiency |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for r in range(1, rounds + 1):
    b = json.load(open(f"{out}/bench-{r}.json"))[0]
    for kind in ("full", "generation"):
        a = json.load(open(f"{out}/{kind}-{r}.json"))
        rate = a["generated_tokens"] / a["seconds"]
        label = "demo plan" if kind == "full" else "generation only"
        print(f"| {r} | {stage} | {label} | {a['slots']} | {a['samples_done']} | "
              f"{a['generated_tokens']} | {a['seconds']:.1f} | {rate:.1f} | "
              f"{b['decode_tok_s']:.1f} | {rate / b['decode_tok_s']:.2f} |")
PY
