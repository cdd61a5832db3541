#!/usr/bin/env bash
# Benchmark: `testmesh run` against Hurl on the same requests, measured in one run.
#   (a) one flow of 5,000 sequential GETs, each with a status and a JSONPath assertion;
#   (b) 200 files x 25 requests, 2 parallel jobs in both tools;
#   (c) peak memory of both in (a) and (b).
# The target is nginx on loopback serving a static JSON file, so the server is not the bottleneck.
# Needs nginx (apt-get install nginx-light) and Hurl on PATH or in $HURL (cargo install hurl).
#
#   bench/run.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/testmesh-target}"
cargo build --release --quiet -p testmesh
testmesh="$CARGO_TARGET_DIR/release/testmesh"
hurl="${HURL:-$(command -v hurl || true)}"
[ -n "$hurl" ] || { echo "hurl not found: set HURL or run \`cargo install hurl\`" >&2; exit 2; }
command -v nginx >/dev/null || { echo "nginx not found: apt-get install nginx-light" >&2; exit 2; }

out="$(pwd)/bench/out/run"
rm -rf "$out" && mkdir -p "$out/www" "$out/a" "$out/b/flows" "$out/b/hurl"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo '{"id": 1, "name": "widget", "tags": ["a", "b"], "price": 9.99}' > "$out/www/item.json"
cat > "$out/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $out/nginx.pid;
error_log $out/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000;
  default_type application/json;
  server { listen 127.0.0.1:$port; root $out/www; }
}
CONF
nginx -c "$out/nginx.conf" -p "$out" &
nginx_pid=$!
trap 'kill $nginx_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/item.json" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port"

python3 - "$out" "$base" <<'PY'
import pathlib, sys
out, base = pathlib.Path(sys.argv[1]), sys.argv[2]
def flow(name, n):
    steps = "".join(
        f"  - action: http_request\n    config: {{method: GET, url: \"${{BASE}}/item.json\"}}\n"
        f"    assert: [status == 200, body.id == 1]\n" for _ in range(n))
    return f"name: {name}\nsteps:\n{steps}"
def hurl(n):
    return "".join(f"GET {{{{base}}}}/item.json\nHTTP 200\n[Asserts]\njsonpath \"$.id\" == 1\n\n" for _ in range(n))
(out / "a" / "flow.yaml").write_text(flow("5000 GETs", 5000))
(out / "a" / "flow.hurl").write_text(hurl(5000))
for i in range(200):
    (out / "b" / "flows" / f"f{i:03}.yaml").write_text(flow(f"file {i}", 25))
    (out / "b" / "hurl" / f"f{i:03}.hurl").write_text(hurl(25))
PY

# Prints "seconds peak_kib" for the fastest of $runs runs; fails if the command fails.
measure() {
  local best_s="" best_kib=0
  for _ in $(seq "$runs"); do
    local start end s kib
    start=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@" | tail -20 >&2; exit 1; }
    end=$EPOCHREALTIME
    s=$(awk "BEGIN{printf \"%.4f\", $end - $start}")
    if [ -z "$best_s" ] || awk "BEGIN{exit !($s < $best_s)}"; then best_s=$s; fi
    /usr/bin/time -o "$out/time.txt" -f "%M" "$@" >/dev/null 2>&1
    kib=$(tail -n 1 "$out/time.txt")
    if [ "$kib" -gt "$best_kib" ]; then best_kib=$kib; fi
  done
  echo "$best_s $best_kib"
}

report() { # name requests tm_s tm_kib hu_s hu_kib
  awk -v name="$1" -v n="$2" -v ts="$3" -v tk="$4" -v hs="$5" -v hk="$6" 'BEGIN{
    printf "%s: testmesh %.0f req/s (%.2fs, %d KiB) | hurl %.0f req/s (%.2fs, %d KiB) | throughput %.2fx, memory %.2fx\n",
      name, n/ts, ts, tk, n/hs, hs, hk, (ts > 0 ? hs/ts : 0), (hk > 0 ? tk/hk : 0) }'
}

# TestMesh records every run in its history (a SQLite file here); Hurl keeps none. Both are
# measured: the default, and with --no-store (the same work as Hurl).
export TESTMESH_DATABASE_URL="sqlite://$out/history.db"
# Both tools build every URL from a variable, as real suites do.
read -r ta ka < <(measure "$testmesh" run "$out/a/flow.yaml" --jobs 1 --var "BASE=$base")
read -r tan kan < <(measure "$testmesh" run "$out/a/flow.yaml" --jobs 1 --var "BASE=$base" --no-store)
read -r ha hka < <(measure "$hurl" --test --variable "base=$base" "$out/a/flow.hurl")
read -r tb kb < <(measure "$testmesh" run "$out/b/flows" --jobs 2 --var "BASE=$base")
read -r tbn kbn < <(measure "$testmesh" run "$out/b/flows" --jobs 2 --var "BASE=$base" --no-store)
read -r hb hkb < <(measure "$hurl" --test --jobs 2 --variable "base=$base" "$out"/b/hurl/*.hurl)
echo
report "(a) 1 flow x 5,000 GETs" 5000 "$ta" "$ka" "$ha" "$hka"
report "(a) the same, --no-store" 5000 "$tan" "$kan" "$ha" "$hka"
report "(b) 200 files x 25 GETs, 2 jobs" 5000 "$tb" "$kb" "$hb" "$hkb"
report "(b) the same, --no-store" 5000 "$tbn" "$kbn" "$hb" "$hkb"
