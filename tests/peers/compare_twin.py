"""Plastic's `plastic step` against the independent PyTorch twin (reference_twin.py), rule by rule.

For each case: random views (and a random pairing), `plastic step` with its seeded initialisation
(the dump holds the parameters it used), the twin on the same inputs and those parameters, then per
array: loss relative difference, gradient cosine and norm ratio. Exit 1 if any case misses
loss 1e-5 relative, cosine >= 1 - 1e-5, norm ratio within 1e-4. Skips (exit 0) without torch.

Two networks: the 1/8-width VGG-6 (preset vgg6-cifar-small, DFB from block6) and a small conv net of
its own shape (5x5 and 3x3 kernels, a layer without bias and with identity activation, loss pools
4/2/2/none, feedback from a *middle* layer: c1 <- c3, c2 <- c4, c3 <- c4). Batch sizes odd and even.

Two things a float32 implementation cannot be asked to match a float64 twin on, each handled openly:
- Routing decided by a float32 rounding: a max-pool window whose two largest outputs are closer than
  float32 can order, a pre-activation at 0, a hinge score at its margin. Such an instance is not a
  formulation test (either answer is right), so it is drawn again; every redraw is printed.
- A loss made of large terms that cancel (clapp++/linear: mean of -u_pos + u_neg): its float32 error
  is relative to the terms, not to their sum. Its loss is compared relative to max(|loss|, mean of
  |u_pos| + |u_neg|) (the terms' scale, from the twin's own features), and the plain relative
  difference is printed beside it.
Usage: python3 tests/peers/compare_twin.py [--plastic PATH] [--quick]
"""
import argparse, json, os, subprocess, sys, tempfile
try:
    import numpy as np
    import torch
except ImportError:
    print("skipped: python3 cannot import torch/numpy (Debian: apt-get install python3-torch)")
    sys.exit(0)
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import reference_twin as twin  # noqa: E402

LOSS_TOL, COS_TOL, RATIO_TOL = 1e-5, 1e-5, 1e-4
AMBIGUOUS = 1e-6   # closeness (relative to the layer's rms) below which float32 may route differently from float64:
                   # a few times the float32 error of a 3x3 convolution's sum

VGG_LAYERS = [dict(name=f"block{i + 1}", out=c, kernel=3, padding=1, bias=True, activation="relu", maxPool=mp, lossPool=k)
              for i, (c, mp, k) in enumerate([(16, None, 4), (32, 2, 4), (32, None, 4), (64, 2, 2), (128, 2, 2), (128, 2, 1)])]
SMALL_LAYERS = [
    dict(name="c1", out=8, kernel=5, padding=2, bias=True, activation="relu", maxPool=None, lossPool=4),
    dict(name="c2", out=16, kernel=3, padding=1, bias=True, activation="relu", maxPool=2, lossPool=2),
    dict(name="c3", out=16, kernel=3, padding=1, bias=False, activation="identity", maxPool=None, lossPool=2),
    dict(name="c4", out=24, kernel=3, padding=1, bias=True, activation="relu", maxPool=2, lossPool=None),
]
NETWORKS = {
    "vgg6-small": dict(input=(3, 32, 32), layers=VGG_LAYERS, feedback={f"block{i + 1}": "block6" for i in range(5)}, preset="vgg6-cifar-small"),
    "small-conv": dict(input=(3, 16, 16), layers=SMALL_LAYERS, feedback={"c1": "c3", "c2": "c4", "c3": "c4"}, preset=None),
}
LOCAL_RULES = ["clapp++", "clapp++/softplus", "clapp++/linear", "clapp++/gap", "clapp++/fixed-b", "clapp++/identity-b",
               "clapp++/either", "clapp++/b-l2=0.02", "clapp", "phyll", "phyll/theta=2", "ff", "scff", "scff/lambda=0.001",
               "clapp++dfb", "clapp++dfb/softplus", "clapp++both"]
CASES = [(r, "local") for r in LOCAL_RULES] + [("bp-clapp++", "backprop"), ("bp-infonce", "backprop")]
RUNS = [("vgg6-small", 3, 5), ("vgg6-small", 7, 4), ("small-conv", 5, 3), ("small-conv", 11, 6)]


def uses_feedback(rule):
    return rule.split("/")[0] in ("clapp++dfb", "clapp++both")


def with_channels(net):
    """Layer dicts with their input channels filled in (the twin's case wants them)."""
    layers, cin = [], net["input"][0]
    for layer in net["layers"]:
        layers.append({**layer, "in": cin})
        cin = layer["out"]
    return layers


def twin_case(net, rule, graph):
    return dict(rule=rule, graph=graph, layers=[{k: v for k, v in l.items()} for l in with_channels(net)],
                feedback=net["feedback"] if uses_feedback(rule) else {})


def plastic_network(net, name, rule):
    """The same network as a Plastic network spec (its own JSON form)."""
    c, h, w = net["input"]
    layers = [dict(name=l["name"], kind="conv", width=l["out"], kernel=l["kernel"], padding=l["padding"], bias=l["bias"],
                   activation=l["activation"], **({"maxPool": l["maxPool"]} if l["maxPool"] else {}),
                   **({"lossPool": l["lossPool"]} if l["lossPool"] else {})) for l in net["layers"]]
    spec = dict(name=name, input=dict(channels=c, height=h, width=w), rule=rule, layers=layers)
    if uses_feedback(rule):
        spec["feedback"] = [{"from": src, "to": dst} for dst, src in net["feedback"].items()]
    return spec


def ambiguity(case, views, weights, idx):
    """Why float32 may route this instance differently from float64 (None when it cannot)."""
    setup = twin.build_setup(case, views.shape, weights)
    p, x = setup.params, torch.from_numpy(views.astype(np.float64))
    rows = torch.from_numpy(idx.astype(np.int64))
    feats = {}
    for spec in setup.specs:
        a = twin.conv(spec, p, x)
        scale = float(a.pow(2).mean().sqrt()) + 1e-30
        if spec.activation == "relu" and float(a.abs().min()) < AMBIGUOUS * scale:
            return f"{spec.name}: a pre-activation at {float(a.abs().min()):.2e} (scale {scale:.2e})"
        r = torch.relu(a) if spec.activation == "relu" else a
        if spec.max_pool:
            k = spec.max_pool
            b, ch, hh, ww = r.shape
            windows = r[:, :, :hh // k * k, :ww // k * k].reshape(b, ch, hh // k, k, ww // k, k).permute(0, 1, 2, 4, 3, 5).reshape(b, ch, hh // k, ww // k, k * k)
            top = windows.sort(dim=-1, descending=True).values
            live = top[..., 0] > 0
            if bool(live.any()):
                gap = float((top[..., 0] - top[..., 1])[live].min())
                if gap < AMBIGUOUS * scale:
                    return f"{spec.name}: a max-pool window whose two largest outputs differ by {gap:.2e} (scale {scale:.2e})"
        x = twin.activate_and_pool(spec, a)
        feats[spec.name] = x.mean(dim=(2, 3)) if setup.rule.graph == "backprop" else twin.loss_features(spec, x, setup.rule.gap)
    if setup.rule.f == "hinge" and setup.rule.base not in ("ff", "scff", "phyll", "bp-infonce"):
        for spec in setup.specs if setup.rule.graph == "local" else setup.specs[-1:]:
            z = feats[spec.name]
            for key, ref in twin._pathways(setup, spec) if setup.rule.graph == "local" else [("B", spec.name)]:
                u_pos, u_neg = twin.contrastive_scores(z, feats[ref], p[f"{spec.name}.{key}"], rows)
                margin = float(torch.cat([(u_pos - 1).abs(), (u_neg + 1).abs()]).min())
                if margin < AMBIGUOUS:
                    return f"{spec.name}.{key}: a hinge score {margin:.2e} from its margin"
    return None


def term_scale(case, ours_weights, theirs, idx, layer):
    """Mean over rows of |u_pos| + |u_neg| of a lateral one-B layer, from the twin's features (None otherwise)."""
    name = f"{layer}.B"
    if f"{layer}.features" not in theirs or name not in ours_weights or uses_feedback(case["rule"]):
        return None
    z = theirs[f"{layer}.features"].astype(np.float64)
    n2 = z.shape[0]
    pos = z[(np.arange(n2) + n2 // 2) % n2]
    bc = z @ ours_weights[name].astype(np.float64).T
    return float(np.mean(np.abs((pos * bc).sum(1)) + np.abs((z[idx] * bc).sum(1))))


def cosine(a, b):
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return (1.0 if na == nb == 0 else float(a @ b / (na * nb))), (1.0 if nb == 0 else float(na / nb))


def run_case(plastic, net_name, rule, graph, seed, n, rng, d):
    net = NETWORKS[net_name]
    case = twin_case(net, rule, graph)
    json.dump(case, open(f"{d}/case.json", "w"))
    if net["preset"] and not (uses_feedback(rule)):
        network = net["preset"]
    elif net["preset"]:
        network = net["preset"] + "-dfb"
    else:
        network = f"{d}/network.json"
        json.dump(plastic_network(net, net_name, rule), open(network, "w"))
    redraws = []

    def plastic_step():
        cmd = [plastic, "step", network, "--rule", rule, "--graph", graph, "--seed", str(seed), "--inputs", f"{d}/views.npy",
               "--negatives", f"{d}/idx.npy", "--dump", f"{d}/ours.safetensors"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        return None if r.returncode == 0 else f"plastic step failed: {(r.stderr or r.stdout).strip()[-400:]}"

    # The parameters come from the seed alone, so one step's dump gives the weights to screen instances with.
    ran = False
    for attempt in range(50):
        views = rng.standard_normal((2 * n, *net["input"])).astype(np.float32)
        idx = rng.integers(0, 2 * n, 2 * n).astype(np.int32)
        np.save(f"{d}/views.npy", views)
        np.save(f"{d}/idx.npy", idx)
        if attempt == 0:
            if (error := plastic_step()) is not None:
                return None, error, redraws
            weights, ran = twin.read_safetensors(f"{d}/ours.safetensors"), True
        else:
            ran = False
        why = ambiguity(case, views, weights, idx)
        if why is None:
            break
        redraws.append(why)
    else:
        return None, f"no instance without float32-ambiguous routing in 50 draws (last: {redraws[-1]})", redraws
    if not ran and (error := plastic_step()) is not None:
        return None, error, redraws
    ours = twin.read_safetensors(f"{d}/ours.safetensors")
    draws = None
    if "either" in rule or rule.split("/")[0] == "clapp":
        draws = np.stack([ours[f"{l['name']}.B.draws"] for l in net["layers"]]).astype(np.int32)
    try:  # in this process: the twin's own entry point minus its file I/O (reference_twin.py --help runs it alone)
        theirs = {name: np.asarray(a, dtype=np.float32) for name, a in twin.run_case(case, views, ours, idx=idx, draws=draws)}
    except twin.TwinError as e:
        return None, f"the twin refused the case: {e}", redraws
    return (ours, theirs, case, idx), None, redraws


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plastic", default=os.path.join(here, "..", "..", "experiments", "Plastic.Cli", "bin", "Release", "net10.0", "plastic"))
    parser.add_argument("--quick", action="store_true", help="one run per network instead of two")
    args = parser.parse_args()
    runs = RUNS[::2] if args.quick else RUNS
    worst = dict(loss=0.0, plain=0.0, cos=1.0, ratio=0.0)
    per_rule = {}
    failed = cases = redrawn = 0
    for net_name, seed, n in runs:
        rng = np.random.default_rng(seed)
        for rule, graph in CASES:
            cases += 1
            with tempfile.TemporaryDirectory() as d:
                got, error, redraws = run_case(args.plastic, net_name, rule, graph, seed, n, rng, d)
            redrawn += len(redraws)
            head = f"{rule:22s} {graph:8s} {net_name:10s} seed {seed:2d} N {n}"
            for why in redraws:
                print(f"     {head}: instance drawn again, float32 routing ambiguous ({why})")
            if error:
                print(f"FAIL {head}: {error}"); failed += 1; continue
            ours, theirs, case, idx = got
            loss_rel = plain_rel = 0.0
            cos, ratio, problems = 1.0, 0.0, []
            for name, t in theirs.items():
                if name not in ours:
                    problems.append(f"{name} missing in Plastic's dump"); continue
                o = ours[name]
                if o.shape != t.shape and o.size == t.size:
                    o = o.reshape(t.shape)
                if name.endswith("loss"):
                    ov, tv = float(o.ravel()[0]), float(t.ravel()[0])
                    plain = abs(ov - tv) / max(abs(tv), 1e-12)
                    scale = term_scale(case, ours, theirs, idx, name[:-len(".loss")]) if "/linear" in rule else None
                    rel = abs(ov - tv) / max(abs(tv), scale or 0.0, 1e-12)
                    loss_rel, plain_rel = max(loss_rel, rel), max(plain_rel, plain)
                    if rel > LOSS_TOL:
                        problems.append(f"{name} {ov:.8g} vs {tv:.8g}")
                elif name.endswith(".grad") or name.endswith("features"):
                    c, r = cosine(o, t)
                    cos, ratio = min(cos, c), max(ratio, abs(r - 1))
                    if c < 1 - COS_TOL or abs(r - 1) > RATIO_TOL:
                        problems.append(f"{name} cosine {c:.7f} norm ratio {r:.6f}")
            worst = dict(loss=max(worst["loss"], loss_rel), plain=max(worst["plain"], plain_rel), cos=min(worst["cos"], cos), ratio=max(worst["ratio"], ratio))
            w = per_rule.setdefault(rule, dict(loss=0.0, cos=1.0, ratio=0.0, cases=0, failed=0))
            w.update(loss=max(w["loss"], loss_rel), cos=min(w["cos"], cos), ratio=max(w["ratio"], ratio), cases=w["cases"] + 1, failed=w["failed"] + bool(problems))
            failed += bool(problems)
            plain_note = f" (plain {plain_rel:.2e})" if plain_rel != loss_rel else ""
            print(f"{'ok  ' if not problems else 'FAIL'} {head}: {len(theirs)} arrays, worst loss rel diff {loss_rel:.2e}{plain_note}, "
                  f"worst cosine {cos:.8f}, worst |norm ratio - 1| {ratio:.2e}" + ("" if not problems else "; " + "; ".join(problems[:4])))
    print("\nper rule (all networks, seeds and batch sizes):")
    for rule, w in per_rule.items():
        print(f"  {rule:22s} {w['cases']} cases, {w['failed']} failed: worst loss rel diff {w['loss']:.2e}, worst cosine {w['cos']:.8f}, worst |norm ratio - 1| {w['ratio']:.2e}")
    print(f"overall: {cases} cases, {failed} failed, {redrawn} instances drawn again; worst loss rel diff {worst['loss']:.2e} "
          f"(plain {worst['plain']:.2e}), worst cosine {worst['cos']:.8f}, worst |norm ratio - 1| {worst['ratio']:.2e}")
    print(f"{cases - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
