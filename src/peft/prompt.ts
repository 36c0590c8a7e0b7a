// Prompt-learning encoders: prefix tuning's PrefixEncoder (Li & Liang 2021) and prompt tuning's
// PromptEmbedding (Lester et al. 2021), with peft's field names (tuners/prefix_tuning/model.py,
// tuners/prompt_tuning/model.py) so parameter paths equal peft's `prompt_encoder.<adapter>.*`.
//
// Glossary: n num_virtual_tokens, L num_layers, C token_dim, E encoder_hidden_size, Hp prefix
// heads (num_attention_heads; key/value heads for grouped-query models), D = C / Hp.
import { tanh } from "../ops/index.js";
import { Generator, defaultGenerator } from "../tensor/rng.js";
import { Tensor } from "../tensor/tensor.js";
import { Linear } from "../nn/layers.js";
import { Module, Parameter, ParamSource } from "../nn/module.js";

/** Holds `weight` like torch.nn.Embedding (only the whole table is ever used). */
export class EmbeddingTable extends Module {
  constructor(readonly weight: Parameter) {
    super();
  }
}

/** peft's transform = Sequential(Linear, Tanh, Linear): fields "0" and "2" are the checkpoint's. */
export class PrefixTransform extends Module {
  constructor(first: Linear, second: Linear) {
    super();
    Object.assign(this, { "0": first, "2": second });
  }
  forward(x: Tensor): Tensor {
    const self = this as unknown as Record<string, Linear>;
    return self["2"].forward(tanh(self["0"].forward(x))); // (n, C) -> (n, E) -> (n, 2 L C)
  }
}

/**
 * The prefix: past keys and values for every layer, [n, 2 L C] rows. Without projection they are
 * the embedding itself; with prefix_projection (while training) a two-layer tanh MLP maps an
 * [n, C] embedding to them. peft saves only the resulting [n, 2 L C] table (inference_mode then
 * rebuilds the plain embedding), which is what `fromSaved` loads.
 */
export class PrefixEncoder extends Module {
  readonly embedding: EmbeddingTable;
  readonly transform: PrefixTransform | null;
  constructor(opts: { n: number; C: number; L: number; projection: boolean; E: number | null; generator?: Generator }) {
    super();
    const gen = opts.generator ?? defaultGenerator;
    const out = 2 * opts.L * opts.C;
    const src = ParamSource.init({ generator: gen });
    if (opts.projection) {
      const E = opts.E!;
      this.embedding = new EmbeddingTable(randn([opts.n, opts.C], gen));
      // torch.nn.Linear's default init: uniform(+-1/sqrt(fan_in)) for weight and bias.
      const lin = (I: number, O: number) => {
        const l = new Linear(src, I, O, { weightInit: { kind: "uniform", low: -1 / Math.sqrt(I), high: 1 / Math.sqrt(I) } });
        const b = l.bias!.data as Float32Array;
        for (let i = 0; i < b.length; i++) b[i] = (2 * gen.uniform() - 1) / Math.sqrt(I);
        return l;
      };
      this.transform = new PrefixTransform(lin(opts.C, E), lin(E, out));
    } else {
      this.embedding = new EmbeddingTable(randn([opts.n, out], gen));
      this.transform = null;
    }
  }
  /** The [n, 2 L C] past keys/values table. */
  forward(): Tensor {
    return this.transform ? this.transform.forward(this.embedding.weight) : this.embedding.weight;
  }
}

/** Virtual token embeddings [n, C], prepended to the input embeddings. */
export class PromptEmbedding extends Module {
  readonly embedding: EmbeddingTable;
  constructor(init: Float32Array, n: number, C: number) {
    super();
    this.embedding = new EmbeddingTable(new Parameter(init, [n, C]));
  }
  forward(): Tensor {
    return this.embedding.weight; // (n, C)
  }
}

/** normal(0, 1) as torch.nn.Embedding initialises. */
export function randn(shape: number[], gen: Generator): Parameter {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = gen.normal();
  return new Parameter(out, shape);
}
