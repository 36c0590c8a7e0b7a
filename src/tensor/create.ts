// Creating tensors: from data, constant fills, ranges and seeded random numbers.
import { Generator, defaultGenerator } from "./rng.js";
import { Tensor, checkShape, formatShape, shapeSize, type DType, type NestedArray, type Storage } from "./tensor.js";

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

export interface RandomOptions extends CreateOptions {
  /** The generator to draw from (default: the process-wide one seeded by manualSeed). */
  generator?: Generator;
}

function alloc(dtype: DType, n: number): Storage {
  if (dtype !== "float32" && dtype !== "int32") throw new Error(`unsupported dtype "${String(dtype)}" (expected "float32" or "int32")`);
  return dtype === "float32" ? new Float32Array(n) : new Int32Array(n);
}

function finish(t: Tensor, opts: CreateOptions | undefined): Tensor {
  if (opts?.requiresGrad) {
    if (t.dtype !== "float32") throw new Error(`requiresGrad: only float32 tensors can require gradients (got ${t.dtype})`);
    t.requiresGrad = true;
  }
  return t;
}

/** Infers the shape of nested arrays, checking that they are rectangular. */
function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

function flattenInto(data: NestedArray, shape: number[], dim: number, out: Storage, pos: { i: number }, path: string): void {
  if (dim === shape.length) {
    if (typeof data !== "number") throw new Error(`tensor: ragged nested array at ${path} (expected a number)`);
    out[pos.i++] = data;
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new Error(`tensor: ragged nested array at ${path || "top level"}: expected ${shape[dim]} entries, got ${Array.isArray(data) ? data.length : typeof data}`);
  }
  for (let i = 0; i < data.length; i++) flattenInto(data[i], shape, dim + 1, out, pos, `${path}[${i}]`);
}

/**
 * A tensor from nested arrays, a flat typed array / number array with a shape, or a number.
 * Typed arrays are used as storage without copying when their type matches the dtype.
 */
export function tensor(data: NestedArray | Float32Array | Int32Array | ArrayLike<number>, shapeOrOpts?: number[] | CreateOptions, maybeOpts?: CreateOptions): Tensor {
  const shapeArg = Array.isArray(shapeOrOpts) ? shapeOrOpts : undefined;
  const opts = Array.isArray(shapeOrOpts) ? maybeOpts : shapeOrOpts;
  if (data instanceof Float32Array || data instanceof Int32Array) {
    const dtype = opts?.dtype ?? (data instanceof Int32Array ? "int32" : "float32");
    const shape = shapeArg ?? [data.length];
    checkShape(shape, "tensor");
    if (shapeSize(shape) !== data.length) throw new Error(`tensor: shape ${formatShape(shape)} needs ${shapeSize(shape)} elements, the array has ${data.length}`);
    const storage = (dtype === "float32") === data instanceof Float32Array ? data : dtype === "float32" ? Float32Array.from(data) : Int32Array.from(data);
    return finish(new Tensor(storage, shape), opts);
  }
  const dtype = opts?.dtype ?? "float32";
  if (typeof data === "number") {
    const out = alloc(dtype, 1);
    out[0] = data;
    return finish(new Tensor(out, shapeArg ?? []), opts);
  }
  if (Array.isArray(data)) {
    const shape = shapeArg ?? inferShape(data);
    checkShape(shape, "tensor");
    const out = alloc(dtype, shapeSize(shape));
    if (shapeArg && !data.some(Array.isArray)) {
      if (data.length !== out.length) throw new Error(`tensor: shape ${formatShape(shape)} needs ${out.length} elements, got ${data.length}`);
      for (let i = 0; i < data.length; i++) out[i] = data[i] as number;
    } else flattenInto(data, shape, 0, out, { i: 0 }, "");
    return finish(new Tensor(out, shape), opts);
  }
  // Other array-likes (e.g. Float64Array, Uint8Array).
  const arr = Array.from(data as ArrayLike<number>);
  return tensor(arr, shapeArg ?? [arr.length], opts);
}

export function full(shape: number[], value: number, opts?: CreateOptions): Tensor {
  checkShape(shape, "full");
  const out = alloc(opts?.dtype ?? "float32", shapeSize(shape));
  if (value !== 0) out.fill(value);
  return finish(new Tensor(out, shape), opts);
}

export function zeros(shape: number[], opts?: CreateOptions): Tensor {
  return full(shape, 0, opts);
}

export function ones(shape: number[], opts?: CreateOptions): Tensor {
  return full(shape, 1, opts);
}

export function zerosLike(t: Tensor, opts?: CreateOptions): Tensor {
  return full([...t.shape], 0, { dtype: t.dtype, ...opts });
}

export function onesLike(t: Tensor, opts?: CreateOptions): Tensor {
  return full([...t.shape], 1, { dtype: t.dtype, ...opts });
}

export function fullLike(t: Tensor, value: number, opts?: CreateOptions): Tensor {
  return full([...t.shape], value, { dtype: t.dtype, ...opts });
}

/** Values start, start+step, ... below end (like torch.arange); int32 unless a float is involved. */
export function arange(start: number, end?: number, step = 1, opts?: CreateOptions): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step)) throw new Error(`arange: step must be a non-zero finite number, got ${step}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const isInt = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const dtype = opts?.dtype ?? (isInt ? "int32" : "float32");
  const out = alloc(dtype, n);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  return finish(new Tensor(out, [n]), opts);
}

/** Uniform samples in [low, high) (default [0, 1)), float32. */
export function rand(shape: number[], opts?: RandomOptions & { low?: number; high?: number }): Tensor {
  checkShape(shape, "rand");
  const g = opts?.generator ?? defaultGenerator;
  const lo = opts?.low ?? 0;
  const hi = opts?.high ?? 1;
  const out = new Float32Array(shapeSize(shape));
  for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * g.uniform();
  return finish(new Tensor(out, shape), opts);
}

/** Normal samples with the given mean and standard deviation (default 0 and 1), float32. */
export function randn(shape: number[], opts?: RandomOptions & { mean?: number; std?: number }): Tensor {
  checkShape(shape, "randn");
  const g = opts?.generator ?? defaultGenerator;
  const mean = opts?.mean ?? 0;
  const std = opts?.std ?? 1;
  const out = new Float32Array(shapeSize(shape));
  for (let i = 0; i < out.length; i++) out[i] = mean + std * g.normal();
  return finish(new Tensor(out, shape), opts);
}

/** Integers uniformly in [low, high), int32. */
export function randint(low: number, high: number, shape: number[], opts?: Omit<RandomOptions, "dtype" | "requiresGrad">): Tensor {
  checkShape(shape, "randint");
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) throw new Error(`randint: need integers low < high, got ${low}, ${high}`);
  const g = opts?.generator ?? defaultGenerator;
  const out = new Int32Array(shapeSize(shape));
  for (let i = 0; i < out.length; i++) out[i] = low + g.randint(high - low);
  return new Tensor(out, shape);
}
