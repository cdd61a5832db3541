#!/usr/bin/env bash
# Benchmark: the store and the REST API.
#   (a) ingest: step results recorded per second, on SQLite and on PostgreSQL (4 writers);
#   (b) GET /api/v1/executions?limit=20 with 100,000 stored executions (wrk, 2 threads, 32 connections);
#   (c) run submission: POST /api/v1/executions {flow_id} (wrk, same load; the runs are only queued).
# Needs wrk (apt-get install wrk); PostgreSQL comes from scripts/services.sh (or TESTMESH_TEST_POSTGRES_URL).
#
#   bench/api.sh [EXECUTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
executions="${1:-100000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/testmesh-target}"
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 2; }
cargo build --release --quiet -p testmesh
cargo build --release --quiet -p testmesh-store --example ingest
testmesh="$CARGO_TARGET_DIR/release/testmesh"
ingest="$CARGO_TARGET_DIR/release/examples/ingest"
source scripts/services.sh

out="$(pwd)/bench/out/api"
rm -rf "$out" && mkdir -p "$out"

echo "== (a) ingest: 1,000 runs x 50 steps"
"$ingest" "sqlite://$out/ingest.db" 1000 50
if [ -n "${TESTMESH_TEST_POSTGRES_URL:-}" ]; then
  psql "$TESTMESH_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS bench_ingest" -c "CREATE DATABASE bench_ingest" >/dev/null
  "$ingest" "${TESTMESH_TEST_POSTGRES_URL%/*}/bench_ingest" 1000 50
fi

echo "== filling the API's database with $executions executions"
db="sqlite://$out/api.db"
"$ingest" "$db" "$executions" 3 >/dev/null
key=$("$testmesh" apikey create bench --rate-limit 100000000 --database-url "$db" 2>/dev/null)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$testmesh" serve --port "$port" --database-url "$db" --no-worker --no-scheduler >"$out/serve.log" 2>&1 &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null || true; testmesh_services_stop' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$base/health" >/dev/null && break; sleep 0.1; done
auth="Authorization: Bearer $key"
flow_id=$(curl -sf -H "$auth" -H 'Content-Type: application/yaml' --data-binary \
  $'name: bench\nsteps:\n  - {action: log, config: {message: hi}}\n' "$base/api/v1/flows" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

echo "== (b) GET /api/v1/executions?limit=20"
wrk -t2 -c32 -d10s -H "$auth" "$base/api/v1/executions?limit=20" | grep -E "Requests/sec|Latency|requests in"

echo "== (c) POST /api/v1/executions"
cat >"$out/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"flow_id": "$flow_id"}'
wrk.headers["Content-Type"] = "application/json"
LUA
wrk -t2 -c32 -d10s -H "$auth" -s "$out/post.lua" "$base/api/v1/executions" | grep -E "Requests/sec|Latency|requests in|Non-2xx"
