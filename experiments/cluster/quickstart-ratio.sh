#!/usr/bin/env bash
# Issue 19, item 4, on the quickstart run itself: `plastic run experiments/quickstart` (CIFAR-10 through the
# augmentation pipeline, 1,000 steps, alignment every 200) in one process and over two worker processes
# on 127.0.0.1 (--local-cluster 2), interleaved rounds. Per round and mode: images/s of the run (its own
# clock: from every node built, here and on the workers, to the last step reported), the steady rate
# (steady_rate.py: the input's step spans from step 50 to the last), CPU seconds a step of all processes
# (user + sys of the whole command, the workers being the driver's children, over the steps: start-up
# included), then each split's ratio to one process and their medians. The probe after training is cut to a few images (it runs after
# the run's clock stops and only costs wall time).
# Two ways of splitting the run, both in every round (unless SPLIT= leaves the second out):
#   two workers: --local-cluster 2, three processes (the driver with the data and the monitor, worker1 with block1-3,
#                worker2 with block4-6);
#   two processes: --local-cluster 1 --placement "$SPLIT" (default worker1=block3,block4,block5,block6): the driver's
#                process keeps the data, the monitor and block1-2, one worker process the rest (SPLIT= to skip it).
# Usage: experiments/cluster/quickstart-ratio.sh [rounds]   (data: PLASTIC_DATA or ~/.cache/plastic/data;
#        PLASTIC=path/to/plastic to measure another build; EXTRA="--set ..." adds flags to every run;
#        LANES="on tcp" runs two workers once per PLASTIC_LANES value in each round, for a same-round A/B;
#        SPLIT=role=node,... places the two-process run's worker (empty: no two-process run);
#        BASELINE=path/to/another/plastic also runs two workers of that build in each round (lanes on) and prints
#        the same-round ratio of this build's two workers to it: a change to the cluster measured against the build before)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
read -r -a lanes <<< "${LANES:-on}"
split=${SPLIT-worker1=block3,block4,block5,block6}
if [ -z "${PLASTIC:-}" ]; then dotnet build -c Release experiments/Plastic.Cli >/dev/null; PLASTIC=experiments/Plastic.Cli/bin/Release/net10.0/plastic; fi
"$PLASTIC" data fetch cifar10 >/dev/null
out=$(mktemp -d)
echo "== $(date -u +%FT%TZ), $(nproc) cores, commit $(git rev-parse --short HEAD), $PLASTIC, $rounds rounds of experiments/quickstart (1,000 steps), two workers with PLASTIC_LANES=${lanes[*]}${split:+, two processes ($split)}${BASELINE:+, and two workers of $BASELINE}"
for round in $(seq 1 "$rounds"); do
  modes=(one "${lanes[@]/#/two-}"); [ -n "$split" ] && modes+=(split); [ -n "${BASELINE:-}" ] && modes+=(base)
  for mode in "${modes[@]}"; do
    flags=(); lane=on; binary=$PLASTIC
    if [ "$mode" = base ]; then flags=(--local-cluster 2); binary=$BASELINE
    elif [ "$mode" = split ]; then flags=(--local-cluster 1 --placement "$split")
    elif [ "$mode" != one ]; then flags=(--local-cluster 2); lane=${mode#two-}; fi
    dir="$out/$mode-$round"
    # shellcheck disable=SC2086
    PLASTIC_LANES=$lane /usr/bin/time -f "%U %S" -o "$dir.time" "$binary" run experiments/quickstart "${flags[@]}" --set probe.trainImages=100 --set probe.testImages=100 --set probe.epochs=1 ${EXTRA:-} --out "$dir" >/dev/null
  done
done
python3 - "$out" "$rounds" "${lanes[@]}" <<'PY'
import json, statistics, sys
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, "experiments/cluster")
from steady_rate import step_starts, steady as steady_rate
out, rounds, lanes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
batch = 32  # the quickstart spec's
def measure(d):
    steps = max(step_starts(d)) + 1
    user, system = map(float, open(f"{d}.time").read().split()[-2:])
    return dict(run=json.load(open(f"{d}/results.json"))["steps_per_second"] * batch, steady=steady_rate(d, batch), cpu=(user + system) / steps * 1000)
runs = {lane: [] for lane in lanes}
split_runs, split_steady = [], []
steady = {lane: [] for lane in lanes}
import os
against_base = []
for r in range(1, rounds + 1):
    one = measure(f"{out}/one-{r}")
    line = f"round {r}: one process {one['run']:6.1f} images/s (steady {one['steady']:6.1f}), CPU {one['cpu']:5.1f} ms/step"
    for lane in lanes:
        two = measure(f"{out}/two-{lane}-{r}")
        runs[lane].append(two["run"] / one["run"]); steady[lane].append(two["steady"] / one["steady"])
        line += (f"; two workers, lanes {lane}: {two['run']:6.1f} (steady {two['steady']:6.1f}), CPU {two['cpu']:5.1f} ms/step, "
                 f"two / one {runs[lane][-1]:.3f} (steady {steady[lane][-1]:.3f})")
    if os.path.exists(f"{out}/split-{r}.time"):
        two = measure(f"{out}/split-{r}")
        split_runs.append(two["run"] / one["run"]); split_steady.append(two["steady"] / one["steady"])
        line += (f"; two processes (driver + worker1): {two['run']:6.1f} (steady {two['steady']:6.1f}), CPU {two['cpu']:5.1f} ms/step, "
                 f"two / one {split_runs[-1]:.3f} (steady {split_steady[-1]:.3f})")
    if os.path.exists(f"{out}/base-{r}.time"):
        base = measure(f"{out}/base-{r}")
        two = measure(f"{out}/two-{lanes[0]}-{r}")
        against_base.append(two["run"] / base["run"])
        line += f"; baseline build, two workers: {base['run']:6.1f} (steady {base['steady']:6.1f}), CPU {base['cpu']:5.1f} ms/step, this build / baseline {against_base[-1]:.3f}"
    print(line)
if against_base:
    print(f"this build's two workers / the baseline build's, same round, median of {rounds}: {statistics.median(against_base):.3f} "
          f"(mean {statistics.mean(against_base):.3f}; {', '.join(f'{x:.3f}' for x in against_base)})")
for lane in lanes:
    print(f"two workers (lanes {lane}) / one process, median of {rounds}: run {statistics.median(runs[lane]):.3f}x ({', '.join(f'{x:.2f}' for x in runs[lane])}), "
          f"steady {statistics.median(steady[lane]):.3f}x ({', '.join(f'{x:.2f}' for x in steady[lane])})")
if split_runs:
    print(f"two processes (driver + worker1) / one process, median of {rounds}: run {statistics.median(split_runs):.3f}x ({', '.join(f'{x:.2f}' for x in split_runs)}), "
          f"steady {statistics.median(split_steady):.3f}x ({', '.join(f'{x:.2f}' for x in split_steady)})")
PY
rm -rf "$out"
