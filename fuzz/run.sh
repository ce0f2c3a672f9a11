#!/usr/bin/env bash
# Runs one fuzz target for a bounded time: fuzz/run.sh TARGET SECONDS [libFuzzer options...]
#
# The committed seeds (fuzz/seeds/TARGET) are read, never written; what the fuzzer finds is
# kept in fuzz/corpus/TARGET (not committed) and a crashing input in fuzz/artifacts/TARGET.
# Properties the harness enforces on top of the targets' own: no single allocation over 64 MB,
# 10 s per input, and 1 GB of RSS for the whole run (libFuzzer keeps its corpus in memory, so
# a 64 MB RSS cap stopped a healthy run on an empty input after a few hundred new units); a fixed seed (-seed=1) unless one is given.
# Stable toolchain: cargo fuzz needs nightly flags, allowed here by RUSTC_BOOTSTRAP=1.
# The last line is libFuzzer's summary: executions, cov: and ft: (coverage reached).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 TARGET SECONDS [libFuzzer options...]" >&2
  exit 2
fi
target=$1
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
mkdir -p "corpus/$target" "artifacts/$target"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
RUSTC_BOOTSTRAP=1 cargo fuzz run --release --sanitizer none "$target" \
  "corpus/$target" "seeds/$target" -- \
  -max_total_time="$seconds" -seed=1 -rss_limit_mb=1024 -malloc_limit_mb=64 -timeout=10 \
  -print_final_stats=1 -artifact_prefix="artifacts/$target/" "$@" 2>"$log" || status=$?
tail -n 40 "$log" >&2
if [ "$status" -ne 0 ]; then
  echo "fuzz target $target FAILED (exit $status); the input is in fuzz/artifacts/$target/" >&2
  exit "$status"
fi
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
echo "fuzz $target: ${seconds}s, ${runs:-?} executions; last status: $last"
