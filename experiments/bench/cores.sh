#!/usr/bin/env bash
# Issue 19, item 2: the same training run on every core against one core (taskset -c 0: the process, its
# thread pool and every layer's thread on CPU 0), interleaved round by round; medians, the ratio, and each
# round. CLAPP++ pipelined and BP-InfoNCE on the 1/8-width VGG-6, synthetic batches of 32 per view.
# Usage: experiments/bench/cores.sh [rounds] [steps]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
steps=${2:-40}
command -v taskset >/dev/null || { echo "cores.sh needs taskset (util-linux)"; exit 1; }
dotnet build -c Release experiments/Plastic.Cli >/dev/null
plastic=experiments/Plastic.Cli/bin/Release/net10.0/plastic
echo "== $(date -u +%FT%TZ), $(nproc) cores, commit $(git rev-parse --short HEAD), $rounds rounds of $steps steps after 8"
for config in "clapp++ local" "bp-infonce backprop"; do
  set -- $config
  all=(); one=()
  for r in $(seq "$rounds"); do
    a=$("$plastic" bench train vgg6-cifar-small --rule "$1" --graph "$2" --steps "$steps" --warmup 8 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])')
    o=$(taskset -c 0 "$plastic" bench train vgg6-cifar-small --rule "$1" --graph "$2" --steps "$steps" --warmup 8 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])')
    all+=("$a"); one+=("$o")
    echo "$1 round $r: all cores $a images/s, one core $o images/s"
  done
  python3 - "$1" "${all[*]}" "${one[*]}" <<'PY'
import sys, statistics
name, a, o = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
print(f"{name}: median all cores {statistics.median(a):.1f}, one core {statistics.median(o):.1f} images/s; "
      f"ratio of medians {statistics.median(a) / statistics.median(o):.2f}x; per round " + ", ".join(f"{x / y:.2f}" for x, y in zip(a, o)))
PY
done
