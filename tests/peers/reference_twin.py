#!/usr/bin/env python3
"""reference_twin.py: an independent reference ("twin") of one training step of several
local self-supervised learning rules, written from the documents in /work/twin-brief only.

It reads a case (case.json), the stacked two-view inputs (views.npy), the parameters
(a safetensors file), optionally the negative index (idx.npy) and the 50/50 draws
(draws.npy), computes in float64 with torch autograd the losses of ONE step and their
gradients (before any optimiser step), and writes them as float32 safetensors.

    python3 reference_twin.py --case case.json --inputs views.npy --weights w.safetensors \
        [--negatives idx.npy] [--draws draws.npy] --dump out.safetensors

Which document each rule follows (INTERFACE.md wins wherever it fixes a choice):

  network         INTERFACE.md "case.json": Conv2d -> relu|identity -> MaxPool; loss features
                  = AvgPool(lossPool) flattened in (C, H', W') order, or GAP with /gap
                  (PAPER.md 3.1 "Pooled representation"); detached layer inputs in the local
                  graph (PAPER.md 2.1 / 3.1).
  pairing         PAPER.md 3.1 "Pairing" + INTERFACE.md: z_pos[r] = z[(r+N) mod 2N],
                  z_neg[r] = z[idx[r]] (default idx[r] = (r+1+N) mod 2N), c[r] detached,
                  u = z . (B c) with B = nn.Linear(d_ref, d_l).weight.
  clapp++         PAPER.md 2.1 (type-2 loss, f = hinge / softhinge / linear) and 3.1 (loss =
                  mean over 2N rows of f(u_pos) + f(-u_neg)); options from INTERFACE.md.
  clapp           RULES-FF-SCFF-CLAPP.md 3.4 (50/50 "either" reduction) as mapped by
                  INTERFACE.md: clapp = clapp++/gap/either.
  phyll           PAPER.md 2.1 type 1: L = theta * softplus_{beta=theta}(u_neg - u_pos).
  clapp++dfb      PAPER.md 3.3 table (reference = the feedback layer's pooled features).
  clapp++both     PAPER.md 3.3 table + INTERFACE.md (top layer: two lateral losses).
  bp-clapp++      PAPER.md 2.2 ("global BP-SSL") and 3.3 table: hinge loss at the top only,
                  top output pooled to 1x1, no detach between layers, c detached.
  bp-infonce      PAPER.md 3.3 table: shared bias-free projection, cosine / 0.1, N x N logits,
                  one direction.
  ff              RULES-FF-SCFF-CLAPP.md 1.1 (goodness, logistic loss, the 0.5 of [LX]) in
                  INTERFACE.md's two-view conv form (hybrid negatives 0.5 (x[r] + x[idx[r]])).
  scff            RULES-FF-SCFF-CLAPP.md 2.1 (shared kernel on both halves, bias twice) and
                  2.3 (per-position goodness, two thresholds, unsquared L2 regulariser), in
                  INTERFACE.md's form (no standardisation, the layer's own zero padding).

Every gradient here comes from autograd (loss.backward()); nothing is hand-derived.
"""

import argparse
import json
import math
import struct
import sys
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

DTYPE = torch.float64
INFONCE_TEMPERATURE = 0.1


class TwinError(Exception):
    """Any bad input or unsupported request; reported as one line, exit status 1."""


# ----------------------------------------------------------------------------------------
# safetensors, by hand
# ----------------------------------------------------------------------------------------

_ST_DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I32": "<i4", "I64": "<i8",
              "I16": "<i2", "I8": "<i1", "U8": "<u1"}


def read_safetensors(path):
    """Read a safetensors file into {name: numpy array}. '__metadata__' is ignored."""
    try:
        with open(path, "rb") as fh:
            blob = fh.read()
    except OSError as exc:
        raise TwinError(f"cannot read weights file {path}: {exc}")
    if len(blob) < 8:
        raise TwinError(f"weights file {path} is too short to be safetensors ({len(blob)} bytes)")
    (header_len,) = struct.unpack("<Q", blob[:8])
    if 8 + header_len > len(blob):
        raise TwinError(f"weights file {path}: header length {header_len} exceeds the file size")
    try:
        header = json.loads(blob[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TwinError(f"weights file {path}: bad JSON header ({exc})")
    data = memoryview(blob)[8 + header_len:]
    arrays = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = info.get("dtype")
        if dtype not in _ST_DTYPES:
            raise TwinError(f"weights file {path}: array {name} has unsupported dtype {dtype}")
        shape = [int(s) for s in info.get("shape", [])]
        begin, end = (int(v) for v in info.get("data_offsets", [0, 0]))
        np_dtype = np.dtype(_ST_DTYPES[dtype])
        expected = int(np.prod(shape, dtype=np.int64)) * np_dtype.itemsize
        if end - begin != expected or end > len(data) or begin < 0:
            raise TwinError(f"weights file {path}: array {name} with shape {shape} and dtype "
                            f"{dtype} has data_offsets [{begin}, {end}] (expected {expected} bytes)")
        arrays[name] = np.frombuffer(data[begin:end], dtype=np_dtype).reshape(shape).copy()
    return arrays


def write_safetensors(path, named_arrays):
    """Write [(name, numpy array)] as float32 safetensors (header padded to 8 bytes)."""
    header, chunks, offset = {}, [], 0
    for name, arr in named_arrays:
        raw = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(text)))
        fh.write(text)
        for raw in chunks:
            fh.write(raw)


# ----------------------------------------------------------------------------------------
# rule names and options
# ----------------------------------------------------------------------------------------

_F_OPTIONS = {"hinge", "softplus", "linear"}
_CLAPPPP_OPTIONS = _F_OPTIONS | {"fixed-b", "identity-b", "gap", "b-l2", "either"}
ALLOWED_OPTIONS = {
    "clapp++": _CLAPPPP_OPTIONS,
    "clapp": _CLAPPPP_OPTIONS,                       # gap and either are implied
    "phyll": {"theta", "gap", "b-l2"},
    "clapp++dfb": _CLAPPPP_OPTIONS - {"gap"},
    "clapp++both": _CLAPPPP_OPTIONS - {"gap"},
    "bp-clapp++": _F_OPTIONS | {"fixed-b", "identity-b", "b-l2"},
    "bp-infonce": set(),
    "ff": {"theta"},
    "scff": {"theta", "th1", "th2", "lambda"},
}
_VALUED_OPTIONS = {"b-l2", "theta", "th1", "th2", "lambda"}
BACKPROP_RULES = {"bp-clapp++", "bp-infonce"}


@dataclass
class Rule:
    base: str
    f: str = "hinge"            # hinge | softplus | linear (contrastive family)
    fixed_b: bool = False
    identity_b: bool = False
    gap: bool = False
    either: bool = False
    b_l2: float = 0.0
    theta: float = None         # phyll (default 1), ff (default: out channels)
    th1: float = 5.0            # scff
    th2: float = 9.0            # scff
    lam: float = 0.0            # scff
    text: str = ""

    @property
    def graph(self):
        return "backprop" if self.base in BACKPROP_RULES else "local"


def parse_rule(text):
    """'clapp++/softplus/gap' -> Rule. Unknown names or options are errors."""
    if not isinstance(text, str) or not text.strip():
        raise TwinError(f"case.json: 'rule' must be a non-empty string, got {text!r}")
    parts = text.strip().split("/")
    base = parts[0]
    if base not in ALLOWED_OPTIONS:
        raise TwinError(f"unknown rule '{base}' in '{text}' (known: {', '.join(ALLOWED_OPTIONS)})")
    rule = Rule(base=base, text=text)
    f_seen = None
    for opt in parts[1:]:
        key, has_value, value = opt.partition("=")
        if key not in ALLOWED_OPTIONS[base]:
            raise TwinError(f"rule '{text}': option '{opt}' is not accepted by '{base}' "
                            f"(accepted: {', '.join(sorted(ALLOWED_OPTIONS[base])) or 'none'})")
        if (key in _VALUED_OPTIONS) != bool(has_value):
            raise TwinError(f"rule '{text}': option '{opt}' " +
                            ("needs a value, e.g. /theta=2" if key in _VALUED_OPTIONS
                             else "takes no value"))
        if key in _VALUED_OPTIONS:
            try:
                number = float(value)
            except ValueError:
                raise TwinError(f"rule '{text}': option '{opt}' has a non-numeric value")
            if not math.isfinite(number):
                raise TwinError(f"rule '{text}': option '{opt}' must be finite")
        if key in _F_OPTIONS:
            if f_seen is not None and f_seen != key:
                raise TwinError(f"rule '{text}': conflicting loss functions /{f_seen} and /{key}")
            f_seen = key
            rule.f = key
        elif key == "fixed-b":
            rule.fixed_b = True
        elif key == "identity-b":
            rule.identity_b = True
        elif key == "gap":
            rule.gap = True
        elif key == "either":
            rule.either = True
        elif key == "b-l2":
            rule.b_l2 = number
        elif key == "theta":
            rule.theta = number
            rule.th1 = rule.th2 = number
        elif key == "th1":
            rule.th1 = number
        elif key == "th2":
            rule.th2 = number
        elif key == "lambda":
            rule.lam = number
    if base == "clapp":
        rule.gap, rule.either = True, True
    if base == "phyll" and rule.theta is None:
        rule.theta = 1.0
    if base == "phyll" and rule.theta <= 0:
        raise TwinError(f"rule '{text}': phyll needs theta > 0 (it is softplus's beta)")
    return rule


# ----------------------------------------------------------------------------------------
# the losses, one small function each
# ----------------------------------------------------------------------------------------

def softplus(x):
    """log(1 + exp(x)), stable for any x, with the exact derivative sigmoid(x)."""
    return torch.logaddexp(x, torch.zeros_like(x))


def f_hinge(x):
    """CLAPP / CLAPP++ f(x) = max(0, 1 - x) (PAPER.md 2.1 'hinge')."""
    return torch.clamp(1.0 - x, min=0.0)


def f_softplus(x):
    """f(x) = softplus(1 - x) = -log sigmoid(x - 1) (PAPER.md 2.1 'softhinge')."""
    return softplus(1.0 - x)


def f_linear(x):
    """f(x) = -x (PAPER.md 2.1 'linear')."""
    return -x


F_FUNCTIONS = {"hinge": f_hinge, "softplus": f_softplus, "linear": f_linear}


def positive_rows(n_rows):
    """Row index of the other view of the same image: (r + N) mod 2N."""
    return (torch.arange(n_rows) + n_rows // 2) % n_rows


def default_negatives(n_rows):
    """The released code's negative: idx[r] = (r + 1 + N) mod 2N = z_pos[(r + 1) mod 2N]."""
    return (torch.arange(n_rows) + 1 + n_rows // 2) % n_rows


def contrastive_scores(z, c, B, idx):
    """u_pos[r] = z_pos[r] . (B c[r]),  u_neg[r] = z_neg[r] . (B c[r])  (PAPER.md 3.1).

    z: [2N, d_l] (with gradient), c: [2N, d_ref] (detached by the caller), B: [d_l, d_ref],
    idx: [2N] negative rows. Returns (u_pos, u_neg), each [2N]."""
    Bc = c @ B.t()                                   # row r: B c[r], size d_l
    z_pos = z[positive_rows(z.shape[0])]
    z_neg = z[idx]
    return (z_pos * Bc).sum(dim=1), (z_neg * Bc).sum(dim=1)


def type2_loss(u_pos, u_neg, f):
    """Type-2 loss, mean over the 2N rows of f(u_pos) + f(-u_neg) (PAPER.md 2.1, 3.1)."""
    return (f(u_pos) + f(-u_neg)).mean()


def either_loss(u_pos, u_neg, f, draw):
    """The 50/50 update (RULES 3.4): draw[r] = 0 -> row r makes only its positive term,
    1 -> only its negative term; mean over each selected set, an empty set gives 0."""
    pos, neg = draw == 0, draw == 1
    loss = u_pos.new_zeros(())
    if bool(pos.any()):
        loss = loss + f(u_pos[pos]).mean()
    if bool(neg.any()):
        loss = loss + f(-u_neg[neg]).mean()
    return loss


def phyll_loss(u_pos, u_neg, theta):
    """PhyLL type-1 loss (PAPER.md 2.1): mean_r theta * softplus_{beta=theta}(u_neg - u_pos),
    with PyTorch's softplus, (1/beta) log(1 + exp(beta x))."""
    return (theta * F.softplus(u_neg - u_pos, beta=theta)).mean()


def b_l2_penalty(B, lam):
    """(lambda / 2) ||B||_F^2 (INTERFACE.md /b-l2=, PAPER.md 2.2)."""
    return 0.5 * lam * (B * B).sum()


def ff_goodness(a):
    """FF goodness per row: sum over channels of ReLU(a)^2, averaged over positions.
    a: [rows, C, H, W] pre-activation -> [rows]."""
    return (F.relu(a) ** 2).sum(dim=1).mean(dim=(1, 2))


def ff_loss(g_pos, g_neg, theta):
    """FF logistic loss with the [LX] BCE reduction (RULES 1.1):
    0.5 * (mean softplus(theta - G_pos) + mean softplus(G_neg - theta))."""
    return 0.5 * (softplus(theta - g_pos).mean() + softplus(g_neg - theta).mean())


def scff_goodness(a):
    """SCFF goodness per position (RULES 2.3): mean over channels of ReLU(a)^2.
    a: [rows, C, H, W] -> [rows, H, W]."""
    return (F.relu(a) ** 2).mean(dim=1)


def scff_loss(g_pos, g_neg, th1, th2, lam):
    """SCFF loss (RULES 2.3): mean_{b,h,w} softplus(th1 - G_pos) + mean_{b,h,w}
    softplus(G_neg - th2) + lambda * mean_b ||G_pos[b]||_2 (unsquared, positives only)."""
    loss = softplus(th1 - g_pos).mean() + softplus(g_neg - th2).mean()
    if lam != 0.0:
        loss = loss + lam * torch.linalg.vector_norm(g_pos.flatten(1), dim=1).mean()
    return loss


def infonce_loss(z, proj_weight, temperature=INFONCE_TEMPERATURE):
    """BP-InfoNCE (PAPER.md 3.3): p = W z for both views, logits[i, j] = cos(p1_i, p2_j) / T,
    loss = mean_i -log softmax_j(logits)[i, i] (view-1 rows x view-2 columns, one direction)."""
    n = z.shape[0] // 2
    p = z @ proj_weight.t()
    p = p / p.norm(dim=1, keepdim=True)
    logits = (p[:n] @ p[n:].t()) / temperature
    return -torch.log_softmax(logits, dim=1).diagonal().mean()


# ----------------------------------------------------------------------------------------
# the network
# ----------------------------------------------------------------------------------------

@dataclass
class LayerSpec:
    name: str
    cin: int
    cout: int
    kernel: int
    stride: int = 1
    padding: int = 0
    bias: bool = True
    activation: str = "relu"
    max_pool: int = None
    loss_pool: int = None


def _int_field(layer, key, where, minimum, default=None, allow_null=False):
    value = layer.get(key, default)
    if value is None and allow_null:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise TwinError(f"case.json: {where}.{key} must be an integer >= {minimum}"
                        f"{' or null' if allow_null else ''}, got {value!r}")
    return value


def parse_layers(case):
    layers = case.get("layers")
    if not isinstance(layers, list) or not layers:
        raise TwinError("case.json: 'layers' must be a non-empty list")
    specs, seen = [], set()
    for i, layer in enumerate(layers):
        where = f"layers[{i}]"
        if not isinstance(layer, dict):
            raise TwinError(f"case.json: {where} must be an object")
        for key in ("name", "in", "out", "kernel"):
            if key not in layer:
                raise TwinError(f"case.json: {where} lacks the field '{key}'")
        name = layer["name"]
        if not isinstance(name, str) or not name or name in seen or name == "proj":
            raise TwinError(f"case.json: {where}.name must be a new non-empty string, got {name!r}")
        seen.add(name)
        activation = layer.get("activation", "relu")
        if activation not in ("relu", "identity"):
            raise TwinError(f"case.json: {where}.activation must be 'relu' or 'identity', "
                            f"got {activation!r}")
        bias = layer.get("bias", True)
        if not isinstance(bias, bool):
            raise TwinError(f"case.json: {where}.bias must be true or false, got {bias!r}")
        spec = LayerSpec(
            name=name, cin=_int_field(layer, "in", where, 1), cout=_int_field(layer, "out", where, 1),
            kernel=_int_field(layer, "kernel", where, 1),
            stride=_int_field(layer, "stride", where, 1, default=1),
            padding=_int_field(layer, "padding", where, 0, default=0), bias=bias,
            activation=activation,
            max_pool=_int_field(layer, "maxPool", where, 1, allow_null=True),
            loss_pool=_int_field(layer, "lossPool", where, 1, allow_null=True))
        if specs and spec.cin != specs[-1].cout:
            raise TwinError(f"case.json: {where}.in = {spec.cin} but the previous layer "
                            f"'{specs[-1].name}' has out = {specs[-1].cout}")
        specs.append(spec)
    return specs


def infer_shapes(specs, views_shape, gap, backprop=False):
    """Per layer: (C, H, W) of the output and d_l, the size of its loss features
    (backprop graph: only the top's 1x1-pooled features count). Checks that every conv /
    pool fits the spatial size."""
    _, c, h, w = views_shape
    if c != specs[0].cin:
        raise TwinError(f"views.npy has {c} channels (shape {list(views_shape)}) but layer "
                        f"'{specs[0].name}' expects in = {specs[0].cin}")
    shapes = {}
    for spec in specs:
        h = (h + 2 * spec.padding - spec.kernel) // spec.stride + 1
        w = (w + 2 * spec.padding - spec.kernel) // spec.stride + 1
        if h < 1 or w < 1:
            raise TwinError(f"layer '{spec.name}': kernel {spec.kernel} does not fit its input")
        if spec.max_pool is not None:
            if h < spec.max_pool or w < spec.max_pool:
                raise TwinError(f"layer '{spec.name}': maxPool {spec.max_pool} is larger than "
                                f"its conv output {h}x{w}")
            h, w = h // spec.max_pool, w // spec.max_pool
        if gap or backprop:
            d = spec.cout
        elif spec.loss_pool is not None:
            if h < spec.loss_pool or w < spec.loss_pool:
                raise TwinError(f"layer '{spec.name}': lossPool {spec.loss_pool} is larger than "
                                f"its output {h}x{w}")
            d = spec.cout * (h // spec.loss_pool) * (w // spec.loss_pool)
        else:
            d = spec.cout * h * w
        shapes[spec.name] = ((spec.cout, h, w), d)
    return shapes


def conv(spec, params, x, with_bias=True):
    """The layer's Conv2d (zero padding); the bias only when the layer has one."""
    bias = params.get(f"{spec.name}.bias") if (spec.bias and with_bias) else None
    return F.conv2d(x, params[f"{spec.name}.weight"], bias, stride=spec.stride,
                    padding=spec.padding)


def activate_and_pool(spec, a):
    """activation -> MaxPool2d(maxPool, stride maxPool): the layer's OUTPUT."""
    out = F.relu(a) if spec.activation == "relu" else a
    if spec.max_pool is not None:
        out = F.max_pool2d(out, spec.max_pool, stride=spec.max_pool)
    return out


def loss_features(spec, out, gap):
    """z^l: GAP -> [rows, C]; else AvgPool2d(lossPool) (or nothing) flattened (C, H', W')."""
    if gap:
        return out.mean(dim=(2, 3))
    if spec.loss_pool is not None:
        out = F.avg_pool2d(out, spec.loss_pool, stride=spec.loss_pool)
    return out.flatten(1)


# ----------------------------------------------------------------------------------------
# parameters: select, check and convert
# ----------------------------------------------------------------------------------------

@dataclass
class Setup:
    rule: Rule
    specs: list
    feedback: dict
    shapes: dict
    params: dict = field(default_factory=dict)       # name -> float64 tensor
    trained: list = field(default_factory=list)      # names whose gradient is dumped
    owner: dict = field(default_factory=dict)        # trained name -> its layer (local dump)


def _pathways(setup, spec):
    """The (matrix key, reference layer) pairs making up a contrastive layer's loss."""
    base, fb = setup.rule.base, setup.feedback.get(spec.name)
    if base == "clapp++dfb":
        return [("B_fb", fb)] if fb is not None else [("B", spec.name)]
    if base == "clapp++both":
        if fb is not None:
            return [("B", spec.name), ("B_fb", fb)]
        return [("B", spec.name), ("B_lateral2", spec.name)]
    return [("B", spec.name)]


def _take(weights, name, expected_shape, source):
    if name not in weights:
        raise TwinError(f"weights file {source} lacks the key '{name}' (expected shape "
                        f"{list(expected_shape)})")
    arr = weights[name]
    if list(arr.shape) != list(expected_shape):
        raise TwinError(f"weights: '{name}' has shape {list(arr.shape)}, expected "
                        f"{list(expected_shape)}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise TwinError(f"weights: '{name}' has dtype {arr.dtype}, expected a float type")
    return torch.from_numpy(np.asarray(arr, dtype=np.float64))


def build_setup(case, views_shape, weights, source="w.safetensors"):
    """Parse the case, check all shapes and turn the needed weights into float64 tensors."""
    if not isinstance(case, dict):
        raise TwinError("case.json must hold a JSON object")
    rule = parse_rule(case.get("rule"))
    graph = case.get("graph", rule.graph)
    if graph not in ("local", "backprop"):
        raise TwinError(f"case.json: 'graph' must be 'local' or 'backprop', got {graph!r}")
    if graph != rule.graph:
        raise TwinError(f"case.json: rule '{rule.text}' needs graph '{rule.graph}', got '{graph}'")
    specs = parse_layers(case)
    names = [s.name for s in specs]
    feedback = case.get("feedback") or {}
    if not isinstance(feedback, dict):
        raise TwinError("case.json: 'feedback' must be an object {layer: reference layer}")
    for src, dst in feedback.items():
        if src not in names or dst not in names:
            raise TwinError(f"case.json: feedback '{src}' -> '{dst}' names a layer that is not "
                            f"in 'layers' ({', '.join(names)})")
    shapes = infer_shapes(specs, views_shape, rule.gap, backprop=(graph == "backprop"))
    setup = Setup(rule=rule, specs=specs, feedback=feedback, shapes=shapes)

    for spec in specs:
        wname = f"{spec.name}.weight"
        setup.params[wname] = _take(weights, wname, [spec.cout, spec.cin, spec.kernel,
                                                     spec.kernel], source)
        setup.trained.append(wname)
        setup.owner[wname] = spec.name
        if spec.bias:
            bname = f"{spec.name}.bias"
            setup.params[bname] = _take(weights, bname, [spec.cout], source)
            setup.trained.append(bname)
            setup.owner[bname] = spec.name

    def add_matrix(layer, key, d_l, d_ref, ref_name):
        name = f"{layer}.{key}"
        if rule.identity_b:
            if d_l != d_ref:
                raise TwinError(f"rule '{rule.text}': /identity-b needs d_ref = d_l, but layer "
                                f"'{layer}' has d_l = {d_l} and its reference '{ref_name}' has "
                                f"d_ref = {d_ref}")
            setup.params[name] = torch.eye(d_l, dtype=DTYPE)
            return
        setup.params[name] = _take(weights, name, [d_l, d_ref], source)
        if not rule.fixed_b:
            setup.trained.append(name)
            setup.owner[name] = layer

    if rule.base == "bp-clapp++":
        top = specs[-1]
        add_matrix(top.name, "B", top.cout, top.cout, top.name)
    elif rule.base == "bp-infonce":
        c_top = specs[-1].cout
        setup.params["proj.weight"] = _take(weights, "proj.weight", [c_top, c_top], source)
        setup.trained.append("proj.weight")
    elif rule.base not in ("ff", "scff"):
        for spec in specs:
            d_l = shapes[spec.name][1]
            for key, ref in _pathways(setup, spec):
                add_matrix(spec.name, key, d_l, shapes[ref][1], ref)
    return setup


# ----------------------------------------------------------------------------------------
# one step
# ----------------------------------------------------------------------------------------

def _contrastive_layer_loss(setup, spec, feats, refs, idx, draw):
    """Sum over the layer's pathways of the rule's loss, plus the B penalties.
    refs: {layer: detached features} used as the references c."""
    rule, p = setup.rule, setup.params
    loss = feats[spec.name].new_zeros(())
    for key, ref in _pathways(setup, spec):
        name = f"{spec.name}.{key}"
        B = p[name]
        u_pos, u_neg = contrastive_scores(feats[spec.name], refs[ref], B, idx)
        if rule.base == "phyll":
            loss = loss + phyll_loss(u_pos, u_neg, rule.theta)
        elif rule.either:
            loss = loss + either_loss(u_pos, u_neg, F_FUNCTIONS[rule.f], draw)
        else:
            loss = loss + type2_loss(u_pos, u_neg, F_FUNCTIONS[rule.f])
        if rule.b_l2 != 0.0 and name in setup.trained:
            loss = loss + b_l2_penalty(B, rule.b_l2)
    return loss


def forward_losses(setup, views, idx, draws=None, frozen_refs=None):
    """The forward pass and the losses. Returns (losses {key: scalar}, features {name: z}).
    Local graph: one loss per layer (keys = layer names); backprop graph: key 'loss'.
    The references c are the detached features of this very pass; frozen_refs {layer: c}
    replaces them (only for the self-test's finite differences, which must hold c fixed
    exactly as the detach does)."""
    rule, p = setup.rule, setup.params
    x = views
    losses, feats = {}, {}
    if rule.graph == "backprop":
        for spec in setup.specs:
            x = activate_and_pool(spec, conv(spec, p, x))
        top = setup.specs[-1].name
        z = x.mean(dim=(2, 3))
        feats[top] = z
        if rule.base == "bp-infonce":
            losses["loss"] = infonce_loss(z, p["proj.weight"])
        else:
            c = z.detach() if frozen_refs is None else frozen_refs[top]
            u_pos, u_neg = contrastive_scores(z, c, p[f"{top}.B"], idx)
            loss = type2_loss(u_pos, u_neg, F_FUNCTIONS[rule.f])
            if rule.b_l2 != 0.0 and f"{top}.B" in setup.trained:
                loss = loss + b_l2_penalty(p[f"{top}.B"], rule.b_l2)
            losses["loss"] = loss
        return losses, feats

    for spec in setup.specs:
        x = x.detach()                                    # the gradient block between layers
        a = conv(spec, p, x)
        if rule.base == "ff":
            theta = float(spec.cout) if rule.theta is None else rule.theta
            a_neg = conv(spec, p, 0.5 * (x + x[idx]))
            losses[spec.name] = ff_loss(ff_goodness(a), ff_goodness(a_neg), theta)
        elif rule.base == "scff":
            two_b = 0.0
            if spec.bias:
                two_b = 2.0 * p[f"{spec.name}.bias"].view(1, -1, 1, 1)
            half = conv(spec, p, x, with_bias=False)
            a_pos = half + half + two_b                   # concat(x[r], x[r]), shared kernel
            a_neg = half + half[idx] + two_b              # concat(x[r], x[idx[r]])
            losses[spec.name] = scff_loss(scff_goodness(a_pos), scff_goodness(a_neg),
                                          rule.th1, rule.th2, rule.lam)
        x = activate_and_pool(spec, a)
        feats[spec.name] = loss_features(spec, x, rule.gap)
    if rule.base not in ("ff", "scff"):
        refs = {name: z.detach() for name, z in feats.items()}
        if frozen_refs is not None:
            refs.update(frozen_refs)
        for li, spec in enumerate(setup.specs):
            draw = draws[li] if draws is not None else None
            losses[spec.name] = _contrastive_layer_loss(setup, spec, feats, refs, idx, draw)
    return losses, feats


def training_step(setup, views, idx, draws=None):
    """Losses and autograd gradients of one step. Returns [(dump name, numpy array)]."""
    for name in setup.trained:
        setup.params[name] = setup.params[name].detach().clone().requires_grad_(True)
    losses, feats = forward_losses(setup, views, idx, draws)
    total = sum(losses.values())
    total.backward()

    def grad_of(name):
        g = setup.params[name].grad
        return np.zeros(tuple(setup.params[name].shape)) if g is None else g.numpy()

    out = []
    if setup.rule.graph == "backprop":
        top = setup.specs[-1].name
        out.append(("loss", losses["loss"].detach().numpy()))
        out.append((f"{top}.features", feats[top].detach().numpy()))
        out.extend((f"{n}.grad", grad_of(n)) for n in setup.trained)
        return out
    with_features = setup.rule.base not in ("ff", "scff")
    for spec in setup.specs:
        out.append((f"{spec.name}.loss", losses[spec.name].detach().numpy()))
        if with_features:
            out.append((f"{spec.name}.features", feats[spec.name].detach().numpy()))
        out.extend((f"{n}.grad", grad_of(n)) for n in setup.trained
                   if setup.owner.get(n) == spec.name)
    return out


# ----------------------------------------------------------------------------------------
# inputs and the command line
# ----------------------------------------------------------------------------------------

def check_views(views):
    if views.ndim != 4 or views.shape[0] < 2 or views.shape[0] % 2:
        raise TwinError(f"views.npy has shape {list(views.shape)}, expected [2N, C, H, W] "
                        "with an even number of rows 2N >= 2")
    if not np.issubdtype(views.dtype, np.floating):
        raise TwinError(f"views.npy has dtype {views.dtype}, expected float32")
    return torch.from_numpy(np.asarray(views, dtype=np.float64))


def check_negatives(idx, n_rows):
    if idx is None:
        return default_negatives(n_rows)
    if idx.shape != (n_rows,) or not np.issubdtype(idx.dtype, np.integer):
        raise TwinError(f"idx.npy has shape {list(idx.shape)} and dtype {idx.dtype}, expected "
                        f"int32 [{n_rows}] (= [2N])")
    if idx.min() < 0 or idx.max() >= n_rows:
        raise TwinError(f"idx.npy values must lie in 0..{n_rows - 1}, got {idx.min()}..{idx.max()}")
    return torch.from_numpy(idx.astype(np.int64))


def check_draws(draws, rule, n_layers, n_rows):
    if not rule.either:
        return None
    if draws is None:
        raise TwinError(f"rule '{rule.text}' is a 50/50 ('either') update and needs --draws "
                        f"(int32 [{n_layers}, {n_rows}] = [L, 2N])")
    if draws.shape != (n_layers, n_rows) or not np.issubdtype(draws.dtype, np.integer):
        raise TwinError(f"draws.npy has shape {list(draws.shape)} and dtype {draws.dtype}, "
                        f"expected int32 [{n_layers}, {n_rows}] (= [L, 2N])")
    if not np.isin(draws, (0, 1)).all():
        raise TwinError("draws.npy values must be 0 (positive term) or 1 (negative term)")
    return torch.from_numpy(draws.astype(np.int64))


def run_case(case, views, weights, idx=None, draws=None, source="w.safetensors"):
    """Everything but the file I/O: numpy in, [(name, numpy array)] out."""
    views_t = check_views(views)
    setup = build_setup(case, tuple(views.shape), weights, source)
    n_rows = views.shape[0]
    idx_t = check_negatives(idx, n_rows)
    draws_t = check_draws(draws, setup.rule, len(setup.specs), n_rows)
    return training_step(setup, views_t, idx_t, draws_t)


def _load_npy(path, what):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise TwinError(f"cannot read {what} {path}: {exc}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="One training step of a local SSL rule "
                                                 "(float64 autograd), dumped as float32.")
    parser.add_argument("--case", required=True)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--negatives")
    parser.add_argument("--draws")
    parser.add_argument("--dump", required=True)
    args = parser.parse_args(argv)
    try:
        try:
            with open(args.case) as fh:
                case = json.load(fh)
        except (OSError, json.JSONDecodeError) as exc:
            raise TwinError(f"cannot read case file {args.case}: {exc}")
        views = _load_npy(args.inputs, "inputs")
        weights = read_safetensors(args.weights)
        idx = _load_npy(args.negatives, "negatives") if args.negatives else None
        draws = _load_npy(args.draws, "draws") if args.draws else None
        arrays = run_case(case, views, weights, idx, draws, source=args.weights)
        write_safetensors(args.dump, arrays)
    except Exception as exc:                              # one line, non-zero exit
        kind = "" if isinstance(exc, TwinError) else f"{type(exc).__name__}: "
        print(f"reference_twin: error: {kind}{exc}".replace("\n", " "), file=sys.stderr)
        return 1
    for name, arr in arrays:
        print(f"{name} {list(arr.shape)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
