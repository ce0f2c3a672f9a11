#!/usr/bin/env bash
# A YAML fleet of N robots (default 1,000,000) loaded and validated as `robodeploy validate`
# does (robodeploy-core's example `load_manifest`, release build): wall time and peak memory
# (GNU time's maximum resident set size), per robot.
#
#   bash benches/scripts/yaml_million.sh [ROBOTS]
set -euo pipefail
cd "$(dirname "$0")/../.."
robots=${1:-1000000}
cargo build --release --locked -q -p robodeploy-core --example load_manifest
bin=target/release/examples/load_manifest
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
file=$dir/fleet.yaml
python3 - "$file" "$robots" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("apiVersion: robodeploy/v1\nkind: Fleet\nspec:\n  name: million\n  robots:\n")
    for i in range(n):
        f.write(f"    - {{name: r{i:07}, architecture: amd64, runtime: preinstalled}}\n")
PY
bytes=$(stat -c %s "$file")
# An empty run of the binary: what the process costs before it reads anything.
printf 'apiVersion: robodeploy/v1\nkind: Fleet\nspec: {name: none, robots: []}\n' > "$dir/empty.yaml"
/usr/bin/time -f '%e %M' -o "$dir/base" "$bin" "$dir/empty.yaml" > /dev/null
for run in 1 2 3; do
  /usr/bin/time -f '%e %M' -o "$dir/t$run" "$bin" "$file" > "$dir/out" 2>&1 \
    || { cat "$dir/out"; exit 1; }
done
tail -1 "$dir/out"
python3 - "$robots" "$bytes" "$dir" <<'PY'
import sys
robots, size, d = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
runs = sorted(tuple(map(float, open(f"{d}/t{i}").read().split())) for i in (1, 2, 3))
base_kib = float(open(f"{d}/base").read().split()[1])
wall, rss = runs[1]
print(f"{robots:,} robots, {size / 1e6:.1f} MB of YAML")
print(f"validate: median wall {wall:.2f} s of {[r[0] for r in runs]}, "
      f"{wall / robots * 1e6:.2f} us per robot")
print(f"peak RSS {rss / 1024:.0f} MiB (an empty run: {base_kib / 1024:.0f} MiB), "
      f"{(rss - base_kib) * 1024 / robots:.0f} bytes per robot, {rss * 1024 / size:.1f}x the file")
PY
