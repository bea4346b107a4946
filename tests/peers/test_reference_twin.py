#!/usr/bin/env python3
"""Self-check of reference_twin.py; runs with plain `python3` (no pytest), exit 0 on success.

1. The worked examples of RULES-FF-SCFF-CLAPP.md section 5 (FF, SCFF, CLAPP hinge), checked
   to 1e-9 against the twin's own loss functions.
2. Small hand-computed cases of the other loss pieces (phyll, softplus f, either, InfoNCE,
   b-l2), checked against plain numpy formulas.
3. A central finite-difference check of gradients of every rule on a tiny conv network:
   each trained array (conv weight, bias, B, B_fb, B_lateral2, proj) of each layer is probed
   at a few entries against the finite difference of that layer's OWN loss, with the
   references c held at their unperturbed values (that is what detaching c means).
4. Consistency and error checks, and one end-to-end run of the command line.
"""

import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch


def _find_twin():
    here = os.path.dirname(os.path.abspath(__file__))
    folder = here
    for _ in range(4):
        if os.path.exists(os.path.join(folder, "reference_twin.py")):
            return folder
        folder = os.path.dirname(folder)
    raise SystemExit("test_reference_twin.py: cannot find reference_twin.py next to it or above")


TWIN_DIR = _find_twin()
sys.path.insert(0, TWIN_DIR)
import reference_twin as rt  # noqa: E402

D = torch.float64
FAILURES = []
N_CHECKS = [0]


def check(cond, what):
    N_CHECKS[0] += 1
    if not cond:
        FAILURES.append(what)
        print(f"FAIL: {what}")


def close(got, want, what, tol=1e-9):
    got = float(got)
    check(abs(got - want) <= tol, f"{what}: got {got:.12g}, want {want:.12g}")


def t(x, grad=False):
    return torch.tensor(x, dtype=D, requires_grad=grad)


# ----------------------------------------------------------------------------------------
# 1. worked examples, RULES-FF-SCFF-CLAPP.md section 5
# ----------------------------------------------------------------------------------------

def test_ff_worked_example():
    a = t([1.0, -0.5, 2.0]).view(1, 3, 1, 1)              # one sample, 3 units, 1 position
    g = rt.ff_goodness(a)
    close(g[0], 5.0, "FF goodness G")
    gp, gn = t([5.0], True), t([5.0], True)
    l_pos = rt.softplus(2.0 - gp).sum()                   # softplus(theta - G), theta = 2
    l_neg = rt.softplus(gn - 2.0).sum()
    close(l_pos, 0.0485873516, "FF L_pos")
    close(l_neg, 3.0485873516, "FF L_neg")
    (l_pos + l_neg).backward()
    close(gp.grad[0], -0.0474258732, "FF dL_pos/dG")
    close(gn.grad[0], 0.9525741268, "FF dL_neg/dG")
    close(rt.ff_loss(t([5.0]), t([5.0]), 2.0), 1.5485873516, "FF [LX] BCE mean")


def test_scff_worked_example():
    a_pos = t([[1.0, 3.0], [0.0, -1.0]]).view(1, 2, 1, 2)   # rows = channels, 2 positions
    a_neg = t([[2.0, 0.5], [2.0, 1.0]]).view(1, 2, 1, 2)
    g_pos, g_neg = rt.scff_goodness(a_pos), rt.scff_goodness(a_neg)
    close(g_pos[0, 0, 0], 0.5, "SCFF G_pos[0]")
    close(g_pos[0, 0, 1], 4.5, "SCFF G_pos[1]")
    close(g_neg[0, 0, 0], 4.0, "SCFF G_neg[0]")
    close(g_neg[0, 0, 1], 0.625, "SCFF G_neg[1]")
    close(rt.softplus(0.0 - g_pos).mean(), 0.2425623645, "SCFF positive term")
    close(rt.softplus(g_neg - 1.0).mean(), 1.7858553079, "SCFF negative term")
    close(rt.scff_loss(g_pos, g_neg, 0.0, 1.0, 0.0012) - rt.scff_loss(g_pos, g_neg, 0.0, 1.0, 0.0),
          0.0054332311, "SCFF regulariser")
    close(rt.scff_loss(g_pos, g_neg, 0.0, 1.0, 0.0012), 2.0338509035, "SCFF total")


def test_clapp_hinge_worked_example():
    # 2N = 4 rows; row 0 has c = [1, 0], z_pos = z[2] = [0.5, 0.2], z_neg = z[3] = [-0.3, 0.4]
    z = t([[1.0, 0.0], [0.3, 0.1], [0.5, 0.2], [-0.3, 0.4]])
    u_pos, u_neg = rt.contrastive_scores(z, z.clone(), torch.eye(2, dtype=D),
                                         torch.tensor([3, 0, 1, 2]))
    close(u_pos[0], 0.5, "CLAPP u_pos")
    close(u_neg[0], -0.3, "CLAPP u_neg")
    up, un = t(0.5, True), t(-0.3, True)
    l_pos, l_neg = rt.f_hinge(up), rt.f_hinge(-un)
    close(l_pos, 0.5, "CLAPP l_pos")
    close(l_neg, 0.7, "CLAPP l_neg")
    (l_pos + l_neg).backward()
    close(up.grad, -1.0, "CLAPP gamma_pos")
    close(un.grad, 1.0, "CLAPP gamma_neg")


# ----------------------------------------------------------------------------------------
# 2. other loss pieces against plain formulas
# ----------------------------------------------------------------------------------------

def test_loss_pieces():
    u_pos, u_neg = t([0.3, 1.7, -0.4, 0.9]), t([0.2, -1.5, 0.8, 2.0])
    sp = lambda x: np.log1p(np.exp(x))
    up, un = u_pos.numpy(), u_neg.numpy()
    close(rt.type2_loss(u_pos, u_neg, rt.f_hinge),
          np.mean(np.maximum(0, 1 - up) + np.maximum(0, 1 + un)), "type-2 hinge")
    close(rt.type2_loss(u_pos, u_neg, rt.f_softplus), np.mean(sp(1 - up) + sp(1 + un)),
          "type-2 softplus")
    close(rt.type2_loss(u_pos, u_neg, rt.f_linear), np.mean(-up + un), "type-2 linear")
    for theta in (1.0, 2.0, 0.5):
        close(rt.phyll_loss(u_pos, u_neg, theta), np.mean(sp(theta * (un - up))),
              f"phyll theta={theta}")
    draw = torch.tensor([0, 1, 1, 0])
    close(rt.either_loss(u_pos, u_neg, rt.f_hinge, draw),
          np.mean(np.maximum(0, 1 - up[[0, 3]])) + np.mean(np.maximum(0, 1 + un[[1, 2]])),
          "either hinge")
    close(rt.either_loss(u_pos, u_neg, rt.f_hinge, torch.zeros(4, dtype=torch.long)),
          np.mean(np.maximum(0, 1 - up)), "either, empty negative set")
    close(rt.softplus(t(1000.0)), 1000.0, "softplus large x")
    close(rt.softplus(t(-1000.0)), 0.0, "softplus very negative x")
    B = t([[1.0, -2.0], [0.5, 3.0]])
    close(rt.b_l2_penalty(B, 0.02), 0.01 * (1 + 4 + 0.25 + 9), "b-l2 penalty")
    # InfoNCE: N = 2 images, 3 features
    rng = np.random.default_rng(5)
    z, w = rng.normal(size=(4, 3)), rng.normal(size=(3, 3))
    p = z @ w.T
    p /= np.linalg.norm(p, axis=1, keepdims=True)
    logits = p[:2] @ p[2:].T / 0.1
    want = np.mean([-(logits[i, i] - np.log(np.exp(logits[i]).sum())) for i in range(2)])
    close(rt.infonce_loss(t(z), t(w)), want, "InfoNCE")


def test_rule_parsing():
    r = rt.parse_rule("clapp++/softplus/gap/b-l2=0.02")
    check((r.f, r.gap, r.b_l2, r.either) == ("softplus", True, 0.02, False), "parse clapp++ opts")
    r = rt.parse_rule("clapp")
    check(r.gap and r.either and r.f == "hinge", "clapp = clapp++/gap/either")
    r = rt.parse_rule("scff/theta=3/th2=4")
    check((r.th1, r.th2, r.lam) == (3.0, 4.0, 0.0), "scff theta then th2")
    check(rt.parse_rule("phyll").theta == 1.0, "phyll default theta")
    for bad in ("clapp++/foo", "clapp++dfb/gap", "phyll/hinge", "bp-infonce/gap", "ff/b-l2=1",
                "clapp++/softplus/linear", "clapp++/b-l2", "nope", "scff/th1=x"):
        try:
            rt.parse_rule(bad)
            check(False, f"rule '{bad}' should be rejected")
        except rt.TwinError:
            check(True, "")


# ----------------------------------------------------------------------------------------
# 3. finite differences on a tiny network
# ----------------------------------------------------------------------------------------

def tiny_case(rule, equal_dims=False, graph="local"):
    l2_out = 3 if equal_dims else 4
    return {
        "rule": rule, "graph": graph,
        "layers": [
            {"name": "b1", "in": 2, "out": 3, "kernel": 3, "stride": 1, "padding": 1,
             "bias": True, "activation": "relu", "maxPool": 2, "lossPool": 2},
            {"name": "b2", "in": 3, "out": l2_out, "kernel": 3, "stride": 1, "padding": 1,
             "bias": True, "activation": "relu", "maxPool": None, "lossPool": 2},
        ],
        "feedback": {"b1": "b2"},
    }


def tiny_weights(case, rng, n_rows, scale=0.4):
    """Random weights for every key any rule could need, shapes from the twin's inference."""
    specs = rt.parse_layers(case)
    w = {}
    for s in specs:
        w[f"{s.name}.weight"] = rng.normal(scale=scale, size=(s.cout, s.cin, s.kernel, s.kernel))
        w[f"{s.name}.bias"] = rng.normal(scale=0.1, size=(s.cout,))
    for gap in (False, True):
        shapes = rt.infer_shapes(specs, (n_rows, specs[0].cin, 8, 8), gap)
        top = specs[-1].name
        suffix = "" if not gap else "_gap"
        for s in specs:
            d = shapes[s.name][1]
            ref = case["feedback"].get(s.name, s.name)
            w[f"{s.name}.B{suffix}"] = rng.normal(scale=0.5, size=(d, d))
            w[f"{s.name}.B_lateral2{suffix}"] = rng.normal(scale=0.5, size=(d, d))
            w[f"{s.name}.B_fb{suffix}"] = rng.normal(scale=0.5, size=(d, shapes[ref][1]))
    c_top = specs[-1].cout
    w[f"{top}.B_bp"] = rng.normal(scale=0.5, size=(c_top, c_top))
    w["proj.weight"] = rng.normal(size=(c_top, c_top))
    return w


def weights_for(rule_text, w):
    """Pick the B variant (GAP-sized, bp-sized or pooled) a rule needs under the plain names."""
    rule = rt.parse_rule(rule_text)
    out = {k: v for k, v in w.items() if not (k.endswith("_gap") or k.endswith("_bp"))}
    suffix = "_bp" if rule.graph == "backprop" else ("_gap" if rule.gap else None)
    if suffix:
        for k, v in w.items():
            if k.endswith(suffix):
                out[k[: -len(suffix)]] = v
    return out


def fd_check(rule_text, rng, equal_dims=False, probes=2, eps=1e-6):
    n_rows = 6
    graph = rt.parse_rule(rule_text).graph
    case = tiny_case(rule_text, equal_dims, graph)
    views = rng.normal(size=(n_rows, 2, 8, 8))
    weights = weights_for(rule_text, tiny_weights(case, rng, n_rows))
    idx = rng.permutation(n_rows).astype(np.int32)
    draws = np.tile(np.array([0, 1, 0, 1, 1, 0], dtype=np.int32), (2, 1))
    views_t = torch.from_numpy(views)
    setup = rt.build_setup(case, views.shape, weights)
    idx_t = rt.check_negatives(idx, n_rows)
    draws_t = rt.check_draws(draws, setup.rule, 2, n_rows)
    dumped = dict(rt.training_step(setup, views_t, idx_t, draws_t))
    with torch.no_grad():                # the references c of the unperturbed step, held fixed
        _, feats = rt.forward_losses(setup, views_t, idx_t, draws_t)
    refs = {k: v.clone() for k, v in feats.items()}
    check(len(setup.trained) > 0, f"{rule_text}: nothing trained")
    worst = 0.0
    for name in setup.trained:
        grad = dumped[f"{name}.grad"]
        owner = "loss" if graph == "backprop" else setup.owner[name]
        check(np.abs(grad).max() > 0, f"{rule_text}: {name}.grad is all zero")
        base = setup.params[name].detach().clone()
        flat_order = np.argsort(-np.abs(grad).ravel())       # probe the largest entries
        picks = list(flat_order[:probes]) + [int(rng.integers(grad.size))]
        for flat in picks:
            pos = np.unravel_index(flat, grad.shape)
            vals = []
            for sign in (1.0, -1.0):
                pert = base.clone()
                pert[pos] += sign * eps
                setup.params[name] = pert
                with torch.no_grad():
                    losses, _ = rt.forward_losses(setup, views_t, idx_t, draws_t, refs)
                vals.append(float(losses[owner]))
            setup.params[name] = base
            fd = (vals[0] - vals[1]) / (2 * eps)
            err = abs(fd - grad[pos]) / (1e-6 + abs(grad[pos]) + abs(fd))
            worst = max(worst, err)
            check(abs(fd - grad[pos]) <= 1e-7 + 1e-6 * abs(fd),
                  f"{rule_text}: {name}{list(pos)} autograd {grad[pos]:.10g} vs FD {fd:.10g}")
    print(f"  fd {rule_text:<28s} {len(setup.trained):2d} arrays, worst rel. err {worst:.1e}")
    return dumped


FD_RULES = [
    ("clapp++", False), ("clapp++/softplus", False), ("clapp++/linear", False),
    ("clapp++/gap", False), ("clapp++/fixed-b", False), ("clapp++/identity-b", False),
    ("clapp++/b-l2=0.02", False), ("clapp++/either", False), ("clapp", False),
    ("phyll", False), ("phyll/theta=2", False), ("phyll/gap/b-l2=0.01", False),
    ("clapp++dfb", False), ("clapp++dfb/softplus/b-l2=0.02", False),
    ("clapp++dfb/identity-b", True), ("clapp++dfb/either", False), ("clapp++both", False),
    ("clapp++both/linear/b-l2=0.02", False), ("ff", False), ("ff/theta=0.5", False),
    ("scff", False), ("scff/lambda=0.001", False), ("scff/theta=0.2/lambda=0.01", False),
    ("bp-clapp++", False), ("bp-clapp++/softplus/b-l2=0.02", False), ("bp-infonce", False),
]


def test_finite_differences():
    rng = np.random.default_rng(1)
    for rule_text, equal in FD_RULES:
        fd_check(rule_text, rng, equal_dims=equal)


# ----------------------------------------------------------------------------------------
# 4. consistency, errors, command line
# ----------------------------------------------------------------------------------------

def _run(rule_text, seed=3, equal=False, draws=None, idx=None, weights=None):
    rng = np.random.default_rng(seed)
    graph = rt.parse_rule(rule_text).graph
    case = tiny_case(rule_text, equal, graph)
    views = rng.normal(size=(6, 2, 8, 8)).astype(np.float32)
    if weights is None:
        weights = weights_for(rule_text, tiny_weights(case, rng, 6))
    return dict(rt.run_case(case, views, weights, idx, draws))


def test_consistency():
    draws = np.array([[0, 1, 1, 0, 1, 0], [1, 1, 0, 0, 0, 1]], dtype=np.int32)
    a, b = _run("clapp", draws=draws), _run("clapp++/gap/either", draws=draws)
    check(a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a),
          "clapp equals clapp++/gap/either")
    fixed, free = _run("clapp++/fixed-b"), _run("clapp++")
    check("b1.B.grad" not in fixed and "b1.B.grad" in free, "fixed-b dumps no B gradient")
    check(np.array_equal(fixed["b1.weight.grad"], free["b1.weight.grad"]),
          "fixed-b leaves the conv gradient unchanged")
    pen = _run("clapp++/b-l2=0.02")
    check(np.allclose(pen["b1.weight.grad"], free["b1.weight.grad"]), "b-l2 only touches B")
    dfb, both = _run("clapp++dfb"), _run("clapp++both")
    check(set(k for k in dfb if ".B" in k) == {"b1.B_fb.grad", "b2.B.grad"}, "dfb B names")
    check(set(k for k in both if ".B" in k) ==
          {"b1.B.grad", "b1.B_fb.grad", "b2.B.grad", "b2.B_lateral2.grad"}, "both B names")
    check(dfb["b1.features"].shape == (6, 12) and dfb["b2.features"].shape == (6, 16),
          "feature shapes")
    ff = _run("ff")
    check(not any(k.endswith(".features") for k in ff), "ff dumps no features")
    bp = _run("bp-infonce")
    check({"loss", "b2.features", "proj.weight.grad", "b1.weight.grad"} <= set(bp), "bp keys")
    default = _run("clapp++")
    explicit = _run("clapp++", idx=((np.arange(6) + 1 + 3) % 6).astype(np.int32))
    check(all(np.array_equal(default[k], explicit[k]) for k in default), "default negatives")


def _expect_error(fn, *needles):
    try:
        fn()
    except rt.TwinError as exc:
        msg = str(exc)
        check(all(n in msg for n in needles), f"error message '{msg}' should name {needles}")
        return
    check(False, f"expected an error naming {needles}")


def test_errors():
    rng = np.random.default_rng(0)
    case = tiny_case("clapp++")
    w = weights_for("clapp++", tiny_weights(case, rng, 6))
    views = rng.normal(size=(6, 2, 8, 8)).astype(np.float32)
    w_missing = {k: v for k, v in w.items() if k != "b2.B"}
    _expect_error(lambda: rt.run_case(case, views, w_missing), "b2.B", "[16, 16]")
    w_bad = dict(w, **{"b1.weight": np.zeros((3, 2, 5, 5))})
    _expect_error(lambda: rt.run_case(case, views, w_bad), "b1.weight", "[3, 2, 5, 5]",
                  "[3, 2, 3, 3]")
    _expect_error(lambda: rt.run_case(case, views[:5], w), "views.npy", "[5, 2, 8, 8]")
    _expect_error(lambda: rt.run_case(case, views[:, :1], w), "views.npy", "in = 2")
    _expect_error(lambda: rt.run_case(case, views, w, idx=np.zeros(5, np.int32)), "idx.npy", "[6]")
    _expect_error(lambda: rt.run_case(tiny_case("clapp"), views,
                                      weights_for("clapp", tiny_weights(case, rng, 6))), "--draws")
    _expect_error(lambda: rt.run_case(tiny_case("clapp++dfb/identity-b"), views, w), "identity-b")
    _expect_error(lambda: rt.run_case(tiny_case("bp-clapp++"), views, w), "graph")


def test_command_line():
    rng = np.random.default_rng(7)
    case = tiny_case("clapp++/softplus")
    weights = weights_for("clapp++/softplus", tiny_weights(case, rng, 6))
    views = rng.normal(size=(6, 2, 8, 8)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {k: os.path.join(tmp, k) for k in ("case.json", "views.npy", "w.st", "out.st",
                                                   "idx.npy")}
        with open(paths["case.json"], "w") as fh:
            json.dump(case, fh)
        np.save(paths["views.npy"], views)
        np.save(paths["idx.npy"], np.roll(np.arange(6, dtype=np.int32), 2))
        rt.write_safetensors(paths["w.st"], [(k, v) for k, v in weights.items()])
        cmd = [sys.executable, os.path.join(TWIN_DIR, "reference_twin.py"), "--case",
               paths["case.json"], "--inputs", paths["views.npy"], "--weights", paths["w.st"],
               "--negatives", paths["idx.npy"], "--dump", paths["out.st"]]
        res = subprocess.run(cmd, capture_output=True, text=True)
        check(res.returncode == 0, f"command line failed: {res.stderr.strip()}")
        dumped = rt.read_safetensors(paths["out.st"])
        lines = res.stdout.strip().splitlines()
        check(len(lines) == len(dumped), "one stdout line per written array")
        direct = dict(rt.run_case(case, views, {k: v.astype(np.float32) for k, v in
                                                weights.items()},
                                  np.roll(np.arange(6, dtype=np.int32), 2)))
        check(set(direct) == set(dumped), "dump keys")
        check(all(dumped[k].dtype == np.float32 and
                  np.array_equal(dumped[k], direct[k].astype(np.float32)) for k in direct),
              "dump values are the float32 of the float64 results")
        bad = cmd[:]
        bad[bad.index("--weights") + 1] = os.path.join(tmp, "nothing.st")
        res = subprocess.run(bad, capture_output=True, text=True)
        check(res.returncode != 0 and len(res.stderr.strip().splitlines()) == 1,
              "a bad input gives a non-zero exit and a one-line message")


def main():
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    tests = [test_ff_worked_example, test_scff_worked_example, test_clapp_hinge_worked_example,
             test_loss_pieces, test_rule_parsing, test_finite_differences, test_consistency,
             test_errors, test_command_line]
    for test in tests:
        before = len(FAILURES)
        test()
        print(f"{'ok  ' if len(FAILURES) == before else 'FAIL'} {test.__name__}")
    print(f"{N_CHECKS[0]} checks, {len(FAILURES)} failures")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
