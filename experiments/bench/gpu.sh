#!/usr/bin/env bash
# Issue 19, item 5: the checks and figures to take when a GPU machine is lent, in one script of at most
# 8 minutes (each step has its own timeout, so a hang costs that step, not the session):
#   1. CUDA against the CPU on small nets: every step's losses within 1e-4 (mlp-3 and the 1/8-width VGG-6), with
#      cuBLAS (PLASTIC_CUBLAS=1: an error, not a quiet fallback, if it does not load) and with ILGPU's own GEMM
#      kernel (PLASTIC_CUBLAS=0);
#      if no CUDA run works, the script stops there (the rest would only time out);
#   2. images/s and tensor memory of the 1/8- and full-width VGG-6 for CLAPP++ (local, pipelined) and
#      BP-InfoNCE (backprop);
#   3. the time per epoch of experiments/paper-table1-cifar10 (50,000 images over its CLAPP++ variant's images/s);
#   4. the PyTorch peer on the same GPU, same shapes, in fp32 as Plastic computes, where torch sees CUDA (and at
#      full width with TF32 too, PyTorch's default for convolutions, for reference);
#   5. with the time left: the STL-10 shape (Plastic and the peer's peak memory), the full width with ILGPU's GEMM,
#      and where a full-width step's device time goes, node by node (PLASTIC_SYNC_PHASES=1: every phase waits for
#      the device, so each node's busy time holds the device work it queued; one step in flight).
# Results go to stdout and to $OUT (default: a temporary folder) as JSON. Usage: experiments/bench/gpu.sh
# The GPU machine has no .NET SDK: experiments/bench/gpu-bundle.sh (run here first) publishes a self-contained
# plastic into .gpu/plastic.tar.xz, which the device call carries (carry: [".gpu"]) and this script unpacks.
# Every step's timeout is cut to what is left of the 8 minutes; a step with no time left is skipped, named.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
PYTHON=${PYTHON:-python3}
deadline=$((SECONDS + ${GPU_SECONDS:-480}))
# GPU_DEVICE=ilgpu-cpu dry-runs the script on a machine without a GPU (ILGPU's CPU accelerator, slow).
dev_gpu=${GPU_DEVICE:-cuda}
# why FILE CODE: what a failed step's exit code and the last line of its error output say.
why() { local code=$2; echo "exit $code$([ "$code" = 124 ] && echo ', timed out')$([ -s "$1" ] && echo ": $(tail -1 "$1")")"; }
# limited SECONDS COMMAND...: the command under a timeout of SECONDS or what is left, whichever is less.
limited() {
  local want=$1 rest=$((deadline - SECONDS)); shift
  if [ "$rest" -lt 10 ]; then echo "out of time: skipped $*" >&2; return 125; fi
  timeout "$(( want < rest ? want : rest ))" "$@"
}
# The commit the measured build came from: the bundle's own when the bundle is what runs.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "${PLASTIC:-}" ]; then
  plastic=$PLASTIC
elif [ -f .gpu/plastic.tar.xz ]; then
  mkdir -p /tmp/plastic-gpu && tar xJf .gpu/plastic.tar.xz -C /tmp/plastic-gpu && plastic=/tmp/plastic-gpu/plastic
  commit="$(cat .gpu/commit 2>/dev/null || echo unknown) (the bundle in .gpu)"
else
  limited 240 dotnet build -c Release experiments/Plastic.Cli >/dev/null || { echo "build failed (no .NET SDK? run experiments/bench/gpu-bundle.sh and carry .gpu)"; exit 1; }
  plastic=experiments/Plastic.Cli/bin/Release/net10.0/plastic
fi
# A GPU image need not carry ICU; Plastic formats nothing by culture.
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=${DOTNET_SYSTEM_GLOBALIZATION_INVARIANT:-1}
# cuBLAS may sit in a Python package's folder (nvidia-cublas) rather than on the loader's path.
if ! ldconfig -p 2>/dev/null | grep -q 'libcublas\.so\.1[0-9]'; then
  cublas_dir=$(timeout 20 find /usr/local /opt /usr/lib -name 'libcublas.so.1[0-9]*' 2>/dev/null | head -1 | xargs -r dirname)
  [ -n "$cublas_dir" ] && export LD_LIBRARY_PATH="$cublas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
echo "== $(date -u +%FT%TZ), commit $commit, results in $OUT"
echo "CUDA libraries the loader sees: $(ldconfig -p 2>/dev/null | grep -oE 'lib(cuda|cublas)\.so[.0-9]*' | sort -u | tr '\n' ' ')${cublas_dir:+; cuBLAS from $cublas_dir}"
limited 30 nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "nvidia-smi: not available"
limited 60 "$plastic" devices

cuda_ok=0
echo "== 1. CUDA against the CPU (losses of every step, to 1e-4), with cuBLAS (PLASTIC_CUBLAS=1) and with ILGPU's GEMM kernel (PLASTIC_CUBLAS=0)"
for net in mlp-3 vgg6-cifar-small; do
  for dev in cpu "$dev_gpu" "$dev_gpu+ilgpu-gemm"; do
    device=${dev%+ilgpu-gemm}; cublas=1; [ "$dev" != "$device" ] && cublas=0; [ "$dev" = cpu ] && cublas=
    PLASTIC_CUBLAS=$cublas limited 90 "$plastic" run "$net" --synthetic --steps 5 --batch 8 --schedule sequential --device "$device" --out "$OUT/check-$net-$dev" >/dev/null 2>"$OUT/check-$net-$dev.err" \
      || { code=$?; echo "$net on $dev: failed ($(why "$OUT/check-$net-$dev.err" $code))"; continue; }
    [ "$dev" = cpu ] && continue
    cuda_ok=$((cuda_ok + 1))
    "$PYTHON" - "$OUT/check-$net-cpu/metrics.csv" "$OUT/check-$net-$dev/metrics.csv" "$net on $dev" <<'PY'
import csv, sys
a, b = ({(r["step"], r["node"]): float(r["loss"]) for r in csv.DictReader(open(p))} for p in sys.argv[1:3])
assert a.keys() == b.keys(), "the two runs logged other steps or nodes"
worst = max(abs(a[k] - b[k]) for k in a)
print(f"{sys.argv[3]}: {len(a)} losses (step x node), largest difference against the cpu {worst:.2e}: {'within' if worst <= 1e-4 else 'ABOVE'} 1e-4")
PY
  done
done

if [ "$cuda_ok" = 0 ]; then
  echo "no run on $dev_gpu worked: the measurements are skipped (see $OUT/check-*.err)"
  for f in "$OUT"/check-*-"$dev_gpu"*.err; do [ -s "$f" ] && { echo "--- $f"; head -20 "$f"; }; done
  exit 1
fi

# train NET RULE GRAPH LABEL [ENV=VALUE]: one `plastic bench train` on the GPU, its JSON kept, one line printed.
train() {
  local net=$1 rule=$2 graph=$3 label=$4; shift 4
  if limited 90 env "$@" "$plastic" bench train "$net" --rule "$rule" --graph "$graph" --device "$dev_gpu" --steps 20 --warmup 5 --json > "$OUT/train-$label.json" 2>"$OUT/train-$label.err"; then
    "$PYTHON" -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"{r['network']} {r['rule']}{sys.argv[2]}: {r['images_per_s']:.1f} images/s, tensors {r['tensor_peak_mb']:.0f} MB (at one moment {r['tensor_simultaneous_peak_mb']:.0f} MB), device buffers {r.get('device_pool_peak_mb') or 0:.0f} MB; {r.get('device', '')}\")" "$OUT/train-$label.json" "$([ $# -gt 0 ] && echo " ($*)")"
  else
    local code=$?; echo "$net $rule on $dev_gpu${*:+ ($*)}: failed ($(why "$OUT/train-$label.err" $code))"
  fi
}

echo "== 2. images/s on $dev_gpu (synthetic batches of 32 per view), 1/8 and full width"
for net in vgg6-cifar-small vgg6-cifar; do
  train "$net" clapp++ local "$net-clapp++"
  train "$net" bp-infonce backprop "$net-bp-infonce"
done

echo "== 3. time per epoch of experiments/paper-table1-cifar10 (its CLAPP++ variant, synthetic batches of its shape)"
limited 120 "$plastic" bench train experiments/paper-table1-cifar10/spec.json --variant clapp++ --device "$dev_gpu" --steps 20 --warmup 5 --json > "$OUT/table1.json" 2>"$OUT/table1.err"
code=$?
if [ "$code" = 0 ]; then
  "$PYTHON" -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"{r['configuration']}: {r['images_per_s']:.1f} images/s, {50000 / r['images_per_s']:.1f} s per epoch of 50,000 images\")" "$OUT/table1.json"
else
  echo "paper-table1-cifar10 on $dev_gpu: failed ($(why "$OUT/table1.err" $code))"
fi

echo "== 4. PyTorch on the same GPU, same shapes"
peer_cuda=0
limited 60 "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null && peer_cuda=1
if [ "$peer_cuda" = 1 ]; then
  for width in 0.125 1.0; do
    for loss in clapp++ bp-infonce; do
      limited 90 "$PYTHON" tests/peers/train_peer.py --loss "$loss" --width "$width" --device cuda --steps 20 --warmup 5 | tee "$OUT/peer-$width-$loss.json"
    done
  done
  for loss in clapp++ bp-infonce; do
    limited 90 "$PYTHON" tests/peers/train_peer.py --loss "$loss" --width 1.0 --device cuda --steps 20 --warmup 5 --tf32 | tee "$OUT/peer-1.0-$loss-tf32.json"
  done
else
  echo "torch does not see CUDA here: no peer figures"
fi

echo "== 5. with the time left: the STL-10 shape (memory at the paper's setting) and the full width with ILGPU's GEMM kernel"
train vgg6-stl10 clapp++ local vgg6-stl10-clapp++
train vgg6-stl10 bp-infonce backprop vgg6-stl10-bp-infonce
# The paper's memory comparison (PAPER.md 5.3: CLAPP++ about 38 % below backprop on STL-10): PyTorch's peak at
# the STL-10 shape, full width, batch 32 per view, beside Plastic's tensor peaks above.
if [ "$peer_cuda" = 1 ]; then
  for loss in clapp++ bp-infonce; do
    limited 90 "$PYTHON" tests/peers/train_peer.py --loss "$loss" --width 1.0 --size 96 --device cuda --steps 3 --warmup 1 | tee "$OUT/peer-stl10-$loss.json"
  done
fi
train vgg6-cifar clapp++ local ilgpu-gemm-clapp++ PLASTIC_CUBLAS=0
train vgg6-cifar bp-infonce backprop ilgpu-gemm-bp-infonce PLASTIC_CUBLAS=0
echo "== 5b. device time by node, full width, one step in flight (PLASTIC_SYNC_PHASES=1; the waits slow the run)"
for config in "clapp++ local" "bp-infonce backprop"; do
  set -- $config
  if PLASTIC_SYNC_PHASES=1 limited 90 "$plastic" bench train vgg6-cifar --rule "$1" --graph "$2" --schedule sequential --device "$dev_gpu" --steps 20 --warmup 5 --json > "$OUT/nodes-$1.json" 2>"$OUT/nodes-$1.err"; then
    "$PYTHON" -c "import json,sys; r=json.load(open(sys.argv[1])); steps=r['timed_steps']+r['warmup_steps']; print(f\"{r['rule']} ({r['images_per_s']:.0f} images/s with the waits), ms a step by node: \" + ', '.join(f\"{n} {1000 * u['busy_seconds'] / steps:.1f}\" for n, u in r['utilisation'].items()))" "$OUT/nodes-$1.json"
  else
    code=$?; echo "device time by node, $1: failed ($(why "$OUT/nodes-$1.err" $code))"
  fi
done
echo "== done in $SECONDS s"
