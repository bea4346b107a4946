#!/usr/bin/env python3
"""PyTorch peer of `plastic bench train`: the same VGG-6 (1/8 width by default), loss, batch and thread
count, trained on synthetic two-view batches; prints one JSON line with images_per_s.

CLAPP++ (local) uses the released code's formulation: every block's input is detached, each block has
its own hinge loss on loss-pooled features (positive: the other view, reference: this view detached
through a bias-free linear B, negative: the next sample of the view-swapped batch), the layer losses are
summed and one AdamW step updates everything (PAPER.md 3.1; every one of the 2N rows is an anchor).
BP-InfoNCE is end-to-end backprop of the SimCLR-like loss at the top, pooled to 1x1 as PAPER.md 3.3
(bias-free C x C projection, cosine, temperature 0.1, view-1 rows x view-2 columns).

Not a dependency of Plastic's build or tests: tests/peers/run.sh calls it where torch is installed.
"""
import argparse
import ctypes
import json
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BLOCKS = [(128, False), (256, True), (256, False), (512, True), (1024, True), (1024, True)]


def blas_in_use():
    """The BLAS library this process loaded, with OpenBLAS's kernel family and thread setting where it is OpenBLAS."""
    with open("/proc/self/maps") as maps:
        libs = sorted({line.split()[-1] for line in maps if "blas" in line.split()[-1].rsplit("/", 1)[-1]})
    for lib in libs:
        try:
            handle = ctypes.CDLL(lib)
        except OSError:
            continue
        if hasattr(handle, "openblas_get_corename"):
            handle.openblas_get_corename.restype = ctypes.c_char_p
            threads = handle.openblas_get_num_threads() if hasattr(handle, "openblas_get_num_threads") else None
            return f"OpenBLAS {handle.openblas_get_corename().decode()}, {threads} thread(s), {lib}"
    return ", ".join(libs) or "none loaded"


def vgg6(width, size):
    """Conv 3x3 pad 1 + bias, ReLU, 2x2 max-pool after blocks 2, 4, 5, 6; loss pools as Plastic's preset."""
    unit = size // 8
    loss_pools = [unit, unit, unit, unit // 2, unit // 2, max(1, unit // 4)]
    blocks, channels = nn.ModuleList(), 3
    for (w, pool) in BLOCKS:
        out = max(1, round(w * width))
        layers = [nn.Conv2d(channels, out, 3, padding=1), nn.ReLU()]
        if pool:
            layers.append(nn.MaxPool2d(2))
        blocks.append(nn.Sequential(*layers))
        channels = out
    return blocks, loss_pools


def pooled(z, k):
    return (F.avg_pool2d(z, k) if k > 1 else z).flatten(1)


def clapp_loss(z, b):
    """CLAPP++ lateral hinge loss of one layer; z holds view 1 then view 2 (2N rows)."""
    n2 = z.shape[0]
    half = n2 // 2
    idx = torch.arange(n2)
    positive = z[(idx + half) % n2]
    negative = positive[(idx + 1) % n2]
    prediction = b(z.detach())
    u_pos = (positive * prediction).sum(1)
    u_neg = (negative * prediction).sum(1)
    return (F.relu(1 - u_pos) + F.relu(1 + u_neg)).mean()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--loss", choices=["clapp++", "bp-infonce"], required=True)
    p.add_argument("--width", type=float, default=0.125)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--device", default="cpu", help="cpu or cuda (experiments/bench/gpu.sh)")
    p.add_argument("--tf32", action="store_true",
                   help="let CUDA convolutions and matrix products round their inputs to TF32 (tensor cores); by default they "
                        "stay in fp32, as Plastic computes (PyTorch's own default rounds convolutions to TF32)")
    a = p.parse_args()
    torch.backends.cudnn.allow_tf32 = a.tf32
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    torch.manual_seed(2)
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    blocks, loss_pools = vgg6(a.width, a.size)
    blocks = blocks.to(device)
    x = torch.randn(2 * a.batch, 3, a.size, a.size).to(device)
    with torch.no_grad():
        z, sizes = x, []
        for block, k in zip(blocks, loss_pools):
            z = block(z)
            sizes.append(pooled(z, k).shape[1])
    params = list(blocks.parameters())
    if a.loss == "clapp++":
        bs = nn.ModuleList([nn.Linear(d, d, bias=False) for d in sizes]).to(device)
        params += list(bs.parameters())
    else:
        top = blocks[-1][0].out_channels  # the top pooled to 1x1: C features (PAPER.md 3.3)
        projection = nn.Linear(top, top, bias=False).to(device)
        params += list(projection.parameters())
    optimizer = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)

    def step():
        z, loss = x, 0.0
        if a.loss == "clapp++":
            for block, k, b in zip(blocks, loss_pools, bs):
                z = block(z.detach())
                loss = loss + clapp_loss(pooled(z, k), b)
        else:
            for block in blocks:
                z = block(z)
            q = F.normalize(projection(z.mean(dim=(2, 3))), dim=1)
            logits = q[: a.batch] @ q[a.batch:].t() / 0.1
            loss = F.cross_entropy(logits, torch.arange(a.batch, device=device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    for _ in range(a.warmup):
        step()
    start = time.perf_counter()
    for _ in range(a.steps):
        last = step()  # float(loss) waits for the device, so every step is finished when it is timed
    elapsed = time.perf_counter() - start
    print(json.dumps({
        "peer": "pytorch " + torch.__version__, "device": str(device), "loss": a.loss, "threads": torch.get_num_threads(), "batch": a.batch,
        "precision": "tf32" if a.tf32 and device.type == "cuda" else "fp32", "blas": blas_in_use(),
        "steps": a.steps, "seconds": elapsed, "images_per_s": a.steps * a.batch / elapsed,
        "parameters": sum(t.numel() for t in blocks.parameters()), "last_loss": last,
        # On CUDA, the most memory PyTorch's tensors held (its caching allocator's count), for the paper's memory comparison.
        "peak_memory_mb": torch.cuda.max_memory_allocated(device) / 1e6 if device.type == "cuda" else None,
    }))


if __name__ == "__main__":
    main()
