// Embedding lookup (torch.nn.functional.embedding) with a scatter-add backward.
import { record } from "../autograd/engine.js";
import { kernels } from "../kernels/index.js";
import { emptyF32 } from "../tensor/storage.js";
import { Tensor, formatShape } from "../tensor/tensor.js";
import { checkFloat, checkInt, f32, i32 } from "./util.js";

/**
 * out[..., :] = weight[ids[...], :]. ids: int32 of any shape; weight: [V, C]. An id outside
 * [0, V) is an error naming the id and its position. With paddingIdx, that row gets no gradient.
 */
export function embedding(ids: Tensor, weight: Tensor, opts: { paddingIdx?: number } = {}): Tensor {
  checkInt("embedding", ids, "ids");
  checkFloat("embedding", weight, "weight");
  if (weight.ndim !== 2) throw new Error(`embedding: weight must be 2-D [vocab, dim], got ${formatShape(weight.shape)}`);
  const [V, C] = weight.shape;
  const idx = i32(ids);
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] < 0 || idx[i] >= V) throw new Error(`embedding: id ${idx[i]} at position ${i} is out of range for a vocabulary of ${V}`);
  }
  const pad = opts.paddingIdx;
  if (pad !== undefined && (!Number.isInteger(pad) || pad < -V || pad >= V)) throw new Error(`embedding: paddingIdx ${pad} is out of range for a vocabulary of ${V}`);
  const out = emptyF32(idx.length * C);
  const k = kernels();
  k.embedding(f32(weight), idx, out, idx.length, C);
  const y = new Tensor(out, [...ids.shape, C]);
  return record("embedding", y, [weight], (g) => {
    const gw = new Float32Array(V * C);
    k.embeddingBackward(f32(g), idx, gw, idx.length, C);
    if (pad !== undefined) {
      const p = pad < 0 ? pad + V : pad;
      gw.fill(0, p * C, (p + 1) * C);
    }
    return [new Tensor(gw, weight.shape)];
  });
}
