// Native (C) kernels against the TypeScript reference, for every Kernels method except gemm
// (test/kernels/gemm.test.ts covers that one).
//
// Every suite runs four times in this process: AVX-512, AVX2 and scalar paths (the addon's setIsa
// caps the instruction set at runtime; tslm_isa() is read per call), and AVX-512 on one thread.
// One extra test checks that TSLM_ISA / TSLM_THREADS are honoured when a process starts with them.
// Inputs are seeded random numbers; shapes include 1, primes, and sizes large enough to be split
// across threads (the kernels only thread above ~64K elements of work).
//
// Tolerances, stated per test as { atol, rtol } with |native - ref| <= atol + rtol * |ref|: the
// reference computes in double and rounds once, native computes in float with vector partial sums
// and polynomial exp/tanh/erf (<= ~3e-7 relative), so elementwise results agree to ~1e-6 relative
// and sums over n terms to ~n^0.5 * 1e-7 of their magnitude.
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadNative, type NativeAddon } from "../../src/kernels/native/index.js";
import { refKernels as ref } from "../../src/kernels/ref/index.js";
import { BinaryOp, ReduceOp, UnaryOp } from "../../src/kernels/types.js";

type Addon = NativeAddon & { setIsa(isa: string): string };
const load = loadNative();
const nat = (load.ok ? load.addon : null) as Addon | null;

// ------------------------------------------------------------------------------------ helpers

/** mulberry32: small seeded generator, so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randn(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - r();
    out[i] = shift + scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  }
  return out;
}

function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

interface Tol {
  atol: number;
  rtol: number;
}

/** Throws naming the quantity, the number of mismatches, the max difference and the first few. */
function close(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol): void {
  if (got.length !== want.length) throw new Error(`${name}: length ${got.length} != ${want.length}`);
  let bad = 0;
  let maxDiff = 0;
  const first: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    let ok: boolean;
    if (Number.isNaN(w)) ok = Number.isNaN(g);
    else if (!Number.isFinite(w)) ok = g === w;
    else {
      const d = Math.abs(g - w);
      ok = d <= tol.atol + tol.rtol * Math.abs(w);
      if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
    }
    if (!ok) {
      bad++;
      if (first.length < 5) first.push(`[${i}] native ${g} ref ${w}`);
    }
  }
  if (bad) {
    throw new Error(
      `${name}: ${bad} of ${want.length} differ (max |diff| ${maxDiff.toExponential(3)}, atol ${tol.atol}, rtol ${tol.rtol}): ${first.join("; ")}`,
    );
  }
}

const copy = (a: Float32Array) => new Float32Array(a);

/** Contiguous row-major strides of a shape. */
function stridesOf(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

const i32 = (a: number[]) => Int32Array.from(a);

/** Reference results are the same under every ISA configuration: computed once per key. */
const refCache = new Map<string, Float32Array[]>();
function memo(key: string, compute: () => Float32Array[]): Float32Array[] {
  let r = refCache.get(key);
  if (!r) refCache.set(key, (r = compute()));
  return r;
}

// ------------------------------------------------------------------------------------ suites

const CONFIGS = [
  { isa: "avx512", threads: 0 },
  { isa: "avx2", threads: 0 },
  { isa: "scalar", threads: 0 },
  { isa: "avx512", threads: 1 },
] as const;

// A missing addon must not turn this file into a silent pass: it fails unless the build was skipped
// on purpose (TSLM_SKIP_NATIVE=1, as for the install script).
it.skipIf(process.env.TSLM_SKIP_NATIVE === "1")("the native addon loads", () => {
  expect(load.ok ? "loaded" : load.reason).toBe("loaded");
});

describe.skipIf(!nat)("native ops vs ref", () => {
  const k = nat as Addon;
  let defaultThreads = 1;
  let defaultIsa = "scalar";
  beforeAll(() => {
    defaultThreads = k.getThreads();
    defaultIsa = k.isa();
  });
  afterAll(() => {
    k.setIsa(defaultIsa);
    k.setThreads(defaultThreads);
  });

  for (const cfg of CONFIGS) {
    describe(`${cfg.isa}, ${cfg.threads === 0 ? "all threads" : `${cfg.threads} thread`}`, () => {
      beforeAll(() => {
        k.setIsa(cfg.isa);
        k.setThreads(cfg.threads === 0 ? defaultThreads : cfg.threads);
      });

      it("copyStrided: scalar, transposes, broadcasts, offsets, Float32 and Int32 (exact)", () => {
        const src = randn(4000, 1);
        const cases: { shape: number[]; strides: number[]; off: number }[] = [
          { shape: [], strides: [], off: 17 },
          { shape: [1], strides: [5], off: 3 },
          { shape: [13], strides: [1], off: 2 },
          { shape: [13], strides: [3], off: 0 },
          { shape: [7, 11], strides: [1, 7], off: 5 }, // transpose of [11, 7]
          { shape: [3, 5, 7], strides: [35, 1, 5], off: 1 },
          { shape: [3, 1, 7], strides: [7, 0, 1], off: 0 },
          { shape: [37, 100], strides: [0, 1], off: 9 }, // broadcast rows
          { shape: [37, 100], strides: [1, 0], off: 9 }, // broadcast columns
          { shape: [6, 6], strides: [-6, 1], off: 35 }, // flipped rows
          { shape: [2, 0, 3], strides: [3, 3, 1], off: 0 },
          { shape: [50, 60], strides: [60, 1], off: 0 }, // contiguous, threaded when large enough
          { shape: [300, 250], strides: [1, 300], off: 0 },
        ];
        for (const c of cases) {
          const n = c.shape.reduce((a, b) => a * b, 1);
          const want = new Float32Array(n + 4).fill(-7);
          const got = new Float32Array(n + 4).fill(-7);
          const s = c.shape.length && n > 4000 ? randn(c.shape[0] * c.shape[1], 2) : src;
          ref.copyStrided(i32(c.shape), s, c.off, i32(c.strides), want, 2);
          k.copyStrided(i32(c.shape), s, c.off, i32(c.strides), got, 2);
          expect(Array.from(got), `copyStrided [${c.shape}] strides [${c.strides}]`).toEqual(Array.from(want));
        }
        const isrc = Int32Array.from({ length: 100 }, (_, i) => i * 7 - 300);
        const iwant = new Int32Array(50);
        const igot = new Int32Array(50);
        ref.copyStrided(i32([5, 10]), isrc, 0, i32([1, 10]), iwant, 0);
        k.copyStrided(i32([5, 10]), isrc, 0, i32([1, 10]), igot, 0);
        expect(Array.from(igot)).toEqual(Array.from(iwant));
      });

      it("binary: every op, contiguous / broadcast / strided / scalar shapes (rtol 1e-6; pow 2e-6)", () => {
        const ops = [BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Div, BinaryOp.Pow, BinaryOp.Max, BinaryOp.Min];
        const cases: { shape: number[]; as: number[]; bs: number[]; aOff?: number; bOff?: number }[] = [
          { shape: [], as: [], bs: [] },
          { shape: [1], as: [1], bs: [1] },
          { shape: [37, 1000], as: [1000, 1], bs: [1000, 1] },
          { shape: [37, 1000], as: [1000, 1], bs: [0, 1] }, // bias row broadcast
          { shape: [37, 1000], as: [0, 1], bs: [1000, 1] },
          { shape: [37, 1000], as: [1000, 1], bs: [1, 0] }, // per-row scalar
          { shape: [37, 1000], as: [1, 37], bs: [1000, 1] }, // transposed a
          { shape: [3, 5, 7], as: [35, 7, 1], bs: [0, 7, 1], aOff: 4, bOff: 3 },
          { shape: [5, 1, 7], as: [7, 7, 1], bs: [1, 0, 0] },
          { shape: [200, 700], as: [700, 1], bs: [700, 1] },
        ];
        // Operands generated once: normal values with a NaN each (max/min must propagate it; the
        // other ops just carry it), and positive bases for pow.
        const an = randn(140000, 3);
        const bn = randn(140000, 4);
        an[5] = NaN;
        bn[9] = NaN;
        const ap = uniform(140000, 5, 0.1, 3);
        const bp = uniform(140000, 6, -2, 2);
        for (const op of ops) {
          for (const c of cases) {
            const n = c.shape.reduce((a, b) => a * b, 1);
            const a = op === BinaryOp.Pow ? ap : an;
            const b = op === BinaryOp.Pow ? bp : bn;
            const want = new Float32Array(n);
            const got = new Float32Array(n);
            ref.binary(op, i32(c.shape), a, c.aOff ?? 0, i32(c.as), b, c.bOff ?? 0, i32(c.bs), want);
            k.binary(op, i32(c.shape), a, c.aOff ?? 0, i32(c.as), b, c.bOff ?? 0, i32(c.bs), got);
            close(`binary op ${op} [${c.shape}]`, got, want, { atol: 0, rtol: op === BinaryOp.Pow ? 2e-6 : 1e-6 });
          }
        }
      });

      // Inputs per op: a realistic range plus the special values (0, +-inf, NaN, huge).
      const specials = [0, -0, 1e-30, -1e-30, 1e-4, -1e-4, 20, -20, 90, -90, 200, -200, Infinity, -Infinity, NaN];
      const positiveOps = new Set([UnaryOp.Log, UnaryOp.Sqrt, UnaryOp.Rsqrt, UnaryOp.PowScalar]);
      const unaryOps = [
        UnaryOp.Neg, UnaryOp.Exp, UnaryOp.Log, UnaryOp.Sqrt, UnaryOp.Rsqrt, UnaryOp.Tanh, UnaryOp.Sigmoid,
        UnaryOp.Relu, UnaryOp.GeluTanh, UnaryOp.GeluErf, UnaryOp.Silu, UnaryOp.Abs, UnaryOp.PowScalar,
        UnaryOp.Scale, UnaryOp.AddScalar, UnaryOp.Square,
      ];
      function unaryInput(op: UnaryOp, n: number, seed: number): Float32Array {
        const x = positiveOps.has(op) ? uniform(n, seed, 1e-3, 10) : randn(n, seed, 3);
        if (!positiveOps.has(op)) for (let i = 0; i < Math.min(specials.length, n); i++) x[(i * 7919) % n] = specials[i];
        return x;
      }

      it("unary: every op, n = 1, 13, 1000, 37000 incl. special values (atol 1e-6, rtol 2e-6)", () => {
        for (const op of unaryOps) {
          for (const n of [1, 13, 1000, 37000]) {
            const x = unaryInput(op, n, 10 + n);
            // Pow runs twice: a general exponent (libm powf) and 2 (the vector fast path).
            for (const param of op === UnaryOp.PowScalar ? [1.7, 2] : op === UnaryOp.Scale ? [-0.37] : [2.5]) {
              const want = new Float32Array(n);
              const got = new Float32Array(n);
              ref.unary(op, x, want, n, param);
              k.unary(op, x, got, n, param);
              close(`unary op ${op} param ${param} n ${n}`, got, want, { atol: 1e-6, rtol: 2e-6 });
            }
          }
        }
      });

      // Below x = -6 the reference itself loses relative accuracy (1 + erf cancels in double). In the
      // negative tail the float rounding of x / sqrt(2) alone moves erfc by 2 z^2 2^-24 relative
      // (2e-6 at x = -6), so the bound is 5e-6 there, as it would be for PyTorch's float GELU.
      it("unary GELU (erf and tanh) is accurate far into both tails (rtol 5e-6 on x in [-6, 12])", () => {
        const n = 18001;
        const x = Float32Array.from({ length: n }, (_, i) => -6 + (18 * i) / (n - 1));
        const want = new Float32Array(n);
        const got = new Float32Array(n);
        for (const op of [UnaryOp.GeluErf, UnaryOp.GeluTanh]) {
          ref.unary(op, x, want, n, 0);
          k.unary(op, x, got, n, 0);
          close(`gelu op ${op} tails`, got, want, { atol: 1e-37, rtol: 5e-6 });
        }
      });

      // The vector approximations themselves, on dense sweeps against double precision: about one
      // float ulp (2^-23 = 1.19e-7 relative) for exp, two for tanh, sigmoid and SiLU.
      it("vector exp / tanh / sigmoid / silu accuracy sweeps (rtol 1.5e-7 / 2e-7 / 2.5e-7 / 3e-7)", () => {
        const sweeps: [UnaryOp, number, number, number][] = [
          [UnaryOp.Exp, -87, 88, 1.5e-7],
          [UnaryOp.Tanh, -10, 10, 2e-7],
          [UnaryOp.Sigmoid, -80, 80, 2.5e-7],
          [UnaryOp.Silu, -80, 80, 3e-7],
        ];
        const n = 400001;
        for (const [op, lo, hi, rtol] of sweeps) {
          const x = Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
          const want = new Float32Array(n);
          const got = new Float32Array(n);
          ref.unary(op, x, want, n, 0);
          k.unary(op, x, got, n, 0);
          // atol at the bottom of the normal range: below it the reference keeps denormals.
          close(`unary op ${op} sweep [${lo}, ${hi}]`, got, want, { atol: 1.2e-38, rtol });
        }
      });

      it("unaryBackward: every op (atol 1e-6, rtol 1e-5)", () => {
        for (const op of unaryOps) {
          for (const n of [1, 13, 37000]) {
            const x = positiveOps.has(op) ? uniform(n, 20 + n, 0.05, 10) : randn(n, 20 + n, 3);
            for (const param of op === UnaryOp.PowScalar ? [1.7, 2] : op === UnaryOp.Scale ? [-0.37] : [2.5]) {
              const y = new Float32Array(n);
              ref.unary(op, x, y, n, param);
              const gy = randn(n, 30 + n);
              const want = new Float32Array(n);
              const got = new Float32Array(n);
              ref.unaryBackward(op, x, y, gy, want, n, param);
              k.unaryBackward(op, x, y, gy, got, n, param);
              close(`unaryBackward op ${op} param ${param} n ${n}`, got, want, { atol: 1e-6, rtol: 1e-5 });
            }
          }
        }
      });

      it("reduce: sum / max / min over [outer, dim, inner] incl. NaN (sum atol 1e-5 * sqrt(dim))", () => {
        const shapes = [
          [1, 1, 1],
          [3, 1000, 1],
          [37, 1000, 1],
          [5, 7, 13],
          [1, 2048, 768],
          [4, 3, 1],
          [2, 1, 5],
          [1, 30000, 24], // a long bias-gradient sum: rounding must not grow with dim
        ];
        for (const op of [ReduceOp.Sum, ReduceOp.Max, ReduceOp.Min]) {
          for (const [outer, dim, inner] of shapes) {
            // Mean 1: the running sum grows with dim, which is where sequential float sums drift.
            const x = randn(outer * dim * inner, 40 + dim, 1, 1);
            if (outer * dim * inner > 100 && op !== ReduceOp.Sum) x[77] = NaN;
            const want = new Float32Array(outer * inner);
            const got = new Float32Array(outer * inner);
            ref.reduce(op, x, want, outer, dim, inner);
            k.reduce(op, x, got, outer, dim, inner);
            const tol = op === ReduceOp.Sum ? { atol: 1e-5 * Math.sqrt(dim), rtol: 2e-6 } : { atol: 0, rtol: 0 };
            close(`reduce op ${op} [${outer}, ${dim}, ${inner}]`, got, want, tol);
          }
        }
      });

      it("argmax: first index on ties, NaN wins (exact)", () => {
        for (const [outer, dim, inner] of [[1, 1, 1], [3, 50, 1], [4, 17, 9], [2, 50257, 1]]) {
          const r = rng(outer * dim);
          const x = Float32Array.from({ length: outer * dim * inner }, () => Math.floor(r() * 5));
          if (dim > 20) x[dim + 3] = NaN;
          const want = new Int32Array(outer * inner);
          const got = new Int32Array(outer * inner);
          ref.argmax(x, want, outer, dim, inner);
          k.argmax(x, got, outer, dim, inner);
          expect(Array.from(got)).toEqual(Array.from(want));
        }
      });

      const rowShapes = [
        [1, 1],
        [3, 7],
        [37, 1000],
        [64, 4096],
        [5, 97],
      ];

      it("softmax / logSoftmax and backward (atol 1e-6 / 1e-5, rtol 1e-5)", () => {
        for (const [rows, cols] of rowShapes) {
          const x = randn(rows * cols, rows + cols, 4);
          x[0] = -Infinity; // a masked logit
          if (rows * cols > 10) x[cols + 1] = -Infinity;
          const gy = randn(rows * cols, 7 * rows + cols);
          for (const [name, fwd, bwd, atol] of [
            ["softmax", "softmax", "softmaxBackward", 1e-6],
            ["logSoftmax", "logSoftmax", "logSoftmaxBackward", 1e-5],
          ] as const) {
            const yw = new Float32Array(rows * cols);
            const yg = new Float32Array(rows * cols);
            ref[fwd](x, yw, rows, cols);
            k[fwd](x, yg, rows, cols);
            close(`${name} [${rows}, ${cols}]`, yg, yw, { atol, rtol: 1e-5 });
            const gw = new Float32Array(rows * cols);
            const gg = new Float32Array(rows * cols);
            ref[bwd](yw, gy, gw, rows, cols);
            k[bwd](yw, gy, gg, rows, cols);
            close(`${name} backward [${rows}, ${cols}]`, gg, gw, { atol: 1e-5, rtol: 1e-5 });
          }
        }
      });

      it("layerNorm / rmsNorm with and without affine, offset inputs (y atol 1e-5; gw/gb atol 1e-5 * rows)", () => {
        const shapes = [[1, 1], [5, 13], [37, 1000], [512, 768], [3, 4096]];
        for (const [rows, cols] of shapes) {
          // A large common offset (mean 30, std 2) checks that the variance is computed stably.
          const x = randn(rows * cols, rows * 3 + cols, 2, 30);
          const w = randn(cols, 5, 0.5, 1);
          const b = randn(cols, 6, 0.5);
          const gy = randn(rows * cols, 7);
          const eps = 1e-5;
          for (const affine of [true, false]) {
            const W = affine ? w : null;
            const B = affine ? b : null;
            const n = rows * cols;
            const [yw, yg] = [new Float32Array(n), new Float32Array(n)];
            const [mw, mg, rw, rg] = [new Float32Array(rows), new Float32Array(rows), new Float32Array(rows), new Float32Array(rows)];
            ref.layerNorm(x, W, B, yw, mw, rw, rows, cols, eps);
            k.layerNorm(x, W, B, yg, mg, rg, rows, cols, eps);
            const tag = `[${rows}, ${cols}] affine ${affine}`;
            close(`layerNorm y ${tag}`, yg, yw, { atol: 1e-5, rtol: 1e-5 });
            close(`layerNorm mean ${tag}`, mg, mw, { atol: 1e-5, rtol: 1e-6 });
            close(`layerNorm rstd ${tag}`, rg, rw, { atol: 0, rtol: 1e-4 });
            // Backward from the reference's saved statistics; gw/gb start nonzero (ADD semantics).
            const gw0 = randn(cols, 8);
            const gb0 = randn(cols, 9);
            const [gxw, gxg] = [new Float32Array(n), new Float32Array(n)];
            const [gww, gwg, gbw, gbg] = [copy(gw0), copy(gw0), copy(gb0), copy(gb0)];
            ref.layerNormBackward(x, W, mw, rw, gy, gxw, affine ? gww : null, affine ? gbw : null, rows, cols);
            k.layerNormBackward(x, W, mw, rw, gy, gxg, affine ? gwg : null, affine ? gbg : null, rows, cols);
            close(`layerNormBackward gx ${tag}`, gxg, gxw, { atol: 2e-5, rtol: 1e-4 });
            close(`layerNormBackward gw ${tag}`, gwg, gww, { atol: 1e-5 * Math.sqrt(rows) * 4, rtol: 1e-5 });
            close(`layerNormBackward gb ${tag}`, gbg, gbw, { atol: 1e-5 * Math.sqrt(rows) * 4, rtol: 1e-5 });

            const xr = randn(n, rows + 2 * cols, 2);
            const [rsw, rsg] = [new Float32Array(rows), new Float32Array(rows)];
            ref.rmsNorm(xr, W, yw, rsw, rows, cols, eps);
            k.rmsNorm(xr, W, yg, rsg, rows, cols, eps);
            close(`rmsNorm y ${tag}`, yg, yw, { atol: 1e-5, rtol: 1e-5 });
            close(`rmsNorm rstd ${tag}`, rsg, rsw, { atol: 0, rtol: 1e-5 });
            const [gw2w, gw2g] = [copy(gw0), copy(gw0)];
            ref.rmsNormBackward(xr, W, rsw, gy, gxw, affine ? gw2w : null, rows, cols);
            k.rmsNormBackward(xr, W, rsw, gy, gxg, affine ? gw2g : null, rows, cols);
            close(`rmsNormBackward gx ${tag}`, gxg, gxw, { atol: 2e-5, rtol: 1e-4 });
            close(`rmsNormBackward gw ${tag}`, gw2g, gw2w, { atol: 1e-5 * Math.sqrt(rows) * 4, rtol: 1e-5 });
          }
        }
      });

      it("crossEntropy and backward: ignoreIndex, label smoothing, V up to 50257 (atol 1e-5, rtol 1e-5)", () => {
        const cases = [
          [1, 1],
          [1, 7],
          [37, 1000],
          [300, 1000],
          [8, 50257],
        ];
        for (const [rows, V] of cases) {
          const x = randn(rows * V, rows + V, 3);
          const r = rng(rows * 31 + V);
          const t = Int32Array.from({ length: rows }, (_, i) => (i % 5 === 3 ? -100 : Math.floor(r() * V)));
          const gLoss = randn(rows, 11);
          for (const smoothing of [0, 0.1]) {
            const [lw, lg, sw, sg] = [new Float32Array(rows), new Float32Array(rows), new Float32Array(rows), new Float32Array(rows)];
            ref.crossEntropy(x, t, lw, sw, rows, V, -100, smoothing);
            k.crossEntropy(x, t, lg, sg, rows, V, -100, smoothing);
            const tag = `[${rows}, ${V}] smoothing ${smoothing}`;
            close(`crossEntropy loss ${tag}`, lg, lw, { atol: 1e-5, rtol: 1e-5 });
            close(`crossEntropy lse ${tag}`, sg, sw, { atol: 1e-5, rtol: 1e-6 });
            const [gw, gg] = [new Float32Array(rows * V), new Float32Array(rows * V)];
            ref.crossEntropyBackward(x, t, sw, gLoss, gw, rows, V, -100, smoothing);
            k.crossEntropyBackward(x, t, sw, gLoss, gg, rows, V, -100, smoothing);
            close(`crossEntropyBackward ${tag}`, gg, gw, { atol: 1e-6, rtol: 1e-5 });
          }
        }
      });

      it("embedding and scatter-add backward with repeated ids (exact: same order of additions)", () => {
        for (const [V, C, n] of [[1, 1, 1], [50, 13, 100], [50, 768, 300], [7, 1000, 97]]) {
          const w = randn(V * C, V + C);
          const r = rng(V * n);
          const ids = Int32Array.from({ length: n }, () => Math.floor(r() * V));
          const [ow, og] = [new Float32Array(n * C), new Float32Array(n * C)];
          ref.embedding(w, ids, ow, n, C);
          k.embedding(w, ids, og, n, C);
          expect(Array.from(og)).toEqual(Array.from(ow));
          const gOut = randn(n * C, 3 * n);
          const g0 = randn(V * C, 4 * n);
          const [gw, gg] = [copy(g0), copy(g0)];
          ref.embeddingBackward(gOut, ids, gw, n, C);
          k.embeddingBackward(gOut, ids, gg, n, C);
          close(`embeddingBackward V ${V} C ${C} n ${n}`, gg, gw, { atol: 0, rtol: 0 });
        }
      });

      it("adamw: steps 1 and 10, with and without weight decay (p atol 1e-7, rtol 1e-5)", () => {
        for (const n of [1, 13, 100003]) {
          for (const [step, wd] of [[1, 0], [10, 0.1]]) {
            const p0 = randn(n, n + step);
            const g = randn(n, 2 * n + step, 0.1);
            const m0 = randn(n, 3 * n, 0.01);
            const v0 = uniform(n, 4 * n, 0, 1e-3);
            const [pw, pg, mw, mg, vw, vg] = [copy(p0), copy(p0), copy(m0), copy(m0), copy(v0), copy(v0)];
            ref.adamw(pw, g, mw, vw, n, 1e-3, 0.9, 0.999, 1e-8, wd, step);
            k.adamw(pg, g, mg, vg, n, 1e-3, 0.9, 0.999, 1e-8, wd, step);
            const tag = `n ${n} step ${step} wd ${wd}`;
            close(`adamw p ${tag}`, pg, pw, { atol: 1e-7, rtol: 1e-5 });
            close(`adamw m ${tag}`, mg, mw, { atol: 1e-8, rtol: 1e-5 }); // m = 0.9 m + 0.1 g cancels in float
            close(`adamw v ${tag}`, vg, vw, { atol: 1e-12, rtol: 1e-5 });
          }
        }
      });

      interface AttnCase {
        name: string;
        B: number;
        H: number;
        Tq: number;
        Tk: number;
        D: number;
        Dv: number;
        causal: boolean;
        mask?: "bias" | "padding" | "full-row" | "transposed";
      }
      const attnCases: AttnCase[] = [
        { name: "tiny", B: 1, H: 1, Tq: 1, Tk: 1, D: 1, Dv: 1, causal: false },
        { name: "causal BH=6 T=97 D=64", B: 2, H: 3, Tq: 97, Tk: 97, D: 64, Dv: 64, causal: true },
        { name: "masked BH=6 T=97 D=64", B: 2, H: 3, Tq: 97, Tk: 97, D: 64, Dv: 64, causal: false, mask: "bias" },
        { name: "causal + padding mask", B: 2, H: 3, Tq: 33, Tk: 33, D: 16, Dv: 16, causal: true, mask: "padding" },
        { name: "KV cache Tq=5 Tk=40 causal", B: 1, H: 2, Tq: 5, Tk: 40, D: 64, Dv: 64, causal: true },
        { name: "decode Tq=1 Tk=77", B: 2, H: 4, Tq: 1, Tk: 77, D: 64, Dv: 64, causal: true },
        { name: "cross Tq=19 Tk=50 D=7 Dv=13", B: 1, H: 2, Tq: 19, Tk: 50, D: 7, Dv: 13, causal: false },
        { name: "fully masked rows", B: 1, H: 2, Tq: 9, Tk: 9, D: 8, Dv: 8, causal: false, mask: "full-row" },
        { name: "mask stored [Tk, Tq] (strided j)", B: 2, H: 2, Tq: 21, Tk: 70, D: 32, Dv: 32, causal: true, mask: "transposed" },
        { name: "Tq > Tk causal (rows with no key)", B: 1, H: 1, Tq: 12, Tk: 5, D: 16, Dv: 16, causal: true },
        { name: "BH=8 T=256 D=64 causal", B: 2, H: 4, Tq: 256, Tk: 256, D: 64, Dv: 64, causal: true },
      ];

      it.skipIf(typeof nat?.attention !== "function")("attention forward and backward (out, lse, grads: atol 1e-5, rtol 1e-4)", () => {
        for (const c of attnCases) {
          const BH = c.B * c.H;
          const q = randn(BH * c.Tq * c.D, 1 + c.Tq);
          const kk = randn(BH * c.Tk * c.D, 2 + c.Tk);
          const v = randn(BH * c.Tk * c.Dv, 3 + c.Tk);
          const gOut = randn(BH * c.Tq * c.Dv, 4 + c.Tq);
          const scale = 1 / Math.sqrt(c.D);
          let mask: Float32Array | null = null;
          let mStrides: Int32Array | null = null;
          let mOff = 0;
          if (c.mask === "bias") {
            // [B, H, Tq, Tk] additive bias (e.g. ALiBi-like), full strides, with an offset.
            mOff = 3;
            mask = randn(mOff + c.B * c.H * c.Tq * c.Tk, 99);
            mStrides = i32([c.H * c.Tq * c.Tk, c.Tq * c.Tk, c.Tk, 1]);
          } else if (c.mask === "padding") {
            // [B, 1, 1, Tk] key padding: last keys of batch 1 masked, broadcast over heads and rows.
            mask = new Float32Array(c.B * c.Tk);
            for (let j = c.Tk - 5; j < c.Tk; j++) mask[c.Tk + j] = -Infinity;
            mStrides = i32([c.Tk, 0, 0, 1]);
          } else if (c.mask === "transposed") {
            // One [Tk, Tq] bias shared by batch and heads, read with a non-unit key stride.
            mask = randn(c.Tk * c.Tq, 98);
            mStrides = i32([0, 0, 1, c.Tq]);
          } else if (c.mask === "full-row") {
            // [1, 1, Tq, Tk] broadcast over batch and heads; rows 2 and 5 see no key at all.
            mask = new Float32Array(c.Tq * c.Tk);
            for (const i of [2, 5]) for (let j = 0; j < c.Tk; j++) mask[i * c.Tk + j] = -Infinity;
            mStrides = i32([0, 0, c.Tk, 1]);
          }
          const args = [BH, c.H, c.Tq, c.Tk, c.D, c.Dv, scale, c.causal, mask, mOff, mStrides] as const;
          const og = new Float32Array(BH * c.Tq * c.Dv);
          const lg = new Float32Array(BH * c.Tq);
          const [ow, lw, gqw, gkw, gvw] = memo(`attention ${c.name}`, () => {
            const o = new Float32Array(BH * c.Tq * c.Dv);
            const l = new Float32Array(BH * c.Tq);
            const g = [new Float32Array(q.length), new Float32Array(kk.length), new Float32Array(v.length)];
            ref.attention(q, kk, v, o, l, ...args);
            ref.attentionBackward(q, kk, v, o, l, gOut, g[0], g[1], g[2], ...args);
            return [o, l, ...g];
          });
          k.attention(q, kk, v, og, lg, ...args);
          close(`attention out (${c.name})`, og, ow, { atol: 1e-5, rtol: 1e-4 });
          close(`attention lse (${c.name})`, lg, lw, { atol: 1e-5, rtol: 1e-5 });
          // Filled with garbage first: the kernel must overwrite every element.
          const [gqg, gkg, gvg] = [q.length, kk.length, v.length].map((n) => new Float32Array(n).fill(123));
          k.attentionBackward(q, kk, v, ow, lw, gOut, gqg, gkg, gvg, ...args);
          const gt = { atol: 1e-5, rtol: 1e-4 };
          close(`attentionBackward gq (${c.name})`, gqg, gqw, gt);
          close(`attentionBackward gk (${c.name})`, gkg, gkw, gt);
          close(`attentionBackward gv (${c.name})`, gvg, gvw, gt);
        }
      });
    });
  }

  // Outputs get 17 sentinel elements past their end: vector tails must not store beyond n.
  it("no kernel writes past the end of its outputs (odd sizes, every ISA)", () => {
    const PAD = 17;
    const padded = (n: number) => new Float32Array(n + PAD).fill(777);
    const untouched = (name: string, a: Float32Array, n: number) => {
      for (let i = n; i < a.length; i++) if (a[i] !== 777) throw new Error(`${name} wrote element ${i} of ${n}`);
    };
    for (const isa of ["avx512", "avx2", "scalar"]) {
      k.setIsa(isa);
      const rows = 3;
      const cols = 37;
      const n = rows * cols;
      const x = randn(n, 1);
      const gy = randn(n, 2);
      const y = padded(n);
      for (const op of [UnaryOp.Exp, UnaryOp.GeluErf, UnaryOp.GeluTanh, UnaryOp.Sigmoid, UnaryOp.PowScalar]) {
        k.unary(op, x, y, n, 2);
        untouched(`unary ${op}`, y, n);
        k.unaryBackward(op, x, x, gy, y, n, 2);
        untouched(`unaryBackward ${op}`, y, n);
      }
      k.binary(BinaryOp.Add, i32([rows, cols]), x, 0, i32([cols, 1]), gy, 0, i32([0, 1]), y);
      untouched("binary", y, n);
      k.softmax(x, y, rows, cols);
      untouched("softmax", y, n);
      k.logSoftmax(x, y, rows, cols);
      untouched("logSoftmax", y, n);
      k.softmaxBackward(x, gy, y, rows, cols);
      untouched("softmaxBackward", y, n);
      k.logSoftmaxBackward(x, gy, y, rows, cols);
      untouched("logSoftmaxBackward", y, n);
      const [mean, rstd, gw, gb] = [padded(rows), padded(rows), padded(cols), padded(cols)];
      k.layerNorm(x, null, null, y, mean, rstd, rows, cols, 1e-5);
      untouched("layerNorm y", y, n);
      untouched("layerNorm mean", mean, rows);
      untouched("layerNorm rstd", rstd, rows);
      k.layerNormBackward(x, randn(cols, 3), mean, rstd, gy, y, gw, gb, rows, cols);
      untouched("layerNormBackward gx", y, n);
      untouched("layerNormBackward gw", gw, cols);
      untouched("layerNormBackward gb", gb, cols);
      k.rmsNormBackward(x, null, rstd, gy, y, null, rows, cols);
      untouched("rmsNormBackward gx", y, n);
      const [loss, lse] = [padded(rows), padded(rows)];
      k.crossEntropy(x, i32([1, 5, 36]), loss, lse, rows, cols, -100, 0.1);
      untouched("crossEntropy loss", loss, rows);
      k.crossEntropyBackward(x, i32([1, 5, 36]), lse, randn(rows, 4), y, rows, cols, -100, 0.1);
      untouched("crossEntropyBackward", y, n);
      const red = padded(rows);
      k.reduce(ReduceOp.Sum, x, red, rows, cols, 1);
      untouched("reduce", red, rows);
      const emb = padded(2 * cols);
      k.embedding(x, i32([2, 0]), emb, 2, cols);
      untouched("embedding", emb, 2 * cols);
      const [p, m, v] = [padded(n), padded(n), padded(n)];
      p.fill(0, 0, n);
      m.fill(0, 0, n);
      v.fill(0, 0, n);
      k.adamw(p, gy, m, v, n, 1e-3, 0.9, 0.999, 1e-8, 0.1, 1);
      for (const [name, a] of [["p", p], ["m", m], ["v", v]] as const) untouched(`adamw ${name}`, a, n);
      // Attention with head dims that are not whole vectors (D = 7, Dv = 13).
      const [BH, T, D, Dv] = [2, 11, 7, 13];
      const q = randn(BH * T * D, 5);
      const kk = randn(BH * T * D, 6);
      const vv = randn(BH * T * Dv, 7);
      const [o, l] = [padded(BH * T * Dv), padded(BH * T)];
      k.attention(q, kk, vv, o, l, BH, 1, T, T, D, Dv, 0.4, true, null, 0, null);
      untouched("attention out", o, BH * T * Dv);
      untouched("attention lse", l, BH * T);
      const [gq, gk, gv] = [padded(BH * T * D), padded(BH * T * D), padded(BH * T * Dv)];
      k.attentionBackward(q, kk, vv, o, l, randn(BH * T * Dv, 8), gq, gk, gv, BH, 1, T, T, D, Dv, 0.4, true, null, 0, null);
      untouched("attentionBackward gq", gq, BH * T * D);
      untouched("attentionBackward gk", gk, BH * T * D);
      untouched("attentionBackward gv", gv, BH * T * Dv);
    }
    k.setIsa(defaultIsa);
  });

  it("wrong lengths throw a RangeError instead of touching memory", () => {
    const x = new Float32Array(10);
    expect(() => k.softmax(x, new Float32Array(10), 2, 5)).not.toThrow();
    expect(() => k.softmax(x, new Float32Array(5), 3, 5)).toThrow(RangeError);
    expect(() => k.embedding(new Float32Array(8), i32([0, 4]), new Float32Array(4), 2, 2)).toThrow(RangeError);
    expect(() => k.unary(UnaryOp.Exp, x, x, 11, 0)).toThrow(RangeError);
    expect(() => k.copyStrided(i32([2]), new Int32Array(2), 0, i32([1]), new Float32Array(2), 0)).toThrow(TypeError);
    expect(() => k.binary(BinaryOp.Add, i32([3]), x, 8, i32([1]), x, 0, i32([1]), x)).toThrow(RangeError);
  });

  it("TSLM_ISA and TSLM_THREADS are honoured at process start", () => {
    const script = `
      const a = require(${JSON.stringify(load.ok ? load.path : "")});
      const x = new Float32Array([1, 2, 3, 4]), y = new Float32Array(4);
      a.softmax(x, y, 1, 4);
      console.log(JSON.stringify({ isa: a.isa(), threads: a.getThreads(), sum: y[0] + y[1] + y[2] + y[3] }));`;
    for (const isa of ["scalar", "avx2"]) {
      const res = spawnSync(process.execPath, ["-e", script], {
        env: { ...process.env, TSLM_ISA: isa, TSLM_THREADS: "1" },
        encoding: "utf8",
      });
      expect(res.status, res.stderr).toBe(0);
      const out = JSON.parse(res.stdout.trim()) as { isa: string; threads: number; sum: number };
      expect(out.threads).toBe(1);
      // TSLM_ISA caps the choice; on a CPU without AVX2 both requests give "scalar".
      if (defaultIsa !== "scalar") expect(out.isa).toBe(isa);
      expect(out.sum).toBeCloseTo(1, 6);
    }
  });
});
