#!/usr/bin/env bash
# The quickstart's CLAPP++ run three times: in one process, with its layers in two worker processes on
# 127.0.0.1 (plastic run --local-cluster 2: three processes with the driver), and split over two processes
# (--local-cluster 1 --placement worker1=block3,...,block6: the driver's process keeps block1-2). Checks that
# the final weights are the same bytes, prints the traffic matrix of the two-worker run (edges between
# processes marked) and the images/s of each.
# Usage: experiments/cluster/quickstart.sh [out-dir]      (data: PLASTIC_DATA or ~/.cache/plastic/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/cluster-quickstart}
dotnet build -c Release experiments/Plastic.Cli >/dev/null
plastic=experiments/Plastic.Cli/bin/Release/net10.0/plastic
"$plastic" data fetch cifar10 >/dev/null
rm -rf "$out/one" "$out/two" "$out/split"
echo "== one process"
"$plastic" run experiments/quickstart --out "$out/one" | grep -E '^ran|linear probe'
echo "== two worker processes (--local-cluster 2)"
"$plastic" run experiments/quickstart --local-cluster 2 --out "$out/two" | grep -E '^ran|linear probe|^cluster|started worker'
echo "== two processes (--local-cluster 1, the driver keeping block1-2)"
"$plastic" run experiments/quickstart --local-cluster 1 --placement "worker1=block3,block4,block5,block6" --out "$out/split" | grep -E '^ran|linear probe|^cluster|started worker'
echo "== final weights"
for mode in two split; do
  if cmp -s "$out/one/weights.safetensors" "$out/$mode/weights.safetensors"; then echo "identical bytes: $out/one/weights.safetensors = $out/$mode/weights.safetensors"; else echo "DIFFERENT: $out/$mode"; exit 1; fi
done
echo "== traffic of the two-worker run"
"$plastic" trace "$out/two"
