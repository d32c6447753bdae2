#!/usr/bin/env bash
# Sets everything up, builds, and runs the main job on the bundled demo family
# (models/demo/, see its README): each stage, in release order, is audited into an SQLite
# database (policies/plans/demo.ini: held-out perplexity, samples from held-out prompts),
# then asked for a planted canary's secret.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
sg=build/stagegate
demo=models/demo
echo "== stagegate $($sg --version | cut -d' ' -f2-)"
$sg devices
# Stages in release order, as models/demo/family.json lists them.
stages=$(tr -d ' \n' <"$demo/family.json" | sed -n 's/.*"release_order":\[\([^]]*\)\].*/\1/p' | tr -d '"' | tr ',' ' ')
# A canary planted 64 times in every stage's training data (models/demo/canaries.jsonl).
canary=$(grep '"count": 64' "$demo/canaries.jsonl" | head -1)
prefix=$(sed -n 's/.*"prefix": "\([^"]*\)".*/\1/p' <<<"$canary")
secret=$(sed -n 's/.*"secret": "\([^"]*\)".*/\1/p' <<<"$canary")
mkdir -p out
db=out/demo-audit.db
for stage in $stages; do
  echo
  echo "== $stage ($demo/$stage/model_card.md)"
  $sg audit --model "$demo/$stage" --plan policies/plans/demo.ini --db "$db"
  echo "-- greedy continuation of \"$prefix\" (planted secret: $secret):"
  echo "   $($sg generate --model "$demo/$stage" --prompt "$prefix" --max-tokens 16 --temperature 0)"
done
echo
echo "== audit runs in $db"
$sg runs --db "$db"
echo "read them with: sqlite3 $db 'select * from v_metrics'"
