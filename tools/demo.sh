#!/usr/bin/env bash
# Sets everything up, builds, and runs the main job on the bundled demo checkpoint: scores a
# text, generates from it, and audits it into an SQLite database (resumable; run it twice
# and the second run says the audit is complete). The demo family (models/demo/, issue 5)
# replaces this small random GPT-2 once its trained stages land.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
model=tests/fixtures/models/gpt2-f16
sg=build/stagegate
echo "== stagegate $($sg --version | cut -d' ' -f2-)"
$sg devices
echo "== score (a small random GPT-2 made by tools/make_fixtures.py)"
$sg score --model "$model" --text "The quick brown fox jumps over the lazy dog." --json
echo "== generate (greedy, 24 tokens)"
$sg generate --model "$model" --prompt "Once upon a time" --max-tokens 24 --temperature 0 --json
mkdir -p out
db=out/demo-audit.db
echo "== audit (tests/fixtures/plans/small.ini) into $db"
$sg audit --model "$model" --stage demo --plan tests/fixtures/plans/small.ini --db "$db"
$sg runs --db "$db"
echo "read it with: sqlite3 $db 'select * from v_metrics'"
