#!/usr/bin/env bash
# Benchmark: `testmesh mock serve` against Mockoon CLI and Prism serving the same mock, in one run.
# The endpoint is `GET /users/:id` that requires `X-Api-Key: bench-key` and answers 200 JSON
# templated from the path parameter and the User-Agent header, 404 without the key
# (bench/mock/testmesh.yaml, bench/mock/mockoon.json, bench/mock/openapi.yaml; Prism cannot
# template from the request, so it answers a fixed example, and 422 without the key).
# Each server in turn: start on a free loopback port, check its answers, warm up, then
#   wrk -t1 -c32 -dDURATION --latency -H 'X-Api-Key: bench-key' -H 'User-Agent: wrk' .../users/42
# and print requests/s, p99 and mean latency, peak memory and start-up time, and the ratios
# TestMesh/peer.
#
# Needs wrk (apt-get install wrk) and Node.js with npm. The peers are installed on first use with
# npm into ~/.cache/testmesh-bench/npm (TESTMESH_BENCH_NPM to move it; MOCKOON_VERSION and
# PRISM_VERSION to change the pinned versions). TESTMESH=/path/to/testmesh uses that binary
# instead of building the release one. If `testmesh mock serve` is not there (or the build fails)
# the peers are still measured, and the script exits with status 3.
#
#   bench/mock.sh [DURATION]        (wrk's -d, default 10s; WARMUP=3s before each measurement)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10s}"
warmup="${WARMUP:-3s}"
mockoon_version="${MOCKOON_VERSION:-9.9.0}"
prism_version="${PRISM_VERSION:-5.14.2}"
npm_dir="${TESTMESH_BENCH_NPM:-$HOME/.cache/testmesh-bench/npm}"
defs="$(pwd)/bench/mock"
out="$(pwd)/bench/out/mock"
rm -rf "$out" && mkdir -p "$out"

fail() { echo "bench/mock.sh: $*" >&2; exit 1; }
command -v wrk >/dev/null || fail "wrk not found: apt-get install wrk"
command -v curl >/dev/null || fail "curl not found: apt-get install curl"
command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm not found: install Node.js (20 or later)"

# --- the peers, from npm, into a cache outside the repository --------------------------------------
installed() { node -p "require('$npm_dir/node_modules/$1/package.json').version" 2>/dev/null || true; }
if [ "$(installed @mockoon/cli)" != "$mockoon_version" ] || [ "$(installed @stoplight/prism-cli)" != "$prism_version" ]; then
  echo "== installing @mockoon/cli@$mockoon_version and @stoplight/prism-cli@$prism_version into $npm_dir"
  mkdir -p "$npm_dir"
  npm install --prefix "$npm_dir" --no-audit --no-fund --loglevel=error \
    "@mockoon/cli@$mockoon_version" "@stoplight/prism-cli@$prism_version" >&2
fi
mockoon="$npm_dir/node_modules/.bin/mockoon-cli"
prism="$npm_dir/node_modules/.bin/prism"
[ -x "$mockoon" ] && [ -x "$prism" ] || fail "the npm install into $npm_dir did not provide mockoon-cli and prism"

# --- TestMesh ---------------------------------------------------------------------------------------
testmesh_missing=""
if [ -n "${TESTMESH:-}" ]; then
  testmesh="$TESTMESH"
else
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/testmesh-target}"
  testmesh="$CARGO_TARGET_DIR/release/testmesh"
  cargo build --release --quiet -p testmesh || testmesh_missing="the release build of testmesh failed (see above)"
fi
if [ -z "$testmesh_missing" ] && ! "$testmesh" mock serve --help >/dev/null 2>&1; then
  testmesh_missing="\`$testmesh mock serve\` is not available in this build (issue 5)"
fi
if [ -n "$testmesh_missing" ]; then
  echo "!! TestMesh will NOT be measured: $testmesh_missing. Measuring the peers only." >&2
fi

# --- running servers --------------------------------------------------------------------------------
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start NAME PORT COMMAND…: starts the server, waits until it answers HTTP on PORT (any status).
# Sets $pid and $startup_s.
start() {
  local name=$1 port=$2; shift 2
  local t0=$EPOCHREALTIME
  "$@" >"$out/$name.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 600); do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$out/$name.log" >&2; fail "$name exited before answering (log above)"; }
    if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
      startup_s=$(awk "BEGIN{printf \"%.2f\", $EPOCHREALTIME - $t0}")
      return
    fi
    sleep 0.1
  done
  tail -n 30 "$out/$name.log" >&2
  fail "$name did not answer on port $port within 60 s (log above)"
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# expect NAME PORT PATH USER_AGENT EXPECTED_JSON: GET with the key must answer 200 and this JSON.
expect() {
  local name=$1 port=$2 path=$3 agent=$4 want=$5 got status
  got=$(curl -s -H 'X-Api-Key: bench-key' -H "User-Agent: $agent" -w '\n%{http_code}' "http://127.0.0.1:$port$path")
  status=${got##*$'\n'}
  got=${got%$'\n'*}
  [ "$status" = 200 ] || fail "$name: GET $path with the key answered $status, not 200: $got"
  python3 -c 'import json, sys; sys.exit(json.loads(sys.argv[1]) != json.loads(sys.argv[2]))' "$got" "$want" \
    || fail "$name: GET $path with the key answered $got, expected $want"
}

# reject NAME PORT WHAT CURL_ARG…: GET /users/42 with these curl arguments must answer 4xx.
reject() {
  local name=$1 port=$2 what=$3 status; shift 3
  status=$(curl -s -o "$out/$name.rejected" -w '%{http_code}' "$@" "http://127.0.0.1:$port/users/42")
  case "$status" in
    4??) echo "   $name, $what: $status $(head -c 100 "$out/$name.rejected")" ;;
    *) fail "$name: GET /users/42 $what answered $status, not 4xx: $(head -c 300 "$out/$name.rejected")" ;;
  esac
}

# check NAME PORT TEMPLATED: the answers the benchmark relies on.
check() {
  local name=$1 port=$2 templated=$3
  expect "$name" "$port" /users/42 wrk '{"id": "42", "name": "User 42", "agent": "wrk", "ok": true}'
  if [ "$templated" = yes ]; then
    expect "$name" "$port" /users/7 check-agent '{"id": "7", "name": "User 7", "agent": "check-agent", "ok": true}'
  fi
  reject "$name" "$port" "no key" -H 'User-Agent: wrk'
  reject "$name" "$port" "wrong key" -H 'X-Api-Key: wrong-key'
}

# ms LABEL FILE: wrk's first duration on the line starting with LABEL, in milliseconds.
ms() {
  awk -v label="$1" '$1 == label && !done {v = $2; f = 1; done = 1
    if (v ~ /us$/) f = 0.001; else if (v ~ /ms$/) f = 1; else if (v ~ /m$/) f = 60000; else if (v ~ /s$/) f = 1000
    sub(/[a-z]+$/, "", v); printf "%.3f", v * f}' "$2"
}

# measure NAME PID PORT: warm-up, then the measured wrk run; appends a result line to $out/results.
measure() {
  local name=$1 pid=$2 port=$3 url="http://127.0.0.1:$3/users/42"
  local args=(-t1 -c32 --latency -H 'X-Api-Key: bench-key' -H 'User-Agent: wrk')
  wrk "${args[@]}" -d"$warmup" "$url" >"$out/$name.warmup.txt"
  wrk "${args[@]}" -d"$duration" "$url" >"$out/$name.wrk.txt"
  local rps p99 mean errors kib
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out/$name.wrk.txt")
  p99=$(ms "99%" "$out/$name.wrk.txt")
  mean=$(ms Latency "$out/$name.wrk.txt")
  [ -n "$rps" ] && [ -n "$p99" ] && [ -n "$mean" ] || { cat "$out/$name.wrk.txt" >&2; fail "$name: could not read wrk's output (above)"; }
  if grep -q "Non-2xx" "$out/$name.wrk.txt"; then
    cat "$out/$name.wrk.txt" >&2
    fail "$name: answered non-2xx statuses under load (above) — the numbers would not be comparable"
  fi
  errors=$(grep -E "Socket errors" "$out/$name.wrk.txt" || true)
  [ -z "$errors" ] || echo "   $name: $errors" >&2
  kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
  echo "$name $rps $p99 ${kib:-0} $startup_s $mean" >>"$out/results"
  printf "   %-10s %10.0f req/s   p99 %8.2f ms   mean %7.2f ms   peak %6.1f MiB\n" "$name" "$rps" "$p99" "$mean" \
    "$(awk "BEGIN{print ${kib:-0}/1024}")"
}

touch "$out/results"
echo "== wrk -t1 -c32 -d$duration --latency (after a $warmup warm-up) on GET /users/42, one server at a time"

if [ -z "$testmesh_missing" ]; then
  port=$(free_port)
  start testmesh "$port" "$testmesh" mock serve "$defs/testmesh.yaml" --port "$port"
  check testmesh "$port" yes
  measure testmesh "$pid" "$port"
  stop "$pid"
fi

# Mockoon logs every request as a JSON line on stdout and has no flag to stop it: stdout is discarded
# (stderr still goes to the log).
port=$(free_port)
start mockoon "$port" sh -c 'exec "$0" "$@" >/dev/null' "$mockoon" start --data "$defs/mockoon.json" --port "$port" --hostname 127.0.0.1 \
  --disable-log-to-file --disable-admin-api
check mockoon "$port" yes
measure mockoon "$pid" "$port"
stop "$pid"

# Prism logs every request at its default level (info), which halves its throughput: warn logs only
# failures.
port=$(free_port)
start prism "$port" "$prism" mock "$defs/openapi.yaml" --port "$port" --host 127.0.0.1 --cors=false \
  --verboseLevel "${PRISM_LOG:-warn}"
check prism "$port" no
measure prism "$pid" "$port"
stop "$pid"

# --- the table and the ratios -----------------------------------------------------------------------
testmesh_version=""
[ -n "$testmesh_missing" ] || testmesh_version=$("$testmesh" --version 2>/dev/null | awk '{print $2}')
echo
echo "| date | server | requests/s | p99 | mean | peak memory | ready after |"
echo "|---|---|---|---|---|---|---|"
awk -v date="$(date +%F)" -v tv="$testmesh_version" -v mv="$mockoon_version" -v pv="$prism_version" -v nv="$(node --version)" '
  { label = $1 == "testmesh" ? "`testmesh mock serve` " tv : $1 == "mockoon" ? "Mockoon CLI " mv " (Node " nv ")" : "Prism " pv " (Node " nv ")"
    printf "| %s | %s | %.0f | %.1f ms | %.1f ms | %.1f MiB | %.1f s |\n", date, label, $2, $3, $6, $4 / 1024, $5 }' "$out/results"
if [ -z "$testmesh_missing" ]; then
  echo
  awk '{ rps[$1] = $2; p99[$1] = $3 } END {
    split("mockoon prism", peers, " ")
    for (i = 1; i <= 2; i++) { peer = peers[i]
      printf "testmesh/%s: %.2fx the requests/s, p99 %.2fx (%s)\n", peer, rps["testmesh"] / rps[peer],
        p99["testmesh"] / p99[peer], p99["testmesh"] < p99[peer] ? "lower" : "NOT lower" }
    met = rps["testmesh"] >= 10 * rps["mockoon"] && p99["testmesh"] < p99["mockoon"]
    printf "goal (>= 10x Mockoon'"'"'s requests/s with a lower p99): %s\n", met ? "met" : "NOT met" }' "$out/results"
else
  echo
  echo "!! TestMesh was NOT measured: $testmesh_missing." >&2
  exit 3
fi
