#!/usr/bin/env bash
# Serving benchmark (issue 17): `stagegate serve` on the demo family (policies/demo.ini,
# researchers' key) over loopback; the demo's largest stage, 32-token prompts, max_tokens 64.
# REQUESTS (default 1000) at concurrency 32, then BASE_REQUESTS (default 64) at concurrency 1,
# and the throughput ratio. Needs the demo's corpus indexes (out/index, made by tools/demo.sh)
# since the policy's leakage filter reads them. Not run by CI.
#   bench/run_serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT_DIR:-/tmp/stagegate-bench-serve}
port=${PORT:-18181}
requests=${REQUESTS:-1000}
base_requests=${BASE_REQUESTS:-64}
rm -rf "$out" && mkdir -p "$out"
sqlite3 "$out/serve.db" "PRAGMA user_version;" >/dev/null  # an empty store; serve migrates it
key=$(build/stagegate keys add --keys "$out/keys.json" --audience researchers 2>/dev/null)
build/stagegate serve --policy policies/demo.ini --db "$out/serve.db" --keys "$out/keys.json" \
  --port "$port" --max-batch 32 --queue 4096 2>"$out/serve.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.2
done
run() { node bench/serve/load.mjs "http://127.0.0.1:$port" "$key" stage4 "$1" "$2"; }
run 8 8 >/dev/null  # warm-up: shaders, pipelines
c32=$(run "$requests" 32)
c1=$(run "$base_requests" 1)
echo "$c32"
echo "$c1"
/usr/bin/python3 - "$c32" "$c1" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("| concurrency | requests | errors | p50 ms | p99 ms | tokens/s | requests/s |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for r in (b, a):
    print(f"| {r['concurrency']} | {r['requests']} | {r['errors']} | {r['p50_ms']} | {r['p99_ms']} | "
          f"{r['tokens_per_second']} | {r['requests_per_second']} |")
print(f"throughput at concurrency 32 / concurrency 1: {a['tokens_per_second'] / b['tokens_per_second']:.2f}x")
PY
