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

# The six commands, by name: each tool on (a) and (b), TestMesh with and without its history.
# TestMesh records every run in its history (a SQLite file here); Hurl keeps none. Both are
# measured: the default, and with --no-store (the same work as Hurl). Both tools build every URL
# from a variable, as real suites do.
export TESTMESH_DATABASE_URL="sqlite://$out/history.db"
command_of() {
  case "$1" in
    a) cmd=("$testmesh" run "$out/a/flow.yaml" --jobs 1 --var "BASE=$base") ;;
    a_nostore) cmd=("$testmesh" run "$out/a/flow.yaml" --jobs 1 --var "BASE=$base" --no-store) ;;
    a_hurl) cmd=("$hurl" --test --variable "base=$base" "$out/a/flow.hurl") ;;
    b) cmd=("$testmesh" run "$out/b/flows" --jobs 2 --var "BASE=$base") ;;
    b_nostore) cmd=("$testmesh" run "$out/b/flows" --jobs 2 --var "BASE=$base" --no-store) ;;
    b_hurl) cmd=("$hurl" --test --jobs 2 --variable "base=$base" "$out"/b/hurl/*.hurl) ;;
  esac
}
# Each round runs every command once, in turn, so a busy moment of the machine falls on both tools
# alike instead of on one tool's block of runs. One run gives both the wall-clock time and the
# peak memory (GNU time's, whose own start is the same for both tools).
: > "$out/runs.txt"
for round in $(seq "$runs"); do
  for name in a a_hurl a_nostore b b_hurl b_nostore; do
    command_of "$name"
    start=$EPOCHREALTIME
    /usr/bin/time -o "$out/time.txt" -f "%M %U %S" "${cmd[@]}" >/dev/null 2>&1 ||
      { echo "failed: ${cmd[*]}" >&2; "${cmd[@]}" | tail -20 >&2; exit 1; }
    end=$EPOCHREALTIME
    echo "$name $start $end $(tail -n 1 "$out/time.txt")" >> "$out/runs.txt"
  done
  echo "round $round of $runs done" >&2
done
# Per command the fastest run and the median; memory is the largest peak. Ratios compare like with
# like: TestMesh's fastest with Hurl's fastest, medians with medians. CPU time (user + system, the
# medians) is the work each tool does for the same requests: unlike the wall clock, it barely moves
# when other load on the host takes turns with the run.
python3 - "$out/runs.txt" <<'PY'
import collections, statistics, sys
times, cpus = collections.defaultdict(list), collections.defaultdict(list)
peaks = collections.defaultdict(int)
for line in open(sys.argv[1]):
    name, start, end, kib, user, system = line.split()
    times[name].append(float(end) - float(start))
    cpus[name].append(float(user) + float(system))
    peaks[name] = max(peaks[name], int(kib))
print()
for label, tm, hurl in [
    ("(a) 1 flow x 5,000 GETs", "a", "a_hurl"),
    ("(a) the same, --no-store", "a_nostore", "a_hurl"),
    ("(b) 200 files x 25 GETs, 2 jobs", "b", "b_hurl"),
    ("(b) the same, --no-store", "b_nostore", "b_hurl"),
]:
    ts, hs = min(times[tm]), min(times[hurl])
    tmed, hmed = statistics.median(times[tm]), statistics.median(times[hurl])
    tcpu, hcpu = statistics.median(cpus[tm]), statistics.median(cpus[hurl])
    print(f"{label}: testmesh {5000 / ts:,.0f} req/s ({ts:.2f}s, median {tmed:.2f}s, "
          f"CPU {tcpu:.2f}s, {peaks[tm]} KiB) | hurl {5000 / hs:,.0f} req/s ({hs:.2f}s, "
          f"median {hmed:.2f}s, CPU {hcpu:.2f}s, {peaks[hurl]} KiB) | throughput "
          f"{hs / ts:.2f}x (medians {hmed / tmed:.2f}x), CPU time {hcpu / tcpu:.2f}x less, "
          f"memory {peaks[tm] / peaks[hurl]:.2f}x")
PY
