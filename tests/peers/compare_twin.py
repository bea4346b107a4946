"""Plastic's `plastic step` against the independent PyTorch twin (reference_twin.py), rule by rule.

For each case: random views (and a random pairing), `plastic step` with its seeded initialisation
(the dump holds the parameters it used), the twin on the same inputs and those parameters, then per
array: loss relative difference, gradient cosine and norm ratio. Exit 1 if any case misses
loss 1e-5 relative, cosine >= 1 - 1e-5, norm ratio within 1e-4. Skips (exit 0) without torch.
Usage: python3 tests/peers/compare_twin.py [plastic executable]
"""
import json, os, subprocess, sys, tempfile
try:
    import numpy as np
    import torch  # noqa: F401  (the twin needs it)
except ImportError:
    print("skipped: python3 cannot import torch/numpy (Debian: apt-get install python3-torch)")
    sys.exit(0)
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from reference_twin import read_safetensors  # noqa: E402

PLASTIC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "experiments", "Plastic.Cli", "bin", "Release", "net10.0", "plastic")
VGG = [(16, None), (32, 2), (32, None), (64, 2), (128, 2), (128, 2)]
POOLS = [4, 4, 4, 2, 2, 1]

def vgg_case(rule, graph, dfb):
    layers, cin = [], 3
    for i, ((c, mp), k) in enumerate(zip(VGG, POOLS)):
        layers.append(dict(name=f"block{i+1}", **{"in": cin}, out=c, kernel=3, stride=1, padding=1, bias=True,
                           activation="relu", maxPool=mp, lossPool=k))
        cin = c
    feedback = {f"block{i+1}": "block6" for i in range(5)} if dfb else {}
    return dict(rule=rule, graph=graph, layers=layers, feedback=feedback)

CASES = [(r, "local") for r in ["clapp++", "clapp++/softplus", "clapp++/linear", "clapp++/gap", "clapp++/fixed-b",
                                  "clapp++/b-l2=0.02", "clapp", "phyll", "phyll/theta=2", "ff", "scff", "scff/lambda=0.001"]] + \
        [("clapp++dfb", "local"), ("clapp++both", "local"), ("bp-clapp++", "backprop"), ("bp-infonce", "backprop")]

def cosine(a, b):
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return (1.0 if na == nb == 0 else float(a @ b / (na * nb))), (1.0 if nb == 0 else float(na / nb))

worst_loss, worst_cos, worst_ratio, failed = 0.0, 1.0, 0.0, 0
for seed, n in [(3, 5), (7, 4)]:
    rng = np.random.default_rng(seed)
    for rule, graph in CASES:
        dfb = rule.startswith("clapp++dfb") or rule.startswith("clapp++both")
        net = "vgg6-cifar-small-dfb" if dfb else "vgg6-cifar-small"
        with tempfile.TemporaryDirectory() as d:
            views = rng.standard_normal((2 * n, 3, 32, 32)).astype(np.float32)
            np.save(f"{d}/views.npy", views)
            idx = rng.integers(0, 2 * n, 2 * n).astype(np.int32)
            np.save(f"{d}/idx.npy", idx)
            json.dump(vgg_case(rule, graph, dfb), open(f"{d}/case.json", "w"))
            cmd = [PLASTIC, "step", net, "--rule", rule, "--graph", graph, "--seed", str(seed), "--inputs", f"{d}/views.npy",
                   "--negatives", f"{d}/idx.npy", "--dump", f"{d}/ours.safetensors"]
            subprocess.run(cmd, check=True, capture_output=True)
            ours = read_safetensors(f"{d}/ours.safetensors")
            twin = [sys.executable, os.path.join(here, "reference_twin.py"), "--case", f"{d}/case.json", "--inputs", f"{d}/views.npy",
                    "--weights", f"{d}/ours.safetensors", "--negatives", f"{d}/idx.npy", "--dump", f"{d}/twin.safetensors"]
            if rule.split("/")[0] == "clapp":
                draws = np.stack([ours[f"block{i+1}.B.draws"] for i in range(6)]).astype(np.int32)
                np.save(f"{d}/draws.npy", draws)
                twin += ["--draws", f"{d}/draws.npy"]
            r = subprocess.run(twin, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL {rule} ({graph}, seed {seed}, N {n}): the twin failed: {r.stderr.strip()[-400:]}"); failed += 1; continue
            theirs = read_safetensors(f"{d}/twin.safetensors")
            case_loss, case_cos, case_ratio, problems = 0.0, 1.0, 0.0, []
            for name, t in theirs.items():
                if name not in ours:
                    problems.append(f"{name} missing in Plastic's dump"); continue
                o = ours[name]
                if o.shape != t.shape and o.size == t.size: o = o.reshape(t.shape)
                if name.endswith("loss"):
                    rel = abs(float(o.ravel()[0]) - float(t.ravel()[0])) / max(abs(float(t.ravel()[0])), 1e-12)
                    case_loss = max(case_loss, rel)
                    if rel > 1e-5: problems.append(f"{name} {float(o.ravel()[0]):.8g} vs {float(t.ravel()[0]):.8g}")
                elif name.endswith(".grad") or name.endswith("features"):
                    c, ratio = cosine(o, t)
                    case_cos, case_ratio = min(case_cos, c), max(case_ratio, abs(ratio - 1))
                    if c < 1 - 1e-5 or abs(ratio - 1) > 1e-4: problems.append(f"{name} cosine {c:.7f} norm ratio {ratio:.6f}")
            worst_loss, worst_cos, worst_ratio = max(worst_loss, case_loss), min(worst_cos, case_cos), max(worst_ratio, case_ratio)
            status = "ok  " if not problems else "FAIL"
            failed += bool(problems)
            print(f"{status} {rule:22s} {graph:8s} seed {seed} N {n}: {len(theirs)} arrays, worst loss rel diff {case_loss:.2e}, "
                  f"worst cosine {case_cos:.8f}, worst |norm ratio - 1| {case_ratio:.2e}" + ("" if not problems else "; " + "; ".join(problems[:4])))
print(f"overall: worst loss rel diff {worst_loss:.2e}, worst cosine {worst_cos:.8f}, worst |norm ratio - 1| {worst_ratio:.2e}; {failed} failed")
sys.exit(1 if failed else 0)
