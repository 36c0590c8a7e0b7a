// Elementwise ops: broadcasting arithmetic, unary functions and activations, where / maskedFill.
//
// Binary ops broadcast with NumPy rules; the backward of each reduces the gradient back to each
// input's shape (sumToShape). Unary ops compute on contiguous data and differentiate through the
// kernel's unaryBackward, which may use the saved output (exp, tanh, sigmoid, sqrt, rsqrt).
import { record } from "../autograd/engine.js";
import { BinaryOp, UnaryOp, kernels } from "../kernels/index.js";
import { emptyF32 } from "../tensor/storage.js";
import { Tensor, formatShape, shapeSize } from "../tensor/tensor.js";
import { broadcastShapes, broadcastStrides } from "../tensor/views.js";
import { checkFloat, f32, forEachBroadcast, sumToShape } from "./util.js";

function binaryRaw(op: BinaryOp, name: string, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, name);
  const out = emptyF32(shapeSize(shape));
  kernels().binary(
    op,
    Int32Array.from(shape),
    a.data as Float32Array,
    a.offset,
    broadcastStrides(a, shape),
    b.data as Float32Array,
    b.offset,
    broadcastStrides(b, shape),
    out,
  );
  return new Tensor(out, shape);
}

function unaryRaw(op: UnaryOp, x: Tensor, param = 0): Tensor {
  const n = x.size;
  const out = emptyF32(n);
  kernels().unary(op, f32(x), out, n, param);
  return new Tensor(out, x.shape);
}

function unaryGrad(op: UnaryOp, x: Tensor, y: Tensor, g: Tensor, param = 0): Tensor {
  const n = x.size;
  const out = emptyF32(n);
  kernels().unaryBackward(op, f32(x), f32(y), f32(g), out, n, param);
  return new Tensor(out, x.shape);
}

function checkBinary(name: string, a: Tensor, b: Tensor | number): void {
  checkFloat(name, a, "a");
  if (typeof b !== "number") checkFloat(name, b, "b");
}

function unaryOp(name: string, op: UnaryOp, x: Tensor, param = 0): Tensor {
  checkFloat(name, x);
  const y = unaryRaw(op, x, param);
  return record(name, y, [x], (g) => [unaryGrad(op, x, y, g, param)]);
}

export function add(a: Tensor, b: Tensor | number): Tensor {
  checkBinary("add", a, b);
  if (typeof b === "number") return unaryOp("add", UnaryOp.AddScalar, a, b);
  const out = binaryRaw(BinaryOp.Add, "add", a, b);
  return record("add", out, [a, b], (g) => [a.requiresGrad ? sumToShape(g, a.shape) : null, b.requiresGrad ? sumToShape(g, b.shape) : null]);
}

export function sub(a: Tensor, b: Tensor | number): Tensor {
  checkBinary("sub", a, b);
  if (typeof b === "number") return unaryOp("sub", UnaryOp.AddScalar, a, -b);
  const out = binaryRaw(BinaryOp.Sub, "sub", a, b);
  return record("sub", out, [a, b], (g) => [
    a.requiresGrad ? sumToShape(g, a.shape) : null,
    b.requiresGrad ? sumToShape(unaryRaw(UnaryOp.Neg, g), b.shape) : null,
  ]);
}

export function mul(a: Tensor, b: Tensor | number): Tensor {
  checkBinary("mul", a, b);
  if (typeof b === "number") return unaryOp("mul", UnaryOp.Scale, a, b);
  const out = binaryRaw(BinaryOp.Mul, "mul", a, b);
  return record("mul", out, [a, b], (g) => [
    a.requiresGrad ? sumToShape(binaryRaw(BinaryOp.Mul, "mul", g, b), a.shape) : null,
    b.requiresGrad ? sumToShape(binaryRaw(BinaryOp.Mul, "mul", g, a), b.shape) : null,
  ]);
}

export function div(a: Tensor, b: Tensor | number): Tensor {
  checkBinary("div", a, b);
  if (typeof b === "number") return unaryOp("div", UnaryOp.Scale, a, 1 / b);
  const out = binaryRaw(BinaryOp.Div, "div", a, b);
  return record("div", out, [a, b], (g) => [
    a.requiresGrad ? sumToShape(binaryRaw(BinaryOp.Div, "div", g, b), a.shape) : null,
    // d(a/b)/db = -a/b^2 = -out/b
    b.requiresGrad ? sumToShape(unaryRaw(UnaryOp.Neg, binaryRaw(BinaryOp.Div, "div", binaryRaw(BinaryOp.Mul, "mul", g, out), b)), b.shape) : null,
  ]);
}

/** a ** b for a scalar or tensor exponent (tensor exponents need a > 0 for a finite gradient). */
export function pow(a: Tensor, b: Tensor | number): Tensor {
  checkBinary("pow", a, b);
  if (typeof b === "number") return unaryOp("pow", UnaryOp.PowScalar, a, b);
  const out = binaryRaw(BinaryOp.Pow, "pow", a, b);
  return record("pow", out, [a, b], (g) => [
    // d/da = b * a^(b-1) = b * out / a
    a.requiresGrad ? sumToShape(binaryRaw(BinaryOp.Mul, "pow", g, binaryRaw(BinaryOp.Mul, "pow", b, binaryRaw(BinaryOp.Pow, "pow", a, unaryRaw(UnaryOp.AddScalar, b, -1)))), a.shape) : null,
    // d/db = out * ln(a)
    b.requiresGrad ? sumToShape(binaryRaw(BinaryOp.Mul, "pow", g, binaryRaw(BinaryOp.Mul, "pow", out, unaryRaw(UnaryOp.Log, a))), b.shape) : null,
  ]);
}

export const neg = (x: Tensor): Tensor => unaryOp("neg", UnaryOp.Neg, x);
export const exp = (x: Tensor): Tensor => unaryOp("exp", UnaryOp.Exp, x);
export const log = (x: Tensor): Tensor => unaryOp("log", UnaryOp.Log, x);
export const sqrt = (x: Tensor): Tensor => unaryOp("sqrt", UnaryOp.Sqrt, x);
export const rsqrt = (x: Tensor): Tensor => unaryOp("rsqrt", UnaryOp.Rsqrt, x);
export const tanh = (x: Tensor): Tensor => unaryOp("tanh", UnaryOp.Tanh, x);
export const sigmoid = (x: Tensor): Tensor => unaryOp("sigmoid", UnaryOp.Sigmoid, x);
export const relu = (x: Tensor): Tensor => unaryOp("relu", UnaryOp.Relu, x);
export const silu = (x: Tensor): Tensor => unaryOp("silu", UnaryOp.Silu, x);
export const abs = (x: Tensor): Tensor => unaryOp("abs", UnaryOp.Abs, x);
export const square = (x: Tensor): Tensor => unaryOp("square", UnaryOp.Square, x);

/** GELU: "none" is the exact erf form (BERT, PyTorch default), "tanh" the approximation (GPT-2). */
export function gelu(x: Tensor, approximate: "none" | "tanh" = "none"): Tensor {
  if (approximate !== "none" && approximate !== "tanh") throw new Error(`gelu: approximate must be "none" or "tanh", got "${String(approximate)}"`);
  return unaryOp("gelu", approximate === "tanh" ? UnaryOp.GeluTanh : UnaryOp.GeluErf, x);
}

/** Truthiness of a condition tensor element (int32 or float32: non-zero is true). */
function condTensor(op: string, cond: Tensor): void {
  if (!(cond instanceof Tensor)) throw new Error(`${op}: the condition must be a Tensor`);
}

function whereRaw(cond: Tensor, a: Tensor | number, b: Tensor | number, shape: number[]): Tensor {
  const out = new Float32Array(shapeSize(shape));
  const ta = typeof a === "number" ? null : a;
  const tb = typeof b === "number" ? null : b;
  const zero = new Int32Array(shape.length);
  forEachBroadcast(
    shape,
    [broadcastStrides(cond, shape), ta ? broadcastStrides(ta, shape) : zero, tb ? broadcastStrides(tb, shape) : zero],
    [cond.offset, ta ? ta.offset : 0, tb ? tb.offset : 0],
    (o, pos) => {
      out[o] = cond.data[pos[0]] !== 0 ? (ta ? ta.data[pos[1]] : (a as number)) : tb ? tb.data[pos[2]] : (b as number);
    },
  );
  return new Tensor(out, shape);
}

/** Elementwise cond ? a : b with broadcasting over all three (cond: int32 0/1 or float32). */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  condTensor("where", cond);
  if (typeof a !== "number") checkFloat("where", a, "a");
  if (typeof b !== "number") checkFloat("where", b, "b");
  let shape = [...cond.shape];
  if (typeof a !== "number") shape = broadcastShapes(shape, a.shape, "where");
  if (typeof b !== "number") shape = broadcastShapes(shape, b.shape, "where");
  const out = whereRaw(cond, a, b, shape);
  const ta = typeof a === "number" ? null : a;
  const tb = typeof b === "number" ? null : b;
  return record("where", out, [ta, tb], (g) => [
    ta && ta.requiresGrad ? sumToShape(whereRaw(cond, g, 0, shape), ta.shape) : null,
    tb && tb.requiresGrad ? sumToShape(whereRaw(cond, 0, g, shape), tb.shape) : null,
  ]);
}

/** x with `value` where mask is true; mask broadcasts to x's shape (not the other way). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  checkFloat("maskedFill", x);
  condTensor("maskedFill", mask);
  const shape = broadcastShapes(x.shape, mask.shape, "maskedFill");
  if (shape.length !== x.ndim || shape.some((d, i) => d !== x.shape[i])) {
    throw new Error(`maskedFill: mask of shape ${formatShape(mask.shape)} must broadcast to the input's shape ${formatShape(x.shape)}`);
  }
  const out = whereRaw(mask, value, x, shape);
  return record("maskedFill", out, [x], (g) => [whereRaw(mask, 0, g, shape)]);
}

function compareRaw(name: string, a: Tensor, b: Tensor | number, f: (x: number, y: number) => boolean): Tensor {
  const tb = typeof b === "number" ? null : b;
  const shape = tb ? broadcastShapes(a.shape, tb.shape, name) : [...a.shape];
  const out = new Int32Array(shapeSize(shape));
  forEachBroadcast(shape, [broadcastStrides(a, shape), tb ? broadcastStrides(tb, shape) : new Int32Array(shape.length)], [a.offset, tb ? tb.offset : 0], (o, pos) => {
    out[o] = f(a.data[pos[0]], tb ? tb.data[pos[1]] : (b as number)) ? 1 : 0;
  });
  return new Tensor(out, shape);
}

/** Comparisons give int32 0/1 tensors (tslm's booleans); they are not differentiable. */
export const eq = (a: Tensor, b: Tensor | number): Tensor => compareRaw("eq", a, b, (x, y) => x === y);
export const ne = (a: Tensor, b: Tensor | number): Tensor => compareRaw("ne", a, b, (x, y) => x !== y);
export const gt = (a: Tensor, b: Tensor | number): Tensor => compareRaw("gt", a, b, (x, y) => x > y);
export const ge = (a: Tensor, b: Tensor | number): Tensor => compareRaw("ge", a, b, (x, y) => x >= y);
export const lt = (a: Tensor, b: Tensor | number): Tensor => compareRaw("lt", a, b, (x, y) => x < y);
export const le = (a: Tensor, b: Tensor | number): Tensor => compareRaw("le", a, b, (x, y) => x <= y);
