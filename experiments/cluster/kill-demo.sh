#!/usr/bin/env bash
# A worker process killed with SIGKILL in the middle of a run over --local-cluster 2 with checkpoints:
# the driver sees it within seconds, starts a replacement worker, rewinds every node to the latest
# complete checkpoint and finishes the run; its weights equal those of a run that was never interrupted,
# bit for bit. Without --checkpoint-every the same kill stops the run with an error naming the worker.
# Usage: experiments/cluster/kill-demo.sh [out-dir]
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/cluster-kill}
dotnet build -c Release experiments/Plastic.Cli >/dev/null
plastic=experiments/Plastic.Cli/bin/Release/net10.0/plastic
common=(vgg6-cifar-small --synthetic --steps 2000 --batch 8 --seed 5)
rm -rf "$out"; mkdir -p "$out"
"$plastic" run "${common[@]}" --checkpoint-every 100 --local-cluster 2 --out "$out/recovered" >"$out/driver.out" 2>"$out/driver.err" &
driver=$!
until grep -q "step 400/2000" "$out/driver.out" 2>/dev/null; do sleep 0.2; done
victim=$(grep -o 'started worker2 (pid [0-9]*)' "$out/driver.out" | head -1 | grep -o '[0-9]*)' | tr -d ')')
echo "killing worker2 (pid $victim) with SIGKILL at $(date -u +%T.%3N), after the progress line of step 400"
kill -9 "$victim"
wait "$driver"; code=$?
echo "driver exited with $code at $(date -u +%T.%3N); what it said about the loss:"
grep -E '^(fault|recovered|local cluster: started worker2|ran )' "$out/driver.out"
echo "recovered_faults in results.json:"
python3 -c "import json,sys; [print(' ', f) for f in json.load(open(sys.argv[1]))['recovered_faults']]" "$out/recovered/results.json" 2>/dev/null \
  || grep -A8 recovered_faults "$out/recovered/results.json"
echo "the same run, never interrupted, in one process:"
"$plastic" run "${common[@]}" --out "$out/whole" | grep '^ran '
if cmp -s "$out/whole/weights.safetensors" "$out/recovered/weights.safetensors"; then echo "weights.safetensors: identical bytes"; else echo "weights.safetensors: DIFFER"; fi
if cmp -s "$out/whole/metrics.csv" "$out/recovered/metrics.csv"; then echo "metrics.csv: identical bytes"; else echo "metrics.csv: DIFFER"; fi
