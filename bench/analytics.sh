#!/usr/bin/env bash
# Benchmark (not a test): `testmesh analytics aggregate` over a large history, on SQLite and on
# PostgreSQL. Fills each database with EXECUTIONS executions of 200 flows over 30 days (five steps
# each, generated inside the database by the analytics_seed example), then times one aggregation
# of the whole range and records its peak memory (/usr/bin/time -v). Prints one line per backend.
#
#   bench/analytics.sh [EXECUTIONS]        # default 1,000,000 (≈ 5M steps)
#   TESTMESH=path/to/testmesh SEED=path/to/analytics_seed bench/analytics.sh 100000   # no release build
#
# PostgreSQL comes from scripts/services.sh (or TESTMESH_TEST_POSTGRES_URL); without one only SQLite
# is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
executions="${1:-1000000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/testmesh-target}"
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing: apt-get install time" >&2; exit 2; }
if [ -z "${TESTMESH:-}" ] || [ -z "${SEED:-}" ]; then
  cargo build --release --quiet -p testmesh --bin testmesh
  cargo build --release --quiet -p testmesh-store --example analytics_seed
fi
testmesh="${TESTMESH:-$CARGO_TARGET_DIR/release/testmesh}"
seed="${SEED:-$CARGO_TARGET_DIR/release/examples/analytics_seed}"
source scripts/services.sh

out="$(pwd)/bench/out/analytics"
rm -rf "$out" && mkdir -p "$out"

# measure NAME URL: seed, aggregate, print the numbers.
measure() {
  local name="$1" url="$2" fill_start fill_end range from to
  fill_start=$(date +%s.%N)
  range=$("$seed" "$url" "$executions" 30 200 2>/dev/null)
  fill_end=$(date +%s.%N)
  read -r from to <<<"$range"
  /usr/bin/time -v "$testmesh" analytics aggregate --from "$from" --to "$to" \
    --database-url "$url" --json >"$out/$name.json" 2>"$out/$name.time"
  python3 - "$name" "$out/$name.json" "$out/$name.time" "$fill_start" "$fill_end" <<'PY'
import json, re, sys
name, summary_path, time_path, fill_start, fill_end = sys.argv[1:]
summary = json.load(open(summary_path))[0]
timing = open(time_path).read()
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", timing).group(1)
parts = [float(p) for p in wall.split(":")]
seconds = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) > 2 else 0)
rss_mb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1)) / 1024
print(
    f"{name:<10} {summary['executions']:>9,} executions {summary['steps']:>10,} steps  "
    f"aggregate {seconds:6.1f} s (in-process {summary['elapsed_ms'] / 1000:6.1f} s)  "
    f"peak RSS {rss_mb:6.0f} MiB  "
    f"rows: {summary['daily_rows']:,} daily, {summary['step_rows']:,} step, "
    f"{summary['flows_scored']} flows scored ({summary['flaky_flows']} flaky)  "
    f"[fill {float(fill_end) - float(fill_start):.0f} s]"
)
PY
}

echo "== analytics aggregate over $executions executions (30 days, 200 flows, 5 steps each)"
measure sqlite "sqlite://$out/analytics.db"
if [ -n "${TESTMESH_TEST_POSTGRES_URL:-}" ]; then
  psql "$TESTMESH_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS bench_analytics" -c "CREATE DATABASE bench_analytics" >/dev/null
  measure postgres "${TESTMESH_TEST_POSTGRES_URL%/*}/bench_analytics"
else
  echo "postgres   skipped: no PostgreSQL (scripts/services.sh could not start one)"
fi
