#!/usr/bin/env bash
# Issue 19, item 4: what running over two worker processes on one host costs, against one process, on the
# quickstart's network and rule (vgg6-cifar-small, CLAPP++, batch 32) with synthetic batches (no data
# making, so the difference is the cluster's). Interleaved rounds; per round and mode, a run of `steps` + 20
# steps and one of 20: steps/s from the long run's results.json (training only, no start-up), CPU seconds a
# step of all processes (user + sys; the workers are the driver's children and are counted) as the
# difference of the two runs over `steps` (start-up, JIT and cluster joining cancel out), and from
# `plastic trace` the tensor messages and bytes a step within and between processes, and how the tensors
# between processes came (through shared memory, on TCP lanes, in frames: `plastic trace` says the copies
# each way makes). Then the medians.
# Beside the run's own steps/s (its clock runs from every node built to the last step reported), a steady
# rate (steady_rate.py): from the input's step spans in traces.jsonl, the steps from 50 (a short run: its
# second half) to the last over the time between their starts, so that the pipeline's filling and the
# JIT's first recompilations are left out.
# Two workers run twice a round: with tensor lanes (the default: large tensors between processes beside
# Akka's messages, through shared memory on one host) and with PLASTIC_LANES=off (every tensor inside
# Akka.Remote's frames), for the same-run ratio of each to one process. A fourth mode splits the run over two
# processes instead of three: --local-cluster 1 --placement "$SPLIT" (default worker1=block3,block4,block5,block6),
# the driver's process keeping the data and block1-2 (SPLIT= to skip it).
# Usage: experiments/cluster/overhead.sh [steps] [rounds]     (PLASTIC=path/to/plastic to measure another build)
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-300}
rounds=${2:-3}
split=${SPLIT-worker1=block3,block4,block5,block6}
modes=(one two inline); [ -n "$split" ] && modes+=(split)
if [ -z "${PLASTIC:-}" ]; then dotnet build -c Release experiments/Plastic.Cli >/dev/null; PLASTIC=experiments/Plastic.Cli/bin/Release/net10.0/plastic; fi
out=$(mktemp -d)
echo "== $(date -u +%FT%TZ), $(nproc) cores, commit $(git rev-parse --short HEAD), $PLASTIC, $steps steps x $rounds rounds${split:+, two processes ($split)}"
for round in $(seq 1 "$rounds"); do
  for mode in "${modes[@]}"; do
    flags=(); [ "$mode" != one ] && flags=(--local-cluster 2)
    [ "$mode" = split ] && flags=(--local-cluster 1 --placement "$split")
    lanes=on; [ "$mode" = inline ] && lanes=off
    for length in long short; do
      dir="$out/$mode-$round-$length"
      n=20; [ "$length" = long ] && n=$((steps + 20))
      PLASTIC_LANES=$lanes /usr/bin/time -f "%U %S" -o "$dir.time" "$PLASTIC" run vgg6-cifar-small --synthetic --rule clapp++ --steps "$n" --batch 32 "${flags[@]}" --out "$dir" >/dev/null
    done
    "$PLASTIC" trace "$out/$mode-$round-long" > "$out/$mode-$round-long.trace"
  done
done
python3 - "$out" "$steps" "$rounds" "${modes[@]}" <<'PY'
import json, re, statistics, sys
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, "experiments/cluster")
from steady_rate import steady
out, steps, rounds, modes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
row = re.compile(r"^\S+\s+\S+\s+(Forward|Pairing|TopDownReference|Backward|Snapshot)\s+([\d,]+)\s+([\d,]+)\s")
def cpu(d):
    user, system = map(float, open(f"{d}.time").read().split()[-2:])
    return user + system, system
def run(mode, r):
    long, short = f"{out}/{mode}-{r}-long", f"{out}/{mode}-{r}-short"
    sps = json.load(open(f"{long}/results.json"))["steps_per_second"]
    (cl, sl), (cs, ss) = cpu(long), cpu(short)
    within = [0, 0]; between = [0, 0]; ways = {}
    for line in open(f"{long}.trace"):
        if line.startswith("tensors between processes, by the way they came: "):
            ways = {way: int(count.replace(",", "")) for count, way in re.findall(r"([\d,]+) (through shared memory|on TCP lanes|in frames)", line)}
        m = row.match(line)
        if not m: continue
        side = between if "crosses processes" in line else within
        side[0] += int(m.group(2).replace(",", "")); side[1] += int(m.group(3).replace(",", ""))
    n = steps + 20
    return dict(images=sps * 32, steady=steady(long, 32), cpu=(cl - cs) / steps, sys=(sl - ss) / steps, within=[x / n for x in within], between=[x / n for x in between],
                ways=", ".join(f"{count / n:.1f} {way}" for way, count in ways.items()))
names = {"one": "one process", "two": "two workers, lanes", "inline": "two workers, lanes off", "split": "two processes (driver + worker1)"}
names = {mode: names[mode] for mode in modes}
ratios, cpus = {name: [] for name in names if name != "one"}, {name: [] for name in names}
steadies = {name: [] for name in ratios}
for r in range(1, rounds + 1):
    x = {name: run(name, r) for name in names}
    for name, m in x.items():
        cpus[name].append(m["cpu"])
        print(f"round {r} {names[name]}: {m['images']:6.1f} images/s (steady {m['steady']:6.1f}), CPU {m['cpu'] * 1000:5.1f} ms/step (sys {m['sys'] * 1000:4.1f}); "
              f"messages/step within processes {m['within'][0]:.0f} ({m['within'][1] / 1e6:.2f} MB), between {m['between'][0]:.0f} ({m['between'][1] / 1e6:.2f} MB)"
              + (f"; tensors/step between processes {m['ways']}" if m["ways"] else ""))
    for name in ratios:
        ratios[name].append(x[name]["images"] / x["one"]["images"])
        steadies[name].append(x[name]["steady"] / x["one"]["steady"])
    print(f"round {r} against one process: " + "; ".join(f"{names[name]} {ratios[name][-1]:.2f}x (steady {steadies[name][-1]:.2f}x)" for name in ratios))
for name in ratios:
    print(f"median: {names[name]} / one process {statistics.median(ratios[name]):.2f}x over {rounds} rounds ({', '.join(f'{v:.2f}' for v in ratios[name])}); "
          f"CPU a step {statistics.median(cpus['one']) * 1000:.1f} ms against {statistics.median(cpus[name]) * 1000:.1f} ms; "
          f"steady {statistics.median(steadies[name]):.2f}x ({', '.join(f'{v:.2f}' for v in steadies[name])})")
PY
