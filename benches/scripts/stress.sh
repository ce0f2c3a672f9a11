#!/usr/bin/env bash
# The process and Docker suites under load, again and again (issue 16, "tests that cannot
# flake"): each round runs `cargo test -p robodeploy-process` and `cargo test -p
# robodeploy-docker` at the same time (two suites at once: twice the load of one on this
# machine), ROUNDS rounds in a row (default 10). Every round's output goes to
# $OUT/round-N-{process,docker}.log; the script prints one line per round and exits 1 if any
# suite failed in any round.
#
#   bash benches/scripts/stress.sh [ROUNDS] [OUT]
set -uo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-10}
out=${2:-target/stress}
mkdir -p "$out"
export ROBODEPLOY_REQUIRE_DOCKER=1
cargo test -p robodeploy-process -p robodeploy-docker --no-run --locked >/dev/null 2>&1 || {
  echo "build failed"; exit 1; }
failed=0
for i in $(seq 1 "$rounds"); do
  start=$(date +%s)
  cargo test -p robodeploy-process --locked >"$out/round-$i-process.log" 2>&1 &
  p=$!
  cargo test -p robodeploy-docker --locked >"$out/round-$i-docker.log" 2>&1 &
  d=$!
  wait $p; pr=$?
  wait $d; dr=$?
  tests=$(cat "$out/round-$i-process.log" "$out/round-$i-docker.log" |
    awk '/^test result:/ {n += $4 + $6} END {print n + 0}')
  echo "round $i: process exit $pr, docker exit $dr, $tests tests, $(( $(date +%s) - start )) s"
  if [ $pr -ne 0 ] || [ $dr -ne 0 ]; then
    failed=$((failed + 1))
    grep -h -E "^test .* FAILED|panicked at" "$out/round-$i-process.log" "$out/round-$i-docker.log" | head -5
  fi
done
echo "rounds with a failure: $failed of $rounds"
[ "$failed" -eq 0 ]
