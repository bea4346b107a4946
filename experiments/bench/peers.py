#!/usr/bin/env python3
"""Same-run peer comparison for `plastic bench kernels`.

Runs Plastic's kernel benchmark and the same shapes in numpy (OpenBLAS sgemm) and PyTorch (sgemm,
conv2d forward, and both convolution backward passes), interleaved round by round so that all of
them see the same machine load, then prints medians over rounds and the Plastic / peer ratios.

Peers are optional: a missing numpy or torch is reported and skipped. OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE are removed from this process's environment only (they pin OpenBLAS to older
kernels on some machines here), and the OpenBLAS kernel actually in use is printed.

Usage: python3 experiments/bench/peers.py [--plastic PATH] [--rounds 3] [--repeats 9] [--quick] [--threads N]
"""
import argparse, ctypes, json, os, statistics, subprocess, sys, time

if os.environ.get("OPENBLAS_CORETYPE") is not None or os.environ.get("OPENBLAS_L2_SIZE") is not None:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_PLASTIC = os.path.join(ROOT, "experiments", "Plastic.Cli", "bin", "Release", "net10.0", "plastic")


def median_seconds(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def openblas_core():
    """The OpenBLAS kernel family numpy loaded (read from the library itself)."""
    try:
        with open("/proc/self/maps") as maps:
            libs = {line.split()[-1] for line in maps if "openblas" in line}
        for lib in libs:
            handle = ctypes.CDLL(lib)
            for name in ("openblas_get_corename", "openblas_get_corename64_"):
                if hasattr(handle, name):
                    getattr(handle, name).restype = ctypes.c_char_p
                    return getattr(handle, name)().decode()
    except OSError:
        pass
    return "unknown"


def parse_shape(case):
    """Back from Plastic's labels to dimensions: 'm1024 n1024 k1024' or '64x32x32x32->64'."""
    if case["name"] == "gemm":
        m, n, k = (int(part[1:]) for part in case["shape"].split())
        return ("gemm", m, n, k)
    dims, cout = case["shape"].split("->")
    n, cin, h, w = (int(x) for x in dims.split("x"))
    return ("conv", case["name"].split()[-1], n, cin, h, int(cout))


def numpy_peer(np, shape, repeats):
    if shape[0] != "gemm":
        return None
    _, m, n, k = shape
    a = np.random.rand(m, k).astype(np.float32)
    b = np.random.rand(k, n).astype(np.float32)
    return median_seconds(lambda: a @ b, repeats)


def torch_peer(torch, shape, repeats):
    if shape[0] == "gemm":
        _, m, n, k = shape
        a, b = torch.randn(m, k), torch.randn(k, n)
        return median_seconds(lambda: a @ b, repeats)
    _, op, n, cin, size, cout = shape
    x, w, dy = torch.randn(n, cin, size, size), torch.randn(cout, cin, 3, 3), torch.randn(n, cout, size, size)
    with torch.no_grad():
        if op == "fwd":
            return median_seconds(lambda: torch.nn.functional.conv2d(x, w, padding=1), repeats)
        mask = [True, False, False] if op == "bwd-input" else [False, True, False]
        return median_seconds(lambda: torch.ops.aten.convolution_backward(
            dy, x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask), repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plastic", default=DEFAULT_PLASTIC, help="the plastic executable (build with dotnet build -c Release)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--quick", action="store_true", help="GEMM and the 64x32x32x32 convolution only")
    args = parser.parse_args()

    if not os.path.exists(args.plastic):
        sys.exit(f"peers.py: {args.plastic} not found; run `dotnet build -c Release` first or pass --plastic")
    try:
        import numpy as np
    except ImportError:
        np = None
        print("numpy not installed: skipping the numpy peer (Debian: python3-numpy libopenblas0-pthread)")
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
        print("torch not installed: skipping the PyTorch peer (Debian: python3-torch)")
    if np is not None:
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
        print(f"numpy {np.__version__}, OpenBLAS core: {openblas_core()}")
    if torch is not None:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, mkldnn {torch.backends.mkldnn.is_available()}")

    command = [args.plastic, "bench", "kernels", "--device", "cpu", "--json", "--repeats", str(args.repeats), "--threads", str(args.threads)]
    if args.quick:
        command.append("--quick")
    rows = {}  # (name, shape) -> {"plastic": [...], "numpy": [...], "torch": [...], "flops": f}
    peak = []
    for r in range(args.rounds):
        report = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        peak.append(report["fma_peak_gflops"])
        for case in report["results"]:
            key = (case["name"], case["shape"])
            row = rows.setdefault(key, {"plastic": [], "numpy": [], "torch": [], "flops": case["flops"]})
            row["plastic"].append(case["median_seconds"])
            shape = parse_shape(case)
            if np is not None and (t := numpy_peer(np, shape, args.repeats)) is not None:
                row["numpy"].append(t)
            if torch is not None:
                row["torch"].append(torch_peer(torch, shape, args.repeats))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    print(f"\nFMA peak (Plastic's register-only loop), median of rounds: {statistics.median(peak):.0f} GFLOP/s")
    print(f"{'kernel':<22} {'shape':<22} {'plastic':>8} {'numpy':>8} {'torch':>8} {'x numpy':>8} {'x torch':>8}  per-round x peer")
    for (name, shape), row in rows.items():
        rate = lambda times: row["flops"] / statistics.median(times) / 1e9 if times else None
        p, n, t = rate(row["plastic"]), rate(row["numpy"]), rate(row["torch"])
        # Same-round ratios: Plastic's time against the peer measured right after it.
        peer_times = row["numpy"] or row["torch"]
        per_round = " ".join(f"{b / a:.2f}" for a, b in zip(row["plastic"], peer_times))
        fmt = lambda v: f"{v:8.1f}" if v is not None else f"{'-':>8}"
        ratio = lambda v: f"{p / v:8.2f}" if v else f"{'-':>8}"
        print(f"{name:<22} {shape:<22} {fmt(p)} {fmt(n)} {fmt(t)} {ratio(n)} {ratio(t)}  {per_round}")
    print("\nGFLOP/s are medians over rounds; 'x peer' = Plastic GFLOP/s / peer GFLOP/s (above 1: Plastic is faster).")


if __name__ == "__main__":
    main()
