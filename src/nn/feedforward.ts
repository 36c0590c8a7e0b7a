// Position-wise feed-forward networks: the two-layer MLP (ReLU / GELU, the original Transformer,
// BERT, GPT-2 through Conv1D in its own file) and the gated MLP (SwiGLU for LLaMA,
// gated-GELU for T5 v1.1): down(act(gate(x)) * up(x)).
//
// Glossary: N leading dims, C model width, F inner width (intermediate_size / d_ff / n_inner).
// Projection field names are the checkpoint's, passed in by the model.
import { mul } from "../ops/index.js";
import { Tensor } from "../tensor/tensor.js";
import { Dropout, Linear, activation, type Activation } from "./layers.js";
import { Module, type Init, type ParamSource } from "./module.js";

export interface FeedForwardOptions {
  dModel: number;
  dFF: number;
  /** transformers ACT2FN name: relu, gelu, gelu_new, silu, ... */
  act: string;
  bias?: boolean;
  /** Field names = checkpoint key segments (default { up: "up_proj", down: "down_proj" }). */
  names?: { up: string; down: string };
  /** Dropout after the activation (T5, the original Transformer); 0 by default. */
  dropout?: number;
  downInit?: Init;
}

/** down(dropout(act(up(x)))): (N, C) -> (N, F) -> (N, C). */
export class FeedForward extends Module {
  readonly _up: Linear;
  readonly _down: Linear;
  readonly _act: Activation;
  readonly _drop: Dropout;
  constructor(src: ParamSource, opts: FeedForwardOptions) {
    super();
    const n = opts.names ?? { up: "up_proj", down: "down_proj" };
    const bias = opts.bias ?? true;
    this._act = activation(opts.act);
    this._up = new Linear(src.at(n.up), opts.dModel, opts.dFF, { bias });
    this._down = new Linear(src.at(n.down), opts.dFF, opts.dModel, { bias, ...(opts.downInit ? { weightInit: opts.downInit } : {}) });
    this._drop = new Dropout(opts.dropout ?? 0);
    Object.assign(this, { [n.up]: this._up, [n.down]: this._down });
  }
  forward(x: Tensor): Tensor {
    this._drop.training = this.training;
    return this._down.forward(this._drop.forward(this._act(this._up.forward(x))));
  }
}

export interface GatedFeedForwardOptions extends Omit<FeedForwardOptions, "names"> {
  /** Default { gate: "gate_proj", up: "up_proj", down: "down_proj" } (LLaMA). */
  names?: { gate: string; up: string; down: string };
}

/** down(act(gate(x)) * up(x)) (SwiGLU with act "silu"). (N, C) -> (N, F) -> (N, C). */
export class GatedFeedForward extends Module {
  readonly _gate: Linear;
  readonly _up: Linear;
  readonly _down: Linear;
  readonly _act: Activation;
  readonly _drop: Dropout;
  constructor(src: ParamSource, opts: GatedFeedForwardOptions) {
    super();
    const n = opts.names ?? { gate: "gate_proj", up: "up_proj", down: "down_proj" };
    const bias = opts.bias ?? false;
    this._act = activation(opts.act);
    this._gate = new Linear(src.at(n.gate), opts.dModel, opts.dFF, { bias });
    this._up = new Linear(src.at(n.up), opts.dModel, opts.dFF, { bias });
    this._down = new Linear(src.at(n.down), opts.dFF, opts.dModel, { bias, ...(opts.downInit ? { weightInit: opts.downInit } : {}) });
    this._drop = new Dropout(opts.dropout ?? 0);
    Object.assign(this, { [n.gate]: this._gate, [n.up]: this._up, [n.down]: this._down });
  }
  forward(x: Tensor): Tensor {
    this._drop.training = this.training;
    const h = mul(this._act(this._gate.forward(x)), this._up.forward(x)); // (N, F)
    return this._down.forward(this._drop.forward(h));
  }
}
