// The weight-streaming part of one GPT-2 124M decoding step, without the model: the 73 matrix-vector
// products of a token (per layer q, k, v from column blocks of c_attn [768, 2304], attn c_proj,
// mlp c_fc, mlp c_proj; then the LM head [50257, 768] stored N x K) over ~494 MB of distinct
// weights, through kernels().gemm exactly as the model calls it. Prints per-token time, the
// effective read bandwidth (weight bytes / time), and the time per call shape. Each round is
// followed by a streaming sum over the same bytes with the native reduce kernel (a pure read on
// the same threads): the ratio of the two is the GEMVs' efficiency, which the machine's load
// moves much less than either figure.
//
// --fused-qkv: one 1x2304x768 product per layer over all of c_attn instead of its three column
// blocks (what a decoding step could do: the same bytes, read as one contiguous region).
//
//   npx tsx bench/generate_gemv.ts [--batch 1] [--reps 20] [--threads 2] [--layers 12] [--fused-qkv]
import { ReduceOp, setThreads, kernels } from "../src/kernels/index.js";

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const M = opt("batch", 1);
const reps = opt("reps", 20);
const L = opt("layers", 12);
setThreads(opt("threads", 2));
const C = 768;
const V = 50257;
const k = kernels();
const rnd = (n: number) => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 0.37) * 0.02;
  return a;
};
const layers = Array.from({ length: L }, () => ({ attn: rnd(C * 3 * C), proj: rnd(C * C), fc: rnd(C * 4 * C), fcp: rnd(4 * C * C) }));
const wte = rnd(V * C);
const x = rnd(M * 4 * C);
const y = new Float32Array(M * Math.max(V, 4 * C));
type Call = [string, () => void, number];
const calls: Call[] = [];
for (const l of layers) {
  if (args.includes("--fused-qkv")) calls.push([`NN ${M}x2304x768`, () => k.gemm(false, false, M, 3 * C, C, 1, x, 0, C, 0, l.attn, 0, 3 * C, 0, 0, y, 0, 3 * C, 0, 1), 3 * C * C * 4]);
  else for (let i = 0; i < 3; i++) calls.push([`NN ${M}x768x768 ldb 2304`, () => k.gemm(false, false, M, C, C, 1, x, 0, C, 0, l.attn, i * C, 3 * C, 0, 0, y, 0, C, 0, 1), C * C * 4]);
  calls.push([`NN ${M}x768x768`, () => k.gemm(false, false, M, C, C, 1, x, 0, C, 0, l.proj, 0, C, 0, 0, y, 0, C, 0, 1), C * C * 4]);
  calls.push([`NN ${M}x3072x768`, () => k.gemm(false, false, M, 4 * C, C, 1, x, 0, C, 0, l.fc, 0, 4 * C, 0, 0, y, 0, 4 * C, 0, 1), C * 4 * C * 4]);
  calls.push([`NN ${M}x768x3072`, () => k.gemm(false, false, M, C, 4 * C, 1, x, 0, 4 * C, 0, l.fcp, 0, C, 0, 0, y, 0, C, 0, 1), C * 4 * C * 4]);
}
calls.push([`NT ${M}x50257x768`, () => k.gemm(false, true, M, V, C, 1, x, 0, C, 0, wte, 0, C, 0, 0, y, 0, V, 0, 1), V * C * 4]);
const bytes = calls.reduce((s, c) => s + c[2], 0);
const per: Record<string, number[]> = {};
const tok: number[] = [];
const readMs: number[] = [];
const big = new Float32Array(bytes / 4).fill(1); // written: untouched pages would all read the one zero page
const red = new Float32Array(64);
for (let r = 0; r < reps + 2; r++) {
  const acc: Record<string, number> = {};
  const t0 = performance.now();
  for (const [name, f] of calls) {
    const t = performance.now();
    f();
    acc[name] = (acc[name] ?? 0) + performance.now() - t;
  }
  const dt = performance.now() - t0;
  const t1 = performance.now();
  k.reduce(ReduceOp.Sum, big, red, 64, big.length / 64, 1);
  const rd = performance.now() - t1;
  if (r < 2) continue;
  readMs.push(rd);
  tok.push(dt);
  for (const [n, v] of Object.entries(acc)) (per[n] ??= []).push(v);
}
const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
console.log(`batch ${M}, ${L} layers: ${(bytes / 1e6).toFixed(0)} MB per token, ${med(tok).toFixed(2)} ms per token (min ${Math.min(...tok).toFixed(2)}), ${(bytes / med(tok) / 1e6).toFixed(1)} GB/s (best ${(bytes / Math.min(...tok) / 1e6).toFixed(1)})`);
console.log(`streaming read of the same bytes: ${med(readMs).toFixed(2)} ms (min ${Math.min(...readMs).toFixed(2)}), ${(bytes / med(readMs) / 1e6).toFixed(1)} GB/s (best ${(bytes / Math.min(...readMs) / 1e6).toFixed(1)}); GEMVs at ${((100 * med(readMs)) / med(tok)).toFixed(0)}% of it (best/best ${((100 * Math.min(...readMs)) / Math.min(...tok)).toFixed(0)}%)`);
for (const [n, v] of Object.entries(per)) {
  const b = calls.filter((c) => c[0] === n).reduce((s, c) => s + c[2], 0);
  console.log(`  ${n.padEnd(26)} ${med(v).toFixed(2).padStart(7)} ms  ${(b / med(v) / 1e6).toFixed(1).padStart(5)} GB/s`);
}
