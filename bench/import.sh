#!/usr/bin/env bash
# Import and coverage speed. Generates an OpenAPI 3.0 document with OPERATIONS operations
# (default 2,000; bench/gen_openapi.py) and FLOWS flow files calling it (default 5,000), then
# measures, best of RUNS, wall time and peak memory (GNU time):
#   - `testmesh import openapi` writing one flow per operation, against the two OpenAPI-to-tests
#     generators installable here: Step CI's `stepci generate` (one workflow file) and Postman's
#     converter `openapi2postmanv2` (one collection);
#   - `testmesh coverage --spec` over the flow files (no installable peer reads flow files).
#
#   bench/import.sh [OPERATIONS] [FLOWS] [RUNS]   # TESTMESH=path/to/testmesh skips the build
# Peers: npm install --prefix /tmp/peers stepci@2.8.2 openapi-to-postmanv2@6.3.3
set -euo pipefail
cd "$(dirname "$0")/.."
ops=${1:-2000}
nflows=${2:-5000}
runs=${3:-5}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/testmesh-target}
peers=${PEERS:-/tmp/peers/node_modules/.bin}
export STEPCI_DISABLE_ANALYTICS=1
if [ -z "${TESTMESH:-}" ]; then
  cargo build -q --release -p testmesh
  TESTMESH=$CARGO_TARGET_DIR/release/testmesh
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen_openapi.py "$ops" "$work/api.json" "$work/flows" "$nflows"

measure() { # NAME COMMAND… → "NAME seconds KiB" (best wall time of $runs, its peak memory)
  local name=$1 best= mem=
  shift
  for _ in $(seq "$runs"); do
    rm -rf "$work/out" && mkdir -p "$work/out"
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/log" 2>&1 \
      || { echo "failed: $*"; tail -20 "$work/log"; exit 1; }
    read -r t m <"$work/time"
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $t < $best else 1)"; then best=$t; mem=$m; fi
  done
  echo "$name $best $mem"
}
{
  measure testmesh-import "$TESTMESH" import openapi "$work/api.json" -o "$work/out"
  [ -x "$peers/stepci" ] && measure stepci-generate "$peers/stepci" generate "$work/api.json" "$work/out/workflow.yml"
  [ -x "$peers/openapi2postmanv2" ] && measure openapi2postmanv2 "$peers/openapi2postmanv2" -s "$work/api.json" -o "$work/out/collection.json"
  measure testmesh-coverage "$TESTMESH" coverage --spec "$work/api.json" "$work/flows" --format json -o "$work/out/coverage.json"
} | tee "$work/results"
python3 - "$work/results" "$ops" "$nflows" <<'PY'
import sys
rows = {l.split()[0]: (float(l.split()[1]), int(l.split()[2])) for l in open(sys.argv[1]) if l.strip()}
ops, flows = sys.argv[2], sys.argv[3]
tm = rows["testmesh-import"][0]
print(f"\n| tool | work | wall | peak memory | TestMesh is |")
print("|---|---|---|---|---|")
for name, label in [("testmesh-import", f"{ops} operations → flows"), ("stepci-generate", f"{ops} operations → workflow"),
                    ("openapi2postmanv2", f"{ops} operations → collection"), ("testmesh-coverage", f"{flows} flows against {ops} operations")]:
    if name in rows:
        t, m = rows[name]
        ratio = "" if name.startswith("testmesh") else f"{t / tm:.1f}× as fast"
        print(f"| {name} | {label} | {t*1000:.0f} ms | {m/1024:.1f} MiB | {ratio} |")
PY
