#!/usr/bin/env bash
# Verification speed: a 1,000-interaction pact verified against one local provider by
# `testmesh contract verify` and by the Pact reference verifier (`pact-verifier`, pact_verifier_cli),
# in the same run. Prints each wall time (best of RUNS) and the ratio.
#
#   bench/contract.sh [RUNS]      # TESTMESH=path/to/testmesh to skip the release build
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/testmesh-target}
verifier=$(command -v pact-verifier || echo "$HOME/.cargo/bin/pact-verifier")
[ -x "$verifier" ] || { echo "pact-verifier missing: cargo install pact_verifier_cli --locked"; exit 3; }
if [ -z "${TESTMESH:-}" ]; then
  cargo build -q --release -p testmesh
  TESTMESH=$CARGO_TARGET_DIR/release/testmesh
fi
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# The provider: one templated endpoint for every item.
cat >"$work/provider.yaml" <<'YAML'
name: items
endpoints:
  - path: /items/:id
    response:
      status: 200
      headers: {Content-Type: application/json}
      body: {id: "{{path.id}}", name: "Item {{path.id}}", price: 9.99, tags: [a, b], stock: {count: 3, warehouse: "w-1"}}
YAML
# The pact: 1,000 interactions, each with type matchers on its body.
python3 - "$work/pact.json" <<'PY'
import json, sys
interactions = []
for i in range(1000):
    interactions.append({
        "type": "Synchronous/HTTP",
        "description": f"get item {i}",
        "request": {"method": "GET", "path": f"/items/{i}"},
        "response": {
            "status": 200,
            "headers": {"Content-Type": ["application/json"]},
            "body": {"content": {"id": str(i), "name": f"Item {i}", "price": 1.5, "tags": ["x"],
                                  "stock": {"count": 1, "warehouse": "w-9"}},
                     "contentType": "application/json", "encoded": False},
            "matchingRules": {"body": {
                "$.price": {"combine": "AND", "matchers": [{"match": "decimal"}]},
                "$.tags": {"combine": "AND", "matchers": [{"match": "type", "min": 1}]},
                "$.stock.*": {"combine": "AND", "matchers": [{"match": "type"}]}}},
        },
    })
json.dump({"consumer": {"name": "bench-web"}, "provider": {"name": "items"},
           "interactions": interactions,
           "metadata": {"pactSpecification": {"version": "4.0"}}}, open(sys.argv[1], "w"))
PY
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$TESTMESH" mock serve "$work/provider.yaml" --port "$port" --no-watch >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

best() { # COMMAND… → best wall seconds over $runs; every run must pass
  local best=
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >"$work/out.log" 2>&1 || { echo "failed: $*"; tail -20 "$work/out.log"; exit 1; }
    t1=$(date +%s.%N)
    best=$(python3 -c "a='$best'; b=$t1-$t0; print(b if not a else min(float(a), b))")
  done
  echo "$best"
}
tm=$(best env NO_COLOR=1 "$TESTMESH" contract verify "$work/pact.json" --provider-base-url "http://127.0.0.1:$port")
ref=$(best "$verifier" --no-colour -f "$work/pact.json" --hostname 127.0.0.1 --port "$port")
python3 - "$tm" "$ref" <<'PY'
import sys
tm, ref = map(float, sys.argv[1:])
print(f"| verifier | 1,000 interactions, best of runs |")
print(f"|---|---|")
print(f"| testmesh contract verify | {tm*1000:.0f} ms |")
print(f"| pact-verifier (pact_verifier_cli) | {ref*1000:.0f} ms |")
print(f"ratio: TestMesh is {ref/tm:.1f}x as fast")
PY
