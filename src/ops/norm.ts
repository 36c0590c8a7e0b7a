// Normalisation: layerNorm (torch.nn.functional.layer_norm) and rmsNorm (F.rms_norm, LLaMA/T5).
//
// Both normalise over the trailing `normalizedShape` dims: rows = numel / cols with
// cols = prod(normalizedShape). The kernels save per-row statistics for the backward pass.
import { record } from "../autograd/engine.js";
import { kernels } from "../kernels/index.js";
import { emptyF32 } from "../tensor/storage.js";
import { Tensor, formatShape, shapeSize } from "../tensor/tensor.js";
import { checkFloat, f32, sameShape } from "./util.js";

function checkNormArgs(op: string, x: Tensor, normalizedShape: readonly number[], weight?: Tensor | null, bias?: Tensor | null): number {
  checkFloat(op, x);
  const ns = [...normalizedShape];
  if (ns.length === 0 || ns.length > x.ndim || !sameShape(x.shape.slice(x.ndim - ns.length), ns)) {
    throw new Error(`${op}: normalized shape ${formatShape(ns)} does not match the trailing dims of the input's shape ${formatShape(x.shape)}`);
  }
  if (weight) {
    checkFloat(op, weight, "weight");
    if (!sameShape(weight.shape, ns)) throw new Error(`${op}: weight of shape ${formatShape(weight.shape)} does not match normalized shape ${formatShape(ns)}`);
  }
  if (bias) {
    checkFloat(op, bias, "bias");
    if (!sameShape(bias.shape, ns)) throw new Error(`${op}: bias of shape ${formatShape(bias.shape)} does not match normalized shape ${formatShape(ns)}`);
  }
  return shapeSize(ns);
}

export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const cols = checkNormArgs("layerNorm", x, normalizedShape, weight, bias);
  const rows = cols === 0 ? 0 : x.size / cols;
  const xd = f32(x);
  const wd = weight ? f32(weight) : null;
  const bd = bias ? f32(bias) : null;
  const y = emptyF32(x.size);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  const k = kernels();
  k.layerNorm(xd, wd, bd, y, mean, rstd, rows, cols, eps);
  const out = new Tensor(y, x.shape);
  return record("layerNorm", out, [x, weight ?? null, bias ?? null], (g) => {
    const gx = emptyF32(x.size);
    const gw = weight && weight.requiresGrad ? new Float32Array(cols) : null;
    const gb = bias && bias.requiresGrad ? new Float32Array(cols) : null;
    k.layerNormBackward(xd, wd, mean, rstd, f32(g), gx, gw, gb, rows, cols);
    return [new Tensor(gx, x.shape), gw ? new Tensor(gw, weight!.shape) : null, gb ? new Tensor(gb, bias!.shape) : null];
  });
}

export function rmsNorm(x: Tensor, normalizedShape: readonly number[], weight?: Tensor | null, eps = 1e-6): Tensor {
  const cols = checkNormArgs("rmsNorm", x, normalizedShape, weight);
  const rows = cols === 0 ? 0 : x.size / cols;
  const xd = f32(x);
  const wd = weight ? f32(weight) : null;
  const y = emptyF32(x.size);
  const rstd = new Float32Array(rows);
  const k = kernels();
  k.rmsNorm(xd, wd, y, rstd, rows, cols, eps);
  const out = new Tensor(y, x.shape);
  return record("rmsNorm", out, [x, weight ?? null], (g) => {
    const gx = emptyF32(x.size);
    const gw = weight && weight.requiresGrad ? new Float32Array(cols) : null;
    k.rmsNormBackward(xd, wd, rstd, f32(g), gx, gw, rows, cols);
    return [new Tensor(gx, x.shape), gw ? new Tensor(gw, weight!.shape) : null];
  });
}
