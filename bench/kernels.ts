// Memory-bound kernel benchmark: elementwise add, GELU, softmax and LayerNorm forward/backward,
// native (C) vs the TypeScript reference, beside a plain memory copy (Float32Array.set).
//
//   npx tsx bench/kernels.ts            # all sizes, native on 1 thread and on all threads, and ref
//   npx tsx bench/kernels.ts --quick    # the smaller size only, fewer repeats
//   npx tsx bench/kernels.ts --cpu      # time by process CPU time, single thread only
//
// --cpu counts the CPU time this process used (user + system) instead of wall time: on a machine
// shared with other jobs it excludes the time the thread waited descheduled, so single-thread
// figures stay meaningful; multi-thread columns are then omitted (CPU time adds over threads).
//
// These kernels do a few flops per element, so the figure of merit is bandwidth: GB/s counts the
// bytes each kernel must read and write once (e.g. add reads a and b and writes out: 12 bytes per
// element), divided by the median time over repeats. "x copy" is that bandwidth as a fraction of
// the memory-copy bandwidth at the same size (1.0 = as fast as memcpy can stream), and "x ref" is
// the speedup over the reference kernels. Timings on a shared machine are noisy: compare medians.
import { loadNative } from "../src/kernels/native/index.js";
import { refKernels } from "../src/kernels/ref/index.js";
import { BinaryOp, UnaryOp, type Kernels } from "../src/kernels/types.js";

const quick = process.argv.includes("--quick");
const cpuTime = process.argv.includes("--cpu");
const load = loadNative();
if (!load.ok) {
  console.error(`bench/kernels: ${load.reason}`);
  process.exit(1);
}
const nat = load.addon;
const allThreads = nat.getThreads();

function randn(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (Math.random() + Math.random() + Math.random() - 1.5) * 2;
  return a;
}

/** Median wall time in ms of fn over `reps` runs after `warm` warm-up runs. */
function median(fn: () => void, reps: number, warm = 2): number {
  for (let i = 0; i < warm; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    if (cpuTime) {
      const c0 = process.cpuUsage();
      fn();
      const c = process.cpuUsage(c0);
      ts.push((c.user + c.system) / 1000);
    } else {
      const t0 = performance.now();
      fn();
      ts.push(performance.now() - t0);
    }
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

interface Case {
  name: string;
  /** Bytes read + written once. */
  bytes: number;
  run: (k: Kernels | Omit<Kernels, "name">) => void;
}

function cases(rows: number, C: number): Case[] {
  const n = rows * C;
  const a = randn(n), b = randn(n), out = new Float32Array(n), gy = randn(n), gx = new Float32Array(n);
  const w = randn(C), bias = randn(C), gw = new Float32Array(C), gb = new Float32Array(C);
  const mean = new Float32Array(rows), rstd = new Float32Array(rows);
  const shape = Int32Array.from([n]);
  const st = Int32Array.from([1]);
  return [
    { name: "add", bytes: 12 * n, run: (k) => k.binary(BinaryOp.Add, shape, a, 0, st, b, 0, st, out) },
    { name: "gelu (erf)", bytes: 8 * n, run: (k) => k.unary(UnaryOp.GeluErf, a, out, n, 0) },
    { name: "gelu (tanh)", bytes: 8 * n, run: (k) => k.unary(UnaryOp.GeluTanh, a, out, n, 0) },
    { name: "softmax", bytes: 8 * n, run: (k) => k.softmax(a, out, rows, C) },
    { name: "layerNorm fwd", bytes: 8 * n, run: (k) => k.layerNorm(a, w, bias, out, mean, rstd, rows, C, 1e-5) },
    {
      name: "layerNorm bwd",
      bytes: 12 * n,
      run: (k) => k.layerNormBackward(a, w, mean, rstd, gy, gx, gw, gb, rows, C),
    },
  ];
}

const sizes: [string, number, number][] = quick
  ? [["8x256x768", 8 * 256, 768]]
  : [
      ["8x256x768", 8 * 256, 768],
      ["4x1024x768", 4 * 1024, 768],
    ];
const reps = quick ? 7 : 21;

console.log(
  `tslm kernel bandwidth (isa ${nat.isa()}, ${allThreads} threads available; median of ${reps} runs` +
    `${cpuTime ? ", CPU time" : ""})`,
);
/** Multi-thread figures, or "-" under --cpu. */
const multi = (f: () => number): number => (cpuTime ? NaN : f());
const fmt = (x: number, digits: number) => (Number.isNaN(x) ? "-" : x.toFixed(digits));
for (const [label, rows, C] of sizes) {
  const n = rows * C;
  const src = randn(n);
  const dst = new Float32Array(n);
  nat.setThreads(1);
  const copyMs = median(() => dst.set(src), reps);
  const copyGBs = (8 * n) / copyMs / 1e6;
  console.log(`\n${label} (${((4 * n) / 2 ** 20).toFixed(1)} MiB per tensor): memory copy ${copyMs.toFixed(2)} ms = ${copyGBs.toFixed(1)} GB/s`);
  console.log(
    "kernel".padEnd(15) +
      "native 1T ms".padStart(13) + "GB/s".padStart(7) + "x copy".padStart(8) +
      (cpuTime ? "" : `native ${allThreads}T ms`.padStart(14) + "GB/s".padStart(7) + "x copy".padStart(8)) +
      "ref ms".padStart(10) + "x ref".padStart(8),
  );
  for (const c of cases(rows, C)) {
    nat.setThreads(1);
    const t1 = median(() => c.run(nat), reps);
    nat.setThreads(allThreads);
    const tn = multi(() => median(() => c.run(nat), reps));
    const tr = median(() => c.run(refKernels), quick ? 1 : 3, 1);
    const g1 = c.bytes / t1 / 1e6;
    const gn = c.bytes / tn / 1e6;
    console.log(
      c.name.padEnd(15) +
        t1.toFixed(2).padStart(13) + g1.toFixed(1).padStart(7) + (g1 / copyGBs).toFixed(2).padStart(8) +
        (cpuTime ? "" : fmt(tn, 2).padStart(14) + fmt(gn, 1).padStart(7) + fmt(gn / copyGBs, 2).padStart(8)) +
        tr.toFixed(1).padStart(10) + (tr / (Number.isNaN(tn) ? t1 : Math.min(t1, tn))).toFixed(0).padStart(8),
    );
  }
}
nat.setThreads(allThreads);

// Attention is compute-bound, so it is reported in GFLOP/s: forward 4 T^2 D flops per head for a
// full score matrix (QK^T and PV), halved when causal; backward counts 2.5x the forward (QK^T
// recomputed, dV, dP, dQ, dK). The reference runs only at the smaller length (it takes seconds).
console.log(`\nattention, causal, D = 64 (GFLOP/s; median of ${quick ? 3 : 5} runs)`);
console.log(
  "shape".padEnd(18) + "fwd 1T".padStart(9) + (cpuTime ? "" : `fwd ${allThreads}T`.padStart(9)) + "bwd 1T".padStart(9) +
    (cpuTime ? "" : `bwd ${allThreads}T`.padStart(9)) + "ref fwd".padStart(9) + "ref bwd".padStart(9),
);
for (const [B, H, T] of quick ? [[1, 12, 256]] : [[1, 12, 256], [1, 12, 1024]]) {
  const BH = B * H;
  const D = 64;
  const q = randn(BH * T * D), k = randn(BH * T * D), v = randn(BH * T * D), gOut = randn(BH * T * D);
  const out = new Float32Array(BH * T * D), lse = new Float32Array(BH * T);
  const gq = new Float32Array(BH * T * D), gk = new Float32Array(BH * T * D), gv = new Float32Array(BH * T * D);
  const fwdFlops = (4 * BH * T * T * D) / 2;
  const fwd = (kk: Kernels | Omit<Kernels, "name">) =>
    kk.attention(q, k, v, out, lse, BH, H, T, T, D, D, 1 / 8, true, null, 0, null);
  const bwd = (kk: Kernels | Omit<Kernels, "name">) =>
    kk.attentionBackward(q, k, v, out, lse, gOut, gq, gk, gv, BH, H, T, T, D, D, 1 / 8, true, null, 0, null);
  const r = quick ? 3 : 5;
  const rate = (flops: number, ms: number) => fmt(flops / ms / 1e6, 1);
  nat.setThreads(1);
  const f1 = median(() => fwd(nat), r, 1);
  const b1 = median(() => bwd(nat), r, 1);
  nat.setThreads(allThreads);
  const fn = multi(() => median(() => fwd(nat), r, 1));
  const bn = multi(() => median(() => bwd(nat), r, 1));
  let rf = "-";
  let rb = "-";
  if (T <= 256) {
    rf = rate(fwdFlops, median(() => fwd(refKernels), 1, 0));
    rb = rate(2.5 * fwdFlops, median(() => bwd(refKernels), 1, 0));
  }
  console.log(
    `BH=${BH} T=${T}`.padEnd(18) + rate(fwdFlops, f1).padStart(9) + (cpuTime ? "" : rate(fwdFlops, fn).padStart(9)) +
      rate(2.5 * fwdFlops, b1).padStart(9) + (cpuTime ? "" : rate(2.5 * fwdFlops, bn).padStart(9)) + rf.padStart(9) +
      rb.padStart(9),
  );
}
