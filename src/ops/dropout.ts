// Dropout (inverted): in training, zero each element with probability p and scale the rest by
// 1 / (1 - p); outside training, the identity. The mask comes from a seeded Generator, so a seed
// fixes which elements drop.
import { record } from "../autograd/engine.js";
import { Generator, defaultGenerator } from "../tensor/rng.js";
import { Tensor } from "../tensor/tensor.js";
import { checkFloat, f32 } from "./util.js";

export function dropout(x: Tensor, p: number, training: boolean, generator: Generator = defaultGenerator): Tensor {
  checkFloat("dropout", x);
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  const n = x.size;
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) mask[i] = generator.uniform() >= p ? scale : 0;
  const xd = f32(x);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = xd[i] * mask[i];
  return record("dropout", new Tensor(out, x.shape), [x], (g) => {
    const gd = f32(g);
    const gx = new Float32Array(n);
    for (let i = 0; i < n; i++) gx[i] = gd[i] * mask[i];
    return [new Tensor(gx, x.shape)];
  });
}
