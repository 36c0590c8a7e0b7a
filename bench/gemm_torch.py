"""PyTorch side of `tslm bench gemm`: times torch.mm on request, so that the Node process can
interleave its own measurements with PyTorch's (tslm, torch, tslm, torch, ...) on a noisy machine.

Protocol, one line each way:
  stdin:  "M N K threads layout seconds clock"   layout in nn | nt | tn | tt (transA, transB as in
          tslm); clock is "wall" or "cpu"
  stdout: GFLOP/s of torch.mm(op(A), op(B), out=C) over at least `seconds` (wall) of back-to-back
          calls, divided by the wall time or, with "cpu", by the CPU time of all of the process's
          threads (GFLOP per CPU-second: per-core efficiency, unaffected by time spent descheduled
          on a loaded machine)
"quit" (or end of input) exits. The first line printed is "ready <torch version> <BLAS>".

Run it with OMP_WAIT_POLICY=PASSIVE (the caller does): PyTorch's default busy-waiting OpenMP
threads make it 1.3-2.7x slower on a shared 2-core machine, and a hobbled baseline proves nothing.
"""
import sys
import time

import torch

cache = {}


def operands(M, N, K, layout):
    key = (M, N, K, layout)
    if key not in cache:
        cache.clear()  # one shape at a time: the largest (256x768x50257) takes 150 MB
        a = torch.rand(K, M) if layout[0] == "t" else torch.rand(M, K)
        b = torch.rand(N, K) if layout[1] == "t" else torch.rand(K, N)
        cache[key] = (
            a.t() if layout[0] == "t" else a,
            b.t() if layout[1] == "t" else b,
            torch.empty(M, N),
        )
    return cache[key]


def main():
    blas = "mkl" if torch.backends.mkl.is_available() else "blas"
    print("ready", torch.__version__, blas, flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        M, N, K, threads = (int(x) for x in parts[:4])
        layout, seconds = parts[4], float(parts[5])
        cpu = len(parts) > 6 and parts[6] == "cpu"
        torch.set_num_threads(threads)
        a, b, c = operands(M, N, K, layout)
        torch.mm(a, b, out=c)  # warm (first call per shape/threads sets up the BLAS)
        n = 0
        t0 = time.perf_counter()
        c0 = time.process_time()
        while True:
            torch.mm(a, b, out=c)
            n += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= seconds:
                break
        if cpu:
            elapsed = time.process_time() - c0
        print(2.0 * M * N * K * n / elapsed / 1e9, flush=True)


if __name__ == "__main__":
    with torch.no_grad():
        main()
