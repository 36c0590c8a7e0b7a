// The differentiable ops, and their method forms on Tensor (x.add(y), x.matmul(w).relu(), ...).
//
// The Tensor class lives below this layer and knows nothing of ops; the methods are installed on
// its prototype here (and declared to TypeScript by module augmentation), so that importing tslm
// gives the chaining API without tensor/ importing ops/.
import { backward as backwardFn, detach as detachFn, type BackwardOptions } from "../autograd/engine.js";
import { Tensor } from "../tensor/tensor.js";
import * as ew from "./elementwise.js";
import * as mm from "./matmul.js";
import * as red from "./reduce.js";
import * as shape from "./shape.js";
import * as sm from "./softmax.js";

export * from "./attention.js";
export * from "./dropout.js";
export * from "./elementwise.js";
export * from "./embedding.js";
export * from "./loss.js";
export * from "./matmul.js";
export * from "./norm.js";
export * from "./reduce.js";
export * from "./shape.js";
export * from "./softmax.js";
export { sumToShape } from "./util.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    add(b: Tensor | number): Tensor;
    sub(b: Tensor | number): Tensor;
    mul(b: Tensor | number): Tensor;
    div(b: Tensor | number): Tensor;
    pow(b: Tensor | number): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    gelu(approximate?: "none" | "tanh"): Tensor;
    silu(): Tensor;
    abs(): Tensor;
    square(): Tensor;
    sum(dims?: red.Dims, keepdim?: boolean): Tensor;
    mean(dims?: red.Dims, keepdim?: boolean): Tensor;
    var(dims?: red.Dims, opts?: { correction?: number; keepdim?: boolean }): Tensor;
    max(): Tensor;
    max(dim: number, keepdim?: boolean): red.MaxResult;
    min(): Tensor;
    min(dim: number, keepdim?: boolean): red.MaxResult;
    argmax(dim?: number, keepdim?: boolean): Tensor;
    matmul(b: Tensor): Tensor;
    softmax(dim?: number): Tensor;
    logSoftmax(dim?: number): Tensor;
    reshape(...shape: number[] | [readonly number[]]): Tensor;
    view(...shape: number[] | [readonly number[]]): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    permute(...dims: number[] | [readonly number[]]): Tensor;
    transpose(dim0: number, dim1: number): Tensor;
    /** The matrix transpose of a 2-D tensor (or the last two dims). */
    readonly T: Tensor;
    slice(dim: number, start?: number, stop?: number, step?: number): Tensor;
    narrow(dim: number, start: number, length: number): Tensor;
    expand(...shape: number[] | [readonly number[]]): Tensor;
    unsqueeze(dim: number): Tensor;
    squeeze(dim?: number): Tensor;
    contiguous(): Tensor;
    split(sizeOrSections: number | readonly number[], dim?: number): Tensor[];
    chunk(chunks: number, dim?: number): Tensor[];
    indexSelect(dim: number, index: Tensor): Tensor;
    gather(dim: number, index: Tensor): Tensor;
    maskedFill(mask: Tensor, value: number): Tensor;
    eq(b: Tensor | number): Tensor;
    gt(b: Tensor | number): Tensor;
    lt(b: Tensor | number): Tensor;
    /** Backpropagates from this tensor (see autograd backward()). */
    backward(gradient?: Tensor, opts?: BackwardOptions): void;
    /** A tensor sharing storage but cut from the graph. */
    detach(): Tensor;
    /** Sets requiresGrad in place (float32 leaves only) and returns this. */
    requiresGrad_(on?: boolean): Tensor;
  }
}

/** Accepts f(1, 2, 3) and f([1, 2, 3]). */
function dimsArg(args: (number | readonly number[])[]): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}

const P = Tensor.prototype as unknown as Record<string, unknown>;
const methods: Record<string, (this: Tensor, ...args: never[]) => unknown> = {
  add(this: Tensor, b: Tensor | number) { return ew.add(this, b); },
  sub(this: Tensor, b: Tensor | number) { return ew.sub(this, b); },
  mul(this: Tensor, b: Tensor | number) { return ew.mul(this, b); },
  div(this: Tensor, b: Tensor | number) { return ew.div(this, b); },
  pow(this: Tensor, b: Tensor | number) { return ew.pow(this, b); },
  neg(this: Tensor) { return ew.neg(this); },
  exp(this: Tensor) { return ew.exp(this); },
  log(this: Tensor) { return ew.log(this); },
  sqrt(this: Tensor) { return ew.sqrt(this); },
  rsqrt(this: Tensor) { return ew.rsqrt(this); },
  tanh(this: Tensor) { return ew.tanh(this); },
  sigmoid(this: Tensor) { return ew.sigmoid(this); },
  relu(this: Tensor) { return ew.relu(this); },
  gelu(this: Tensor, approximate?: "none" | "tanh") { return ew.gelu(this, approximate); },
  silu(this: Tensor) { return ew.silu(this); },
  abs(this: Tensor) { return ew.abs(this); },
  square(this: Tensor) { return ew.square(this); },
  sum(this: Tensor, dims?: red.Dims, keepdim?: boolean) { return red.sum(this, dims, keepdim); },
  mean(this: Tensor, dims?: red.Dims, keepdim?: boolean) { return red.mean(this, dims, keepdim); },
  var(this: Tensor, dims?: red.Dims, opts?: { correction?: number; keepdim?: boolean }) { return red.variance(this, dims, opts); },
  max(this: Tensor, dim?: number, keepdim?: boolean) { return dim === undefined ? red.max(this) : red.max(this, dim, keepdim); },
  min(this: Tensor, dim?: number, keepdim?: boolean) { return dim === undefined ? red.min(this) : red.min(this, dim, keepdim); },
  argmax(this: Tensor, dim?: number, keepdim?: boolean) { return red.argmax(this, dim, keepdim); },
  matmul(this: Tensor, b: Tensor) { return mm.matmul(this, b); },
  softmax(this: Tensor, dim?: number) { return sm.softmax(this, dim); },
  logSoftmax(this: Tensor, dim?: number) { return sm.logSoftmax(this, dim); },
  reshape(this: Tensor, ...s: (number | readonly number[])[]) { return shape.reshape(this, dimsArg(s)); },
  view(this: Tensor, ...s: (number | readonly number[])[]) { return shape.reshape(this, dimsArg(s)); },
  flatten(this: Tensor, startDim?: number, endDim?: number) { return shape.flatten(this, startDim, endDim); },
  permute(this: Tensor, ...d: (number | readonly number[])[]) { return shape.permute(this, dimsArg(d)); },
  transpose(this: Tensor, a: number, b: number) { return shape.transpose(this, a, b); },
  slice(this: Tensor, dim: number, start?: number, stop?: number, step?: number) { return shape.slice(this, dim, start, stop, step); },
  narrow(this: Tensor, dim: number, start: number, length: number) { return shape.narrow(this, dim, start, length); },
  expand(this: Tensor, ...s: (number | readonly number[])[]) { return shape.expand(this, dimsArg(s)); },
  unsqueeze(this: Tensor, dim: number) { return shape.unsqueeze(this, dim); },
  squeeze(this: Tensor, dim?: number) { return shape.squeeze(this, dim); },
  contiguous(this: Tensor) { return shape.contiguous(this); },
  split(this: Tensor, s: number | readonly number[], dim?: number) { return shape.split(this, s, dim); },
  chunk(this: Tensor, chunks: number, dim?: number) { return shape.chunk(this, chunks, dim); },
  indexSelect(this: Tensor, dim: number, index: Tensor) { return shape.indexSelect(this, dim, index); },
  gather(this: Tensor, dim: number, index: Tensor) { return shape.gather(this, dim, index); },
  maskedFill(this: Tensor, mask: Tensor, value: number) { return ew.maskedFill(this, mask, value); },
  eq(this: Tensor, b: Tensor | number) { return ew.eq(this, b); },
  gt(this: Tensor, b: Tensor | number) { return ew.gt(this, b); },
  lt(this: Tensor, b: Tensor | number) { return ew.lt(this, b); },
  backward(this: Tensor, gradient?: Tensor, opts?: BackwardOptions) { backwardFn(this, gradient, opts); },
  detach(this: Tensor) { return detachFn(this); },
  requiresGrad_(this: Tensor, on = true) {
    if (on && this.dtype !== "float32") throw new Error(`requiresGrad_: only float32 tensors can require gradients (got ${this.dtype})`);
    if (this.gradFn) throw new Error("requiresGrad_: only leaf tensors can be set; this one was computed by an op (use detach() first)");
    this.requiresGrad = on;
    return this;
  },
};
for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(P, name, { value: fn, writable: true, configurable: true, enumerable: false });
}
Object.defineProperty(P, "T", {
  get(this: Tensor) {
    if (this.ndim < 2) throw new Error(`T: needs at least 2 dims, got shape [${this.shape.join(", ")}]`);
    return shape.transpose(this, -2, -1);
  },
  configurable: true,
  enumerable: false,
});

