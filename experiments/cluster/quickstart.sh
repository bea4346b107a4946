#!/usr/bin/env bash
# The quickstart's CLAPP++ run twice: in one process, and with its layers in two worker processes on
# 127.0.0.1 (plastic run --local-cluster 2). Checks that the final weights are the same bytes, prints the
# traffic matrix of the cluster run (edges between processes marked) and the images/s of both.
# Usage: experiments/cluster/quickstart.sh [out-dir]      (data: PLASTIC_DATA or ~/.cache/plastic/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/cluster-quickstart}
dotnet build -c Release experiments/Plastic.Cli >/dev/null
plastic=experiments/Plastic.Cli/bin/Release/net10.0/plastic
"$plastic" data fetch cifar10 >/dev/null
rm -rf "$out/one" "$out/two"
echo "== one process"
"$plastic" run experiments/quickstart --out "$out/one" | grep -E '^ran|linear probe'
echo "== two worker processes (--local-cluster 2)"
"$plastic" run experiments/quickstart --local-cluster 2 --out "$out/two" | grep -E '^ran|linear probe|^cluster|started worker'
echo "== final weights"
if cmp -s "$out/one/weights.safetensors" "$out/two/weights.safetensors"; then echo "identical bytes: $out/one/weights.safetensors = $out/two/weights.safetensors"; else echo "DIFFERENT"; exit 1; fi
echo "== traffic of the cluster run"
"$plastic" trace "$out/two"
