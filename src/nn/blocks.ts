// Residual sublayer wiring, the two conventions every Transformer block is built from:
//
//   post-LN (the original Transformer, BERT):  x = norm(x + dropout(sublayer(x)))
//   pre-LN  (GPT-2, LLaMA, T5):                x = x + dropout(sublayer(norm(x)))
//
// Blocks themselves live in the model files (their field names are the checkpoint's and differ
// per family); they compose these two functions so the convention is visible at the call site.
import { add } from "../ops/index.js";
import { Tensor } from "../tensor/tensor.js";
import type { Dropout } from "./layers.js";

export interface Norm {
  forward(x: Tensor): Tensor;
}

/** x + dropout(f(norm(x))). */
export function preNormResidual(x: Tensor, norm: Norm, f: (h: Tensor) => Tensor, dropout?: Dropout): Tensor {
  const h = f(norm.forward(x));
  return add(x, dropout ? dropout.forward(h) : h);
}

/** norm(x + dropout(f(x))). */
export function postNormResidual(x: Tensor, norm: Norm, f: (h: Tensor) => Tensor, dropout?: Dropout): Tensor {
  const h = f(x);
  return norm.forward(add(x, dropout ? dropout.forward(h) : h));
}
