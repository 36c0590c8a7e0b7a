// The Tensor: a strided view over typed-array storage, owned by the garbage collector.
//
// Contract:
//   - dtype "float32" stores a Float32Array, dtype "int32" an Int32Array (token ids, indices, and
//     boolean masks as 0/1).
//   - element [i0, i1, ...] lives at data[offset + i0*strides[0] + i1*strides[1] + ...]; strides are
//     in elements and may be 0 (broadcast, from expand).
//   - views (reshape of contiguous data, permute, transpose, narrow, slice, expand, squeeze,
//     unsqueeze) share storage; nothing is ever freed by hand — drop the reference and the GC
//     reclaims it.
//   - autograd state (requiresGrad, grad, gradFn) is plain data here; the engine lives in
//     src/autograd and the differentiable ops in src/ops, which also install the method forms
//     (x.add(y), x.matmul(w), ...) on this class. This file imports nothing above it.

export type DType = "float32" | "int32";
export type Storage = Float32Array | Int32Array;

/** A node of the autograd graph: how to send the output's gradient back to the inputs. */
export interface GradFn {
  /** The op's name, for error messages and anomaly mode. */
  readonly name: string;
  /** The op's tensor inputs (null where an input takes no gradient). */
  readonly inputs: readonly (Tensor | null)[];
  /** Given dLoss/dOutput, returns dLoss/dInput for each input (null where none). */
  backward(gradOutput: Tensor): (Tensor | null)[];
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** Checks that a shape is a list of non-negative integers; `what` names the caller. */
export function checkShape(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape)) throw new Error(`${what}: shape must be an array of integers, got ${String(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${what}: invalid shape ${formatShape(shape)} (dimensions must be non-negative integers)`);
  }
}

/** Normalises a possibly negative axis for a tensor of rank `ndim`, naming the op on error. */
export function normAxis(axis: number, ndim: number, op: string): number {
  if (!Number.isInteger(axis)) throw new Error(`${op}: dim must be an integer, got ${axis}`);
  const a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= ndim) throw new Error(`${op}: dim ${axis} is out of range for a tensor of rank ${ndim}`);
  return a;
}

export class Tensor {
  readonly data: Storage;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
  /** Whether gradients flow to this tensor (leaves: set by the user or by Parameter). */
  requiresGrad = false;
  /** Accumulated dLoss/dThis after backward(), for leaves that require grad. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when it is part of a recorded graph. */
  gradFn: GradFn | null = null;
  /** Optional name (parameter path) used in error messages. */
  name: string | undefined;

  constructor(data: Storage, shape: readonly number[], strides?: readonly number[], offset = 0) {
    this.data = data;
    this.dtype = data instanceof Float32Array ? "float32" : "int32";
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    return shapeSize(this.shape);
  }

  numel(): number {
    return shapeSize(this.shape);
  }

  /** Whether the elements are laid out row-major without gaps (offset may be non-zero). */
  isContiguous(): boolean {
    let s = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== s) return false;
      s *= this.shape[i];
    }
    return true;
  }

  /** The element at a full index. */
  get(...index: number[]): number {
    if (index.length !== this.ndim) throw new Error(`get: expected ${this.ndim} indices for shape ${formatShape(this.shape)}, got ${index.length}`);
    let pos = this.offset;
    for (let i = 0; i < index.length; i++) {
      let ix = index[i];
      if (ix < 0) ix += this.shape[i];
      if (!Number.isInteger(ix) || ix < 0 || ix >= this.shape[i]) throw new Error(`get: index ${index[i]} out of range for dim ${i} of shape ${formatShape(this.shape)}`);
      pos += ix * this.strides[i];
    }
    return this.data[pos];
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: the tensor has ${this.size} elements (shape ${formatShape(this.shape)}), expected 1`);
    return this.data[this.offset];
  }

  /** The elements in row-major order as a new typed array of the tensor's dtype. */
  toTypedArray(): Storage {
    const n = this.size;
    const out = this.dtype === "float32" ? new Float32Array(n) : new Int32Array(n);
    if (this.isContiguous()) {
      out.set(this.data.subarray(this.offset, this.offset + n));
      return out;
    }
    const idx = new Array<number>(this.ndim).fill(0);
    let pos = this.offset;
    for (let i = 0; i < n; i++) {
      out[i] = this.data[pos];
      for (let d = this.ndim - 1; d >= 0; d--) {
        idx[d]++;
        pos += this.strides[d];
        if (idx[d] < this.shape[d]) break;
        pos -= this.strides[d] * this.shape[d];
        idx[d] = 0;
      }
    }
    return out;
  }

  /** Nested arrays of numbers (a number for a 0-d tensor). */
  toArray(): NestedArray {
    const flat = this.toTypedArray();
    if (this.ndim === 0) return flat[0];
    const build = (dim: number, start: number): NestedArray => {
      const n = this.shape[dim];
      if (dim === this.ndim - 1) return Array.from(flat.subarray(start, start + n));
      const inner = shapeSize(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(build(dim + 1, start + i * inner));
      return out;
    };
    return build(0, 0);
  }

  /** Readable printing, PyTorch-like, summarising large tensors with "...". */
  toString(): string {
    return formatTensor(this);
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return formatTensor(this);
  }
}

export type NestedArray = number | NestedArray[];

function formatNumber(x: number, dtype: DType): string {
  if (dtype === "int32") return String(x);
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-4 || a >= 1e6)) return x.toExponential(4);
  return Number(x.toFixed(4)).toString();
}

/** Formats with at most `edge` leading and trailing entries per dimension once a tensor is big. */
export function formatTensor(t: Tensor, edge = 3, threshold = 1000): string {
  const flat = t.toTypedArray();
  const summarise = flat.length > threshold;
  const strides = contiguousStrides(t.shape);
  const rec = (dim: number, start: number, indent: string): string => {
    if (t.ndim === 0) return formatNumber(flat[0], t.dtype);
    const n = t.shape[dim];
    const picks: (number | null)[] = [];
    if (summarise && n > 2 * edge) {
      for (let i = 0; i < edge; i++) picks.push(i);
      picks.push(null);
      for (let i = n - edge; i < n; i++) picks.push(i);
    } else for (let i = 0; i < n; i++) picks.push(i);
    if (dim === t.ndim - 1) {
      return "[" + picks.map((i) => (i === null ? "..." : formatNumber(flat[start + i], t.dtype))).join(", ") + "]";
    }
    const sep = ",\n" + "\n".repeat(Math.max(0, t.ndim - dim - 2)) + indent + " ";
    return "[" + picks.map((i) => (i === null ? "..." : rec(dim + 1, start + i * strides[dim], indent + " "))).join(sep) + "]";
  };
  const body = rec(0, 0, "       ");
  const extra: string[] = [`shape=${formatShape(t.shape)}`];
  if (t.dtype !== "float32") extra.push(`dtype=${t.dtype}`);
  if (t.gradFn) extra.push(`gradFn=${t.gradFn.name}`);
  else if (t.requiresGrad) extra.push("requiresGrad=true");
  return `tensor(${body}, ${extra.join(", ")})`;
}
