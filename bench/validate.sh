#!/usr/bin/env bash
# Benchmark: `testmesh validate` over N generated flow files (default 1000): files/second and peak
# memory, against `hurlfmt --check` over the equivalent Hurl files when hurlfmt is on PATH (or in
# $HURLFMT). Results go to stdout as a Markdown table row for docs/performance.md.
#
#   bench/validate.sh [N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000}"
runs="${2:-5}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/testmesh-target}"
cargo build --release --quiet -p testmesh
testmesh="$CARGO_TARGET_DIR/release/testmesh"
out="bench/out"
rm -rf "$out"
python3 bench/gen_flows.py "$out" -n "$n" --hurl

# Prints "seconds peak_kib": the fastest wall time of $runs runs (microsecond clock) and the largest
# peak resident memory (GNU time).
measure() {
  local best_s="" best_kib=0
  for _ in $(seq "$runs"); do
    local start end s kib
    start=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || true
    end=$EPOCHREALTIME
    s=$(awk "BEGIN{printf \"%.4f\", $end - $start}")
    if [ -z "$best_s" ] || awk "BEGIN{exit !($s < $best_s)}"; then best_s=$s; fi
    /usr/bin/time -o "$out/time.txt" -f "%M" "$@" >/dev/null 2>&1 || true
    kib=$(tail -n 1 "$out/time.txt")
    if [ "$kib" -gt "$best_kib" ]; then best_kib=$kib; fi
  done
  echo "$best_s $best_kib"
}

# Sanity: the generated flows must be valid, or the timing means nothing.
"$testmesh" validate "$out/flows" --strict >/dev/null

read -r tm_s tm_kib < <(measure "$testmesh" validate "$out/flows")
tm_rate=$(awk "BEGIN{printf \"%.0f\", $n / ($tm_s > 0 ? $tm_s : 0.001)}")
echo "testmesh validate: $n files in ${tm_s}s = ${tm_rate} files/s, peak ${tm_kib} KiB"

hurlfmt="${HURLFMT:-$(command -v hurlfmt || true)}"
if [ -n "$hurlfmt" ]; then
  # Canonical formatting first, so that --check measures parsing and checking, not rewriting.
  "$hurlfmt" --in-place "$out"/hurl/*.hurl
  "$hurlfmt" --check "$out"/hurl/*.hurl >/dev/null 2>&1 || { echo "hurlfmt rejects the generated Hurl files" >&2; exit 1; }
  read -r hu_s hu_kib < <(measure "$hurlfmt" --check "$out"/hurl/*.hurl)
  hu_rate=$(awk "BEGIN{printf \"%.0f\", $n / ($hu_s > 0 ? $hu_s : 0.001)}")
  ratio=$(awk "BEGIN{printf \"%.2f\", $tm_rate / $hu_rate}")
  echo "hurlfmt --check:   $n files in ${hu_s}s = ${hu_rate} files/s, peak ${hu_kib} KiB"
  echo
  echo "| $(date +%F) | $n | ${tm_rate} files/s, ${tm_kib} KiB | ${hu_rate} files/s, ${hu_kib} KiB | ${ratio}× |"
else
  echo "(hurlfmt not found: set HURLFMT or install it with \`cargo install hurlfmt\` to compare)"
fi
