// Basic layers: Linear, Conv1D (GPT-2's transposed linear), Embedding, LayerNorm, RMSNorm, Dropout,
// and the activation functions by their Hugging Face names (ACT2FN).
//
// Every layer takes a ParamSource scoped to its own path; parameter field names (`weight`, `bias`)
// are the checkpoint's. Shapes follow PyTorch: Linear.weight [out, in], Embedding.weight [V, C].
// Glossary: N any leading dims, I in features, O out features, V vocabulary, C channels.
import { dropout, embedding, gelu, layerNorm, linear, linearInOut, relu, rmsNorm, silu, sigmoid, mul } from "../ops/index.js";
import { Generator, defaultGenerator } from "../tensor/rng.js";
import { Tensor } from "../tensor/tensor.js";
import { Module, Parameter, drawInit, initNormal, initOnes, initZeros, type Init, type ParamSource } from "./module.js";

export interface LinearOptions {
  bias?: boolean;
  /** Weight init (default normal(0, src.std), as HF's _init_weights). */
  weightInit?: Init;
}

/** y = x W^T + b, W [O, I] (torch.nn.Linear). */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  constructor(
    src: ParamSource,
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    this.weight = src.param("weight", [outFeatures, inFeatures], opts.weightInit ?? initNormal(src.std));
    this.bias = opts.bias ?? true ? src.param("bias", [outFeatures], initZeros) : null;
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias); // (N, I) -> (N, O)
  }
}

/**
 * GPT-2's Conv1D: a linear layer whose weight is stored [I, O] (transformers.pytorch_utils.Conv1D).
 * Kept as its own class so Hugging Face keys load without transposing; linearInOut reads the
 * weight in place and computes its gradient in the same [I, O] layout (no copy either way).
 */
export class Conv1D extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  constructor(
    src: ParamSource,
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { weightInit?: Init } = {},
  ) {
    super();
    this.weight = src.param("weight", [inFeatures, outFeatures], opts.weightInit ?? initNormal(src.std));
    this.bias = src.param("bias", [outFeatures], initZeros);
  }
  forward(x: Tensor): Tensor {
    return linearInOut(x, this.weight, this.bias); // (N, I) @ (I, O) + b -> (N, O)
  }
}

export class Embedding extends Module {
  readonly weight: Parameter;
  constructor(
    src: ParamSource,
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    /** Like torch's padding_idx: that row starts at zero and never receives gradient. */
    readonly paddingIdx: number | null = null,
    opts: { weightInit?: Init } = {},
  ) {
    super();
    const init = opts.weightInit ?? initNormal(src.std);
    // HF's _init_weights zeroes the padding row after the normal draw.
    const withPad: Init =
      paddingIdx === null || src.mode !== "init"
        ? init
        : {
            kind: "fill",
            fn: (out) => {
              out.set(drawInit(init, out.length, src.generator));
              out.fill(0, paddingIdx * embeddingDim, (paddingIdx + 1) * embeddingDim);
            },
          };
    this.weight = src.param("weight", [numEmbeddings, embeddingDim], withPad);
  }
  forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight, this.paddingIdx === null ? {} : { paddingIdx: this.paddingIdx }); // (N) -> (N, C)
  }
}

export class LayerNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  constructor(
    src: ParamSource,
    readonly dim: number,
    readonly eps = 1e-5,
    opts: { bias?: boolean } = {},
  ) {
    super();
    this.weight = src.param("weight", [dim], initOnes);
    this.bias = opts.bias ?? true ? src.param("bias", [dim], initZeros) : null;
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, [this.dim], this.weight, this.bias, this.eps);
  }
}

/** x / sqrt(mean(x^2) + eps) * weight (LlamaRMSNorm, T5LayerNorm). */
export class RMSNorm extends Module {
  readonly weight: Parameter;
  constructor(
    src: ParamSource,
    readonly dim: number,
    readonly eps = 1e-6,
  ) {
    super();
    this.weight = src.param("weight", [dim], initOnes);
  }
  forward(x: Tensor): Tensor {
    return rmsNorm(x, [this.dim], this.weight, this.eps);
  }
}

/** Inverted dropout, active only in training mode; draws from `generator` (default: the global one). */
export class Dropout extends Module {
  constructor(
    readonly p: number,
    readonly generator: Generator = defaultGenerator,
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p must be in [0, 1), got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return this.training && this.p > 0 ? dropout(x, this.p, true, this.generator) : x;
  }
}

export type Activation = (x: Tensor) => Tensor;

/**
 * Activation functions by their transformers ACT2FN names. An unknown name is an error listing
 * the known ones (a silently substituted activation would change the model's numbers).
 */
const ACTIVATIONS: Record<string, Activation> = {
  relu: (x) => relu(x),
  gelu: (x) => gelu(x, "none"), // exact erf form
  gelu_new: (x) => gelu(x, "tanh"), // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  gelu_pytorch_tanh: (x) => gelu(x, "tanh"),
  gelu_fast: (x) => gelu(x, "tanh"), // same formula with the constant folded
  silu: (x) => silu(x),
  swish: (x) => silu(x),
  quick_gelu: (x) => mul(x, sigmoid(mul(x, 1.702))),
};

export function activation(name: string): Activation {
  const f = ACTIVATIONS[name];
  if (!f) throw new Error(`activation: unsupported activation function "${name}" (supported: ${Object.keys(ACTIVATIONS).join(", ")})`);
  return f;
}

export function supportedActivations(): string[] {
  return Object.keys(ACTIVATIONS);
}
