#!/usr/bin/env bash
# Issue 8's measurements in one go, on this machine: training throughput against PyTorch (CLAPP++ and
# BP-InfoNCE, tests/peers/run.sh), the pipelined schedule against one step in flight with per-layer
# utilisation (plastic bench schedule), and tensor memory of local against backprop training at 1/8 and
# full width (plastic bench train). Prints everything; results are quoted in experiments/bench/TRAINING.md.
# Usage: experiments/bench/training.sh [rounds]      (PYTHON=/usr/bin/python3 where that one has torch)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
dotnet build -c Release experiments/Plastic.Cli >/dev/null
plastic=experiments/Plastic.Cli/bin/Release/net10.0/plastic
echo "== $(date -u +%FT%TZ), $(nproc) cores, commit $(git rev-parse --short HEAD)"
echo "== throughput against PyTorch (synthetic batches, batch 32 per view, 1/8-width VGG-6)"
tests/peers/run.sh "$rounds" 60
echo "== schedules"
"$plastic" bench schedule --rounds "$rounds"
echo "== memory, 1/8 width (vgg6-cifar-small), batch 32"
for config in "--rule clapp++ --graph local --schedule sequential" "--rule clapp++ --graph local" "--rule bp-clapp++ --graph backprop" "--rule bp-infonce --graph backprop"; do
  # shellcheck disable=SC2086
  "$plastic" bench train vgg6-cifar-small $config --steps 10 --warmup 3 | head -3
done
echo "== memory, full width (vgg6-cifar), batch 32 (a few slow steps: memory, not speed)"
for config in "--rule clapp++ --graph local --schedule sequential" "--rule bp-clapp++ --graph backprop"; do
  # shellcheck disable=SC2086
  "$plastic" bench train vgg6-cifar $config --steps 2 --warmup 1 | head -3
done
