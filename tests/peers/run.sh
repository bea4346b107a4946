#!/usr/bin/env bash
# Training throughput of Plastic against PyTorch on this machine, measured in one run: the 1/8-width
# VGG-6 on 32x32 two-view batches of 32, CLAPP++ (local, pipelined) and BP-InfoNCE (backprop), the same
# thread count for both (all cores), synthetic batches (the data pipeline left out of both).
# Rounds are interleaved (Plastic, PyTorch, Plastic, ...); medians and the ratio of medians are printed.
# Skips cleanly, exit 0, where PyTorch is not installed (Debian: apt-get install python3-torch).
# Usage: tests/peers/run.sh [rounds] [timed steps]     (PYTHON=... picks the interpreter)
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
rounds=${1:-3}
steps=${2:-60}
if ! "$PYTHON" -c "import torch" 2>/dev/null; then
  echo "skipped: $PYTHON cannot import torch (Debian: apt-get install python3-torch)"
  exit 0
fi
threads=$(nproc)
# The peer in its best configuration on this machine kind (measured 2026-12-04, 2 cores, 3 runs each): torch
# spreads each operation over the cores with its own OpenMP threads, so OpenBLAS's own threads on top of them
# only oversubscribe the cores (CLAPP++ 350-410 against 736-787 images/s, BP-InfoNCE 585-747 against
# 870-915 with OPENBLAS_NUM_THREADS=1); and this machine's environment sets OPENBLAS_CORETYPE=Haswell and
# OPENBLAS_L2_SIZE, which pin OpenBLAS to its AVX2 kernels. PEER_BLAS_THREADS changes the first.
peer_env=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="${PEER_BLAS_THREADS:-1}")
plastic=experiments/Plastic.Cli/bin/Release/net10.0/plastic
[ -x "$plastic" ] || dotnet build -c Release experiments/Plastic.Cli >/dev/null
field() { "$PYTHON" -c "import json,sys; print(json.loads(sys.stdin.read())['$1'])"; }
median() { "$PYTHON" -c "import statistics,sys; print(statistics.median(float(v) for v in sys.argv[1:]))" "$@"; }
echo "cores $threads, rounds $rounds, $steps timed steps after 10 warm-up steps, batch 32 per view, synthetic batches"
for loss in clapp++ bp-infonce; do
  graph=local; [ "$loss" = bp-infonce ] && graph=backprop
  ours=(); theirs=()
  for r in $(seq 1 "$rounds"); do
    p=$(PLASTIC_THREADS=$threads "$plastic" bench train vgg6-cifar-small --rule "$loss" --graph "$graph" --batch 32 --steps "$steps" --warmup 10 --json)
    t=$("${peer_env[@]}" "$PYTHON" tests/peers/train_peer.py --loss "$loss" --threads "$threads" --batch 32 --steps "$steps" --warmup 10)
    ours+=("$(echo "$p" | field images_per_s)"); theirs+=("$(echo "$t" | field images_per_s)")
    if [ "$r" = 1 ] && [ "$loss" = clapp++ ]; then
      blas=$(echo "$t" | field blas)
      echo "peer BLAS: $blas"
      case "$blas" in OpenBLAS*) ;; *) echo "warning: the peer's GEMMs do not run on OpenBLAS; install libopenblas0-pthread (Debian) before quoting a ratio" ;; esac
    fi
    printf '%-10s round %d: plastic %7.1f images/s (%s params), pytorch %7.1f images/s (%s params)\n' "$loss" "$r" \
      "${ours[-1]}" "$(echo "$p" | field parameters)" "${theirs[-1]}" "$(echo "$t" | field parameters)"
  done
  a=$(median "${ours[@]}"); b=$(median "${theirs[@]}")
  "$PYTHON" -c "print(f'$loss: median plastic {$a:.1f} images/s, pytorch {$b:.1f} images/s, ratio plastic/pytorch {$a/$b:.2f}')"
done
