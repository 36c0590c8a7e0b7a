// Native GEMM against a float64 triple loop written here (the oracle), over every code path:
// instruction sets (avx512 / avx2 / scalar, forced at runtime with the addon's setIsa), 1, 2 and 4
// threads, all four transpose combinations, alpha/beta (beta = 0 must not read C), batches with
// broadcast (stride 0) operands, offsets and leading dimensions wider than the rows, and sizes that
// hit every edge: 1, primes, non-multiples of the register tiles (14x32, 6x16, 4x8), K across
// several K blocks, N across an NC block, M on both sides of the fused path's limit (packed A of
// at most 640 KB), and M <= 32 / N = 1 (the small-M and GEMV paths). Plus 300 random small cases,
// error messages, and the TSLM_ISA / TSLM_THREADS environment variables in a child process.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { benchGemm, parseGemmShapes } from "../../src/kernels/bench_gemm.js";
import { loadNative, type NativeAddon } from "../../src/kernels/native/index.js";
import { refKernels } from "../../src/kernels/ref/index.js";

type Addon = NativeAddon & { setIsa(isa: string): string };

const load = loadNative();
if (!load.ok) console.warn(`gemm tests skipped: ${load.reason}`);
const addon = (load.ok ? load.addon : null) as Addon | null;

/** Seeded PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  name: string;
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  alpha: number;
  beta: number;
  A: Float32Array;
  aOff: number;
  lda: number;
  strideA: number;
  B: Float32Array;
  bOff: number;
  ldb: number;
  strideB: number;
  C0: Float32Array; // C before the call (NaN-filled when beta = 0)
  cOff: number;
  ldc: number;
  strideC: number;
  batch: number;
  bias: Float32Array | null; // added to every row of C: bias[biasOff + j]
  biasOff: number;
  expected: Float64Array; // the oracle's C
  bound: Float64Array; // per-element error bound
}

// Tolerance. A float32 dot product of length K accumulated in any order (blocked, FMA) has error
// at most about K * u * sum_k |a_k b_k| with u = 2^-24 (the classical gamma_K bound); scaling by
// alpha, adding beta * C and the final rounding add a few u more. We allow 2 (K + 4) u times the
// magnitudes, per element: tight enough that a wrong index or a missed K block (errors of the
// size of the values themselves) fails, loose enough for any summation order.
const U = 2 ** -24;

/** The oracle: Kernels.gemm's documented semantics, literally, in float64. */
function oracle(c: Omit<Case, "expected" | "bound" | "name">): { expected: Float64Array; bound: Float64Array } {
  const out = Float64Array.from(c.C0);
  const bound = new Float64Array(c.C0.length);
  for (let b = 0; b < c.batch; b++) {
    for (let i = 0; i < c.M; i++) {
      for (let j = 0; j < c.N; j++) {
        let s = 0;
        let mag = 0;
        for (let k = 0; k < c.K; k++) {
          const a = c.transA ? c.A[c.aOff + b * c.strideA + k * c.lda + i] : c.A[c.aOff + b * c.strideA + i * c.lda + k];
          const bb = c.transB ? c.B[c.bOff + b * c.strideB + j * c.ldb + k] : c.B[c.bOff + b * c.strideB + k * c.ldb + j];
          s += a * bb;
          mag += Math.abs(a * bb);
        }
        const ci = c.cOff + b * c.strideC + i * c.ldc + j;
        const prev = c.beta === 0 ? 0 : c.beta * out[ci];
        const bias = c.bias ? c.bias[c.biasOff + j] : 0;
        out[ci] = c.alpha * s + prev + bias;
        // Sequential batches with strideC = 0 accumulate: carry the previous bound along.
        bound[ci] = 2 * (c.K + 4) * U * (Math.abs(c.alpha) * mag + Math.abs(prev) + Math.abs(bias)) + Math.abs(c.beta) * bound[ci] + 1e-30;
      }
    }
  }
  return { expected: out, bound };
}

interface Spec {
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  alpha?: number;
  beta?: number;
  batch?: number;
  /** extra elements between rows (leading dimension = row length + pad) */
  pad?: number;
  /** offsets into A, B, C */
  off?: number;
  /** broadcast A or B (stride 0) over the batch; sequential C (stride 0) */
  bcastA?: boolean;
  bcastB?: boolean;
  bcastC?: boolean;
  /** a bias of N floats (after `off` leading floats) added to every row */
  bias?: boolean;
}

function makeCase(spec: Spec, seed: number): Case {
  const r = rng(seed);
  const { M, N, K, transA, transB } = spec;
  const alpha = spec.alpha ?? 1;
  const beta = spec.beta ?? 0;
  const batch = spec.batch ?? 1;
  const pad = spec.pad ?? 0;
  const off = spec.off ?? 0;
  const [aRows, aCols] = transA ? [K, M] : [M, K];
  const [bRows, bCols] = transB ? [N, K] : [K, N];
  const lda = aCols + pad;
  const ldb = bCols + pad;
  const ldc = N + pad;
  const aSize = Math.max(aRows * lda, 1);
  const bSize = Math.max(bRows * ldb, 1);
  const cSize = Math.max(M * ldc, 1);
  const strideA = spec.bcastA ? 0 : aSize;
  const strideB = spec.bcastB ? 0 : bSize;
  const strideC = spec.bcastC ? 0 : cSize;
  const fill = (n: number) => Float32Array.from({ length: n }, () => r() * 2 - 1);
  const A = fill(off + aSize * (spec.bcastA ? 1 : batch));
  const B = fill(off + bSize * (spec.bcastB ? 1 : batch));
  // beta = 0 must not read C: fill it with NaN so that any read shows up in the result.
  const C0 = beta === 0 ? new Float32Array(off + cSize * (spec.bcastC ? 1 : batch)).fill(NaN) : fill(off + cSize * (spec.bcastC ? 1 : batch));
  const bias = spec.bias ? fill(off + N) : null;
  const c = { transA, transB, M, N, K, alpha, beta, A, aOff: off, lda, strideA, B, bOff: off, ldb, strideB, C0, cOff: off, ldc, strideC, batch, bias, biasOff: off };
  const flags = [transA ? "T" : "N", transB ? "T" : "N"].join("");
  const extras = [
    batch > 1 ? `batch=${batch}` : "",
    spec.bcastA ? "bcastA" : "",
    spec.bcastB ? "bcastB" : "",
    spec.bcastC ? "bcastC" : "",
    pad ? `pad=${pad}` : "",
    off ? `off=${off}` : "",
    spec.bias ? "bias" : "",
  ]
    .filter(Boolean)
    .join(" ");
  const name = `${M}x${N}x${K} ${flags} alpha=${alpha} beta=${beta} ${extras}`.trim();
  return { name, ...c, ...oracle(c) };
}

/** Runs one case on the addon and returns a failure description, or null. Unwritten parts of C
 * (padding between rows, the offset prefix) must be left unchanged: the oracle copies them too. */
function check(a: Addon, c: Case): string | null {
  const C = Float32Array.from(c.C0);
  if (c.bias) a.gemm(c.transA, c.transB, c.M, c.N, c.K, c.alpha, c.A, c.aOff, c.lda, c.strideA, c.B, c.bOff, c.ldb, c.strideB, c.beta, C, c.cOff, c.ldc, c.strideC, c.batch, c.bias, c.biasOff);
  else a.gemm(c.transA, c.transB, c.M, c.N, c.K, c.alpha, c.A, c.aOff, c.lda, c.strideA, c.B, c.bOff, c.ldb, c.strideB, c.beta, C, c.cOff, c.ldc, c.strideC, c.batch);
  const bad: string[] = [];
  let worst = 0;
  for (let i = 0; i < C.length; i++) {
    const e = c.expected[i];
    const got = C[i];
    const ok = Number.isNaN(e) ? Number.isNaN(got) : Math.abs(got - e) <= c.bound[i];
    if (!ok) {
      worst = Math.max(worst, Math.abs(got - e));
      if (bad.length < 5) bad.push(`C[${i}] = ${got}, expected ${e} (bound ${c.bound[i].toExponential(2)})`);
    }
  }
  return bad.length ? `${c.name}: max |diff| ${worst}; first mismatches: ${bad.join("; ")}` : null;
}

function buildCases(): Case[] {
  const specs: Spec[] = [];
  const trans: [boolean, boolean][] = [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ];
  // Shapes: tiny, primes, tile multiples and tile + 1, K over several K blocks (KC = 256 / 384),
  // M over an MC block (224 / 168 / 128), GEMV shapes (M = 1 or N = 1).
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 7, 13],
    [7, 1, 13],
    [13, 7, 1],
    [7, 13, 31],
    [31, 97, 13],
    [97, 31, 7],
    [14, 32, 384],
    [15, 33, 385],
    [6, 16, 16],
    [29, 47, 1000],
    [230, 35, 97],
    [1, 1000, 300],
    [1, 37, 1031],
    [300, 1, 1000],
    [2, 3, 4],
    [64, 64, 64],
    [8, 45, 70],
    [9, 45, 70],
    [32, 45, 70],
    [33, 45, 70],
    [100, 70, 800],
    [460, 37, 400],
    [5, 1000, 300],
    [3, 1100, 33],
    // Several K blocks and MC blocks on several threads (weight-gradient-like: small C, long K).
    [230, 100, 1000],
  ];
  for (const [M, N, K] of shapes) {
    for (const [transA, transB] of trans) {
      specs.push({ M, N, K, transA, transB });
      specs.push({ M, N, K, transA, transB, alpha: 0.5, beta: -1.5 });
    }
  }
  for (const [transA, transB] of trans) {
    // Leading dimensions wider than the rows and offsets into every array.
    specs.push({ M: 19, N: 37, K: 23, transA, transB, alpha: 2, beta: 1, pad: 5, off: 3 });
    specs.push({ M: 1, N: 45, K: 33, transA, transB, alpha: 1, beta: 0.25, pad: 3, off: 7 });
    specs.push({ M: 41, N: 1, K: 33, transA, transB, beta: 0, pad: 3, off: 7 });
    // Batches: broadcast A (a shared weight), broadcast B, accumulating C (strideC = 0).
    specs.push({ M: 9, N: 17, K: 21, transA, transB, batch: 3, bcastA: true, pad: 2, off: 1 });
    specs.push({ M: 9, N: 17, K: 21, transA, transB, batch: 4, bcastB: true, beta: 0.5 });
    specs.push({ M: 5, N: 6, K: 7, transA, transB, batch: 3, bcastC: true, beta: 1 });
    // Many small matrices (attention heads): the batch-parallel path.
    specs.push({ M: 16, N: 16, K: 8, transA, transB, batch: 12 });
    specs.push({ M: 48, N: 40, K: 64, transA, transB, batch: 6, beta: 1, pad: 1 });
    specs.push({ M: 1, N: 33, K: 64, transA, transB, batch: 5, alpha: 0.125 });
    specs.push({ M: 1, N: 3000, K: 64, transA, transB, batch: 4, beta: 1 });
    // Small M (decoding a few sequences), threaded over columns.
    specs.push({ M: 4, N: 3000, K: 70, transA, transB, beta: 0.5, pad: 3, off: 2 });
    // Decoding shapes threaded over K (rows mode: per-thread partial sums added into C), with K
    // not a multiple of the task rows, wide leading dimensions (a column block of a fused weight)
    // and C preloaded with a bias (beta 1).
    specs.push({ M: 1, N: 700, K: 771, transA, transB, beta: 1, pad: 40, off: 3 });
    specs.push({ M: 8, N: 300, K: 1100, transA, transB, alpha: 0.5, beta: 0.5, pad: 9 });
    // Big enough to be threaded: a tall shape (rows split) and a wide one (columns split, N across
    // an NC block of 4096).
    specs.push({ M: 300, N: 70, K: 200, transA, transB, beta: 1 });
    specs.push({ M: 20, N: 4200, K: 40, transA, transB });
    specs.push({ M: 40, N: 4200, K: 40, transA, transB, beta: 1 });
    specs.push({ M: 700, N: 4100, K: 8, transA, transB });
    // A bias added as each tile is stored (once, on the first K block), on every path: packed
    // (edge tiles, several K blocks, offsets, padding), fused, small M (preloaded), a batch, K = 0,
    // and with beta.
    specs.push({ M: 300, N: 70, K: 800, transA, transB, bias: true, pad: 3, off: 5 });
    specs.push({ M: 230, N: 100, K: 1000, transA, transB, bias: true, beta: 0.5 });
    specs.push({ M: 700, N: 130, K: 200, transA, transB, bias: true });
    specs.push({ M: 64, N: 1200, K: 300, transA, transB, bias: true, alpha: 0.5 });
    specs.push({ M: 3, N: 700, K: 771, transA, transB, bias: true, beta: 1, off: 2 });
    specs.push({ M: 41, N: 1, K: 33, transA, transB, bias: true, pad: 3, off: 7 });
    specs.push({ M: 9, N: 17, K: 21, transA, transB, batch: 3, bias: true });
    specs.push({ M: 15, N: 33, K: 0, transA, transB, bias: true, beta: 0.5 });
  }
  // Degenerate: K = 0 (C = beta C), alpha = 0.
  specs.push({ M: 3, N: 4, K: 0, transA: false, transB: false, beta: 0.5 });
  specs.push({ M: 3, N: 4, K: 0, transA: false, transB: false, beta: 0 });
  specs.push({ M: 3, N: 4, K: 5, transA: false, transB: true, alpha: 0, beta: 2 });
  return specs.map((s, i) => makeCase(s, 1000 + i));
}

/** The cases with their oracle results, computed once for both suites. */
let cachedCases: Case[] | null = null;
const allCases = (): Case[] => (cachedCases ??= buildCases());

describe("reference gemm (the TypeScript twin)", () => {
  it("matches the float64 oracle, with and without a bias", () => {
    // The twin sums in float64 and rounds once, so the shared bound holds with room to spare.
    const failures = allCases()
      .filter((c) => c.M * c.N * c.K * c.batch <= 4e5)
      .map((c) => check(refKernels as unknown as Addon, c))
      .filter((f): f is string => f !== null);
    expect(failures, failures.slice(0, 5).join("\n")).toEqual([]);
  });
});

describe.skipIf(!addon)("native gemm", () => {
  const a = addon as Addon;
  const cases = allCases();
  const available = ["avx512", "avx2", "scalar"].filter((isa) => a.setIsa(isa) === isa);
  a.setIsa("avx512"); // back to the best the machine has

  for (const isa of ["avx512", "avx2", "scalar"]) {
    // 4 threads on any machine: exercises the 2 x 2 grid (rows and columns split at once).
    for (const threads of [1, 2, 4]) {
      it.skipIf(!available.includes(isa))(`matches the float64 oracle: ${isa}, ${threads} thread(s)`, () => {
        const prevThreads = a.getThreads();
        a.setIsa(isa);
        a.setThreads(threads);
        try {
          const failures = cases.map((c) => check(a, c)).filter((f): f is string => f !== null);
          expect(failures, failures.slice(0, 5).join("\n")).toEqual([]);
        } finally {
          a.setIsa("avx512");
          a.setThreads(prevThreads);
        }
      });
    }
  }

  it("matches the oracle on 300 random small cases (every ISA, 1 and 2 threads)", () => {
    // Random shapes (1-80, so every path and edge tile appears), transposes, alpha/beta (including
    // beta = 0 over NaN), padding, offsets, batches with broadcast operands.
    const r = rng(7);
    const pick = <T,>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
    const dim = () => (r() < 0.2 ? 1 + Math.floor(r() * 3) : 1 + Math.floor(r() * 80));
    const fuzz: Case[] = [];
    for (let i = 0; i < 300; i++) {
      const batch = r() < 0.3 ? 1 + Math.floor(r() * 3) : 1;
      fuzz.push(
        makeCase(
          {
            M: dim(),
            N: dim(),
            K: dim(),
            transA: r() < 0.5,
            transB: r() < 0.5,
            alpha: pick([1, -0.5, 2]),
            beta: pick([0, 0, 1, 0.5]),
            batch,
            pad: pick([0, 0, 1, 5]),
            off: pick([0, 0, 3]),
            bcastA: batch > 1 && r() < 0.3,
            bcastB: batch > 1 && r() < 0.3,
            bias: r() < 0.3,
          },
          5000 + i,
        ),
      );
    }
    const prevThreads = a.getThreads();
    try {
      for (const isa of available) {
        for (const threads of [1, 2]) {
          a.setIsa(isa);
          a.setThreads(threads);
          const failures = fuzz.map((c) => check(a, c)).filter((f): f is string => f !== null);
          expect(failures, `${isa}, ${threads} thread(s):\n${failures.slice(0, 5).join("\n")}`).toEqual([]);
        }
      }
    } finally {
      a.setIsa("avx512");
      a.setThreads(prevThreads);
    }
  });

  it("is exact on small integers, whatever the path", () => {
    // Integer-valued inputs make every partial sum exact, so any order must give the same answer.
    const M = 33;
    const N = 65;
    const K = 400;
    const A = Float32Array.from({ length: M * K }, (_, i) => (i % 7) - 3);
    const B = Float32Array.from({ length: K * N }, (_, i) => (i % 5) - 2);
    const want = new Float32Array(M * N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) want[i * N + j] += A[i * K + k] * B[k * N + j];
    for (const isa of available) {
      a.setIsa(isa);
      const C = new Float32Array(M * N);
      a.gemm(false, false, M, N, K, 1, A, 0, K, 0, B, 0, N, 0, 0, C, 0, N, 0, 1);
      expect(C).toEqual(want);
    }
    a.setIsa("avx512");
  });

  it("gives bit-identical results run after run on several threads (decoding shapes split over K)", () => {
    // Tasks are taken dynamically, so which thread computes which part varies between calls; the
    // partial sums must still be added in one fixed order (training runs resume bit for bit).
    const prevThreads = a.getThreads();
    try {
      for (const threads of [2, 4]) {
        a.setThreads(threads);
        for (const [M, N, K] of [
          [1, 768, 768],
          [8, 300, 1031],
        ]) {
          const A = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i * 0.7));
          const B = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i * 0.3));
          const first = new Float32Array(M * N);
          a.gemm(false, false, M, N, K, 1, A, 0, K, 0, B, 0, N, 0, 0, first, 0, N, 0, 1);
          for (let r = 0; r < 50; r++) {
            const C = new Float32Array(M * N);
            a.gemm(false, false, M, N, K, 1, A, 0, K, 0, B, 0, N, 0, 0, C, 0, N, 0, 1);
            expect(C).toEqual(first);
          }
        }
      }
    } finally {
      a.setThreads(prevThreads);
    }
  });

  it("names the argument in type errors and refuses out-of-range arrays", () => {
    const f = new Float32Array(4);
    expect(() => a.gemm(false, false, 2, 2, 2, 1, new Int32Array(4) as unknown as Float32Array, 0, 2, 0, f, 0, 2, 0, 0, f, 0, 2, 0, 1)).toThrow(
      /gemm: argument 7 \(A\) must be a Float32Array \(got Int32Array\)/,
    );
    expect(() => a.gemm(false, false, 2, 2, 2, 1, f, 0, 2, 0, f, 0, 2, 0, 0, f, 0, 2, 0, 1.5)).toThrow(/argument 20 \(batch\) must be an integer/);
    expect(() => a.gemm(false, false, 2, 2, 2, 1, new Float32Array(3), 0, 2, 0, f, 0, 2, 0, 0, f, 0, 2, 0, 1)).toThrow(RangeError);
    expect(() => a.gemm(false, false, 2, 2, 2, 1, f, 0, 2, 0, f, 0, 2, 0, 0, f, 1, 2, 0, 1)).toThrow(/C \(length 4\) is too short/);
    expect(() => (a.gemm as unknown as (...x: unknown[]) => void)(false, false, 2)).toThrow(/gemm: expected 20 arguments, got 3/);
  });

  it("reads TSLM_ISA and TSLM_THREADS from the environment", () => {
    // A fresh process: the cap and the thread count are read once, at first use.
    const script = `const a = require(${JSON.stringify(load.ok ? load.path : "")}); console.log(a.isa() + " " + a.getThreads());`;
    for (const [env, want] of [
      ["scalar", "scalar"],
      ["avx2", available.includes("avx2") ? "avx2" : "scalar"],
    ] as const) {
      const res = spawnSync(process.execPath, ["-e", script], { env: { ...process.env, TSLM_ISA: env, TSLM_THREADS: "3" }, encoding: "utf8" });
      expect(res.stdout.trim()).toBe(`${want} 3`);
    }
  });

  it("benchmark: parses MxKxN shapes and measures without torch", async () => {
    expect(parseGemmShapes("2048x768x3072, 1x2x3")).toEqual([
      { M: 2048, K: 768, N: 3072 },
      { M: 1, K: 2, N: 3 },
    ]);
    expect(() => parseGemmShapes("64x64")).toThrow(/expected MxKxN/);
    const before = a.getThreads();
    const { info, rows } = await benchGemm({ shapes: [{ M: 20, K: 30, N: 40 }], threads: [1, 2], repeats: 2, seconds: 0.01, python: null });
    expect(info.torchAvailable).toBe(false);
    expect(rows.map((r) => r.threads)).toEqual([1, 2]);
    for (const r of rows) expect(r.tslm.median).toBeGreaterThan(0);
    expect(a.getThreads()).toBe(before); // the benchmark restores the thread count
  });
});
