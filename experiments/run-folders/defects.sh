#!/usr/bin/env bash
# Issue 17's numbered defects, each tried again: the command and what the tool says now.
# Usage: experiments/run-folders/defects.sh [work-dir]   (about 2 minutes on 2 cores; item 5's --cluster waits 60 s)
set -uo pipefail
cd "$(dirname "$0")/../.."
work=${1:-runs/defects}
dotnet build -c Release experiments/Plastic.Cli >/dev/null
plastic=$PWD/experiments/Plastic.Cli/bin/Release/net10.0/plastic
rm -rf "$work"; mkdir -p "$work"; cd "$work"
# Shows a command as typed and its output (stdout and stderr, in order), then its exit code.
try() { echo "\$ plastic $*"; "$plastic" "$@" 2>&1 | grep -v '^  step ' | sed 's/^/  /'; echo "  (exit ${PIPESTATUS[0]})"; }
say() { echo; echo "## $*"; }
tree() { find "$1" -type f | sort | xargs md5sum | md5sum | cut -c1-12; }
quick="mlp-3 --synthetic --batch 4"

say "1. Stale checkpoints: another seed's run, killed, then --resume"
"$plastic" run $quick --steps 9 --checkpoint-every 3 --seed 2 --out F >/dev/null
rm F/results.json   # as if killed after its last checkpoint
try run $quick --steps 9 --checkpoint-every 3 --seed 7 --out F
try run $quick --steps 9 --checkpoint-every 3 --seed 7 --resume --out F

say "2. --resume compares the spec with the run: learning rate, negatives, network"
try run $quick --steps 9 --checkpoint-every 3 --seed 2 --lr 1e-3 --resume --out F
try run $quick --steps 9 --checkpoint-every 3 --seed 2 --negatives random --resume --out F
try run deep-linear --synthetic --batch 4 --steps 9 --checkpoint-every 3 --seed 2 --resume --out F

say "3. Damaged checkpoints: the newest cut short (the one before is used), then every one damaged, then a layer file missing"
cp -r F F3; head -c 100 F3/checkpoints/step-00000008/fc2.npz > cut; mv cut F3/checkpoints/step-00000008/fc2.npz
try run $quick --steps 9 --checkpoint-every 3 --seed 2 --resume --out F3
cp -r F F3b; for f in F3b/checkpoints/*/fc1.npz; do head -c 3000 /dev/urandom > "$f"; done; before=$(tree F3b)
try run $quick --steps 9 --checkpoint-every 3 --seed 2 --resume --out F3b
echo "  folder unchanged: $([ "$before" = "$(tree F3b)" ] && echo yes || echo NO)"
cp -r F F3c; rm F3c/checkpoints/*/fc3.npz
try run $quick --steps 9 --checkpoint-every 3 --seed 2 --resume --out F3c

say "4. The output folder is protected: a second run, two runs at once, a rejected command, --resume of a finished run"
"$plastic" run $quick --steps 3 --out G >/dev/null; before=$(tree G)
try run $quick --steps 3 --seed 5 --out G
"$plastic" run vgg6-cifar-small --synthetic --steps 300 --batch 8 --out H >/dev/null 2>&1 &
first=$!; until [ -f H/.plastic.lock ]; do sleep 0.1; done
try run vgg6-cifar-small --synthetic --steps 300 --batch 8 --overwrite --out H
kill $first; wait $first 2>/dev/null
try run $quick --steps 3 --rule nosuchrule --out G
try run $quick --steps 3 --resume --out G
echo "  G unchanged by all three: $([ "$before" = "$(tree G)" ] && echo yes || echo NO)"

say "5. One line instead of a stack trace"
try run $quick --steps 2 --out /proc/plastic-run
touch afile; try run $quick --steps 2 --out afile
printf '{"network": "mlp-3"' > cut.json; try run cut.json --out X5
"$plastic" run $quick --steps 3 --out T >/dev/null; printf '{"trace_id' >> T/traces.jsonl; echo '{"x": 1}' >> T/traces.jsonl
sed -i '1s/.*/{oops/' T/traces.jsonl; try trace T
head -c 500 G/weights.npz > w.npz; mkdir -p P; cp G/config.resolved.json P/; mv w.npz P/weights.npz; try probe P --dataset mnist
mkdir -p data/mnist; echo "not gzip" > data/mnist/train-images-idx3-ubyte.gz; try run mlp-3 --dataset mnist --data data --steps 2 --out X5
try theory fig2 --synthetic --init none.npz --out X5
try run $quick --steps 2 --cluster 127.0.0.1:9 --placement worker1=fc1 --out X5
echo "  X5 created by any of them: $([ -e X5 ] && echo YES || echo no)"

say "6. A diverged run is a failure, recorded in results.json"
try run $quick --steps 40 --checkpoint-every 1 --schedule sequential --lr 1e15 --out D
sed 's/^/  /' D/results.json

say "7. --resume with no usable checkpoint; a genuine resume keeps the history before its checkpoint"
"$plastic" run $quick --steps 9 --out N >/dev/null; rm N/results.json
try run $quick --steps 9 --resume --out N
"$plastic" run $quick --steps 9 --checkpoint-every 3 --out W >/dev/null
"$plastic" run $quick --steps 9 --checkpoint-every 3 --out K >/dev/null; rm -r K/results.json K/checkpoints/step-00000008
try run $quick --steps 9 --checkpoint-every 3 --resume --out K
echo "  metrics.csv of the resumed run equals the uninterrupted run's: $(cmp -s W/metrics.csv K/metrics.csv && echo yes || echo NO)"
echo "  weights.safetensors equal: $(cmp -s W/weights.safetensors K/weights.safetensors && echo yes || echo NO)"

say "8. Messages that name what was wrong"
echo '[1, 2]' > array.json; try run array.json --out X8
echo '{"steps": 3}' > nonet.json; try run nonet.json --out X8
echo '{"network": "mlp-3", "dataset": "synthetic", "optimizer": {"learningRate": 1e400}}' > big.json; try run big.json --out X8
echo '{"network": "mlp-3", "network": "mlp-3", "dataset": "synthetic"}' > dup.json; try run dup.json --out X8
mkdir -p data8/mnist; python3 - <<'PY'
import gzip, struct
gzip.open('data8/mnist/train-images-idx3-ubyte.gz', 'wb').write(struct.pack('>IIII', 0x803, 3, 28, 28) + bytes(3 * 784))
gzip.open('data8/mnist/train-labels-idx1-ubyte.gz', 'wb').write(struct.pack('>II', 0x801, 3) + bytes([1, 42, 3]))
PY
try run mlp-3 --dataset mnist --data data8 --steps 2 --out X8
try run mlp-3 --synthetic --dataset x --out X8
"$plastic" run $quick --steps 3 --out E >/dev/null; : > E/traces.jsonl; try trace E

say "9. Smaller ones"
echo '{"name": "x", "input": {"channels": 1, "height": 4, "width": 4}, "rule": "clapp+++", "layers": [{"name": "a", "kind": "linear", "width": 4}]}' > r.json; try describe r.json
echo '{"name": "x", "input": {"channels": 1, "height": 4, "width": 4}, "rule": "clapp++", "layers": [{"name": "a", "kind": "linear", "width": 2000000000}]}' > w.json; try describe w.json
try run $quick --steps 2 --rule clapp++/softplus/linear --out X9
try run $quick --steps 2 --device quantum --out X9
echo "  X9 created: $([ -e X9 ] && echo YES || echo no)"
"$plastic" run $quick --steps 30 --checkpoint-every 2 --out R >/dev/null
echo "  checkpoints kept after 30 steps with --checkpoint-every 2 (checkpointKeep 3): $(ls R/checkpoints | tr '\n' ' ')"

say "By design before, now recovered: a layer that throws at step 7 (injected)"
try run $quick --steps 12 --checkpoint-every 3 --set 'faults=["fc2@7"]' --out L
echo "  weights equal the uninterrupted run's: $("$plastic" run $quick --steps 12 --checkpoint-every 3 --out L0 >/dev/null; cmp -s L/weights.safetensors L0/weights.safetensors && echo yes || echo NO)"
echo "  (a lost worker: experiments/cluster/kill-demo.sh)"
