#!/usr/bin/env bash
# Issue 19, item 3: peak tensor memory at the paper's settings, by kind, for CLAPP++, CLAPP++DFB,
# BP-CLAPP++ and BP-InfoNCE: the STL-10 shape (vgg6-stl10: 96 px, full width) and CIFAR-10 full width
# (vgg6-cifar), batch 32 per view, synthetic batches, a few steps (memory, not speed). One JSON line per
# configuration (bench train --json), then two tables: the sum of per-node peaks and the simultaneous peak. The STL-10 local run peaks at about 13.3 GB of working set.
# Usage: experiments/bench/memory.sh [steps]
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-2}
dotnet build -c Release experiments/Plastic.Cli >/dev/null
plastic=experiments/Plastic.Cli/bin/Release/net10.0/plastic
out=$(mktemp -d)
echo "== $(date -u +%FT%TZ), $(nproc) cores, commit $(git rev-parse --short HEAD), batch 32 x 2 views, $steps timed steps after 1"
for net in vgg6-stl10 vgg6-cifar; do
  for config in "clapp++ local pipelined" "clapp++dfb local pipelined" "bp-clapp++ backprop sequential" "bp-infonce backprop sequential"; do
    set -- $config
    net_spec=$net
    # CLAPP++DFB needs the network's declared feedback edges.
    if [ "$1" = "clapp++dfb" ]; then net_spec=${net/vgg6-cifar/vgg6-cifar-dfb}; [ "$net" = vgg6-stl10 ] && net_spec=vgg6-stl10-dfb; fi
    if ! "$plastic" describe "$net_spec" >/dev/null 2>&1; then echo "$net $1: no preset $net_spec, left out"; continue; fi
    "$plastic" bench train "$net_spec" --rule "$1" --graph "$2" --schedule "$3" --batch 32 --steps "$steps" --warmup 1 --json > "$out/$net-$1-$3.json"
    echo "$net $1 $3: done"
  done
done
python3 - "$out" <<'PY'
import json, sys, glob, os
kinds = ["weights", "loss_matrix", "gradients", "optimiser_state", "activations", "scratch"]
# Two measures: the sum over the nodes of each one's peak (what the nodes would need on separate devices), and
# the nodes' simultaneous peak (what one process held at one moment), each broken down by kind.
for title, total, by_kind in (("sum of per-node peaks", "tensor_peak_mb", "tensor_peak_by_kind_mb"),
                              ("simultaneous peak", "tensor_simultaneous_peak_mb", "tensor_simultaneous_peak_by_kind_mb")):
    print(f"\n{title}, MB\n")
    print("| network | rule | total | " + " | ".join(kinds) + " |")
    print("|---|---|---|" + "---|" * len(kinds))
    for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
        r = json.load(open(path))
        k = r[by_kind]
        print(f"| {r['network']} | {r['rule']} ({r['graph']}, {r['schedule']}) | {r[total]:.1f} | " + " | ".join(f"{k[x]:.1f}" for x in kinds) + " |")
PY
