#!/usr/bin/env bash
# A worker process killed with SIGKILL in the middle of a run: the driver stops within seconds with an
# error naming the worker, its layers and the last completed step, and no worker process is left.
# Usage: experiments/cluster/kill-demo.sh [out-dir]
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/cluster-kill}
dotnet build -c Release experiments/Plastic.Cli >/dev/null
plastic=experiments/Plastic.Cli/bin/Release/net10.0/plastic
rm -rf "$out"; mkdir -p "$out"
"$plastic" run vgg6-cifar-small --synthetic --steps 2000 --batch 8 --local-cluster 2 --out "$out/run" >"$out/driver.out" 2>"$out/driver.err" &
driver=$!
until grep -q "step 200/2000" "$out/driver.out" 2>/dev/null; do sleep 0.2; done
pids=$(grep -o 'started worker[0-9] (pid [0-9]*)' "$out/driver.out" | grep -o '[0-9]*)' | tr -d ')')
victim=$(grep -o 'started worker2 (pid [0-9]*)' "$out/driver.out" | grep -o '[0-9]*)' | tr -d ')')
echo "workers: $(echo $pids | tr '\n' ' '); killing worker2 (pid $victim) with SIGKILL at $(date -u +%T.%3N)"
kill -9 "$victim"
start=$(date +%s.%N)
wait "$driver"; code=$?
end=$(date +%s.%N)
echo "driver exited with $code after $(awk "BEGIN { printf \"%.1f\", $end - $start }") s at $(date -u +%T.%3N):"
grep 'the run stopped' "$out/driver.err"
left=$(for p in $pids; do kill -0 "$p" 2>/dev/null && echo "$p"; done)
echo "worker processes left: ${left:-none}"
