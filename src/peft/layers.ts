// The layers parameter-efficient methods put into a frozen model: LoRA around Linear / Conv1D /
// Embedding, IA3 scaling vectors, trainable copies of whole modules (modules_to_save) and the
// bottleneck adapter. Field names mirror peft's module tree (peft 0.21, tuners/lora/layer.py,
// tuners/ia3/layer.py, utils/other.py ModulesToSaveWrapper), so a parameter's path here is the name
// peft's named_parameters() gives it: `<path>.base_layer.weight`, `<path>.lora_A.<adapter>.weight`,
// `<path>.lora_embedding_A.<adapter>`, `<path>.ia3_l.<adapter>`,
// `<path>.modules_to_save.<adapter>.weight`.
//
// Glossary: N leading dims, I in features, O out features, r LoRA rank, V vocabulary, C width.
import { add, dropout as dropoutOp, embedding, linear, mul, narrow } from "../ops/index.js";
import { Generator, defaultGenerator } from "../tensor/rng.js";
import { Tensor, formatShape } from "../tensor/tensor.js";
import { Conv1D, Embedding, Linear, activation, type Activation } from "../nn/layers.js";
import { Module, Parameter } from "../nn/module.js";

/** A module whose fields are named by adapter (peft's ModuleDict / ParameterDict). */
export class AdapterDict<T extends Module | Parameter> extends Module {
  [adapter: string]: unknown;
  get(name: string): T | undefined {
    return Object.prototype.hasOwnProperty.call(this, name) ? (this[name] as T) : undefined;
  }
  set(name: string, v: T): void {
    if (["training", "get", "set", "delete", "keys"].includes(name)) throw new Error(`adapter name "${name}" is reserved`);
    (this as Record<string, unknown>)[name] = v;
  }
  delete(name: string): void {
    delete (this as Record<string, unknown>)[name];
  }
  keys(): string[] {
    return Object.keys(this).filter((k) => k !== "training" && !k.startsWith("_"));
  }
}

/** A bare weight holder, like the bias-free nn.Linear peft uses for lora_A / lora_B: weight [O, I]. */
export class Weight extends Module {
  constructor(readonly weight: Parameter) {
    super();
  }
}

export type BaseLayer = Linear | Conv1D | Embedding;

/** Uniform(-bound, bound) values: torch's kaiming_uniform_(a=sqrt(5)) on a [*, fanIn] weight has bound 1/sqrt(fanIn). */
function uniform(n: number, bound: number, gen: Generator): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * gen.uniform() - 1) * bound;
  return out;
}
function normal(n: number, std: number, gen: Generator): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = std * gen.normal();
  return out;
}

/** Gives base parameters a new name (their path under base_layer) without copying them. */
function frozen(p: Parameter): Parameter {
  p.requiresGrad = false;
  return p;
}

// ---------------------------------------------------------------------------------------------
// LoRA

export interface LoraAdapterOptions {
  r: number;
  alpha: number;
  dropout: number;
  useRslora: boolean;
  init: boolean | "gaussian";
  generator?: Generator;
}

/**
 * y = base(x) + B(A(dropout(x))) * scaling for every active, unmerged adapter (Hu et al. 2021).
 * A [r, I], B [O, r]; scaling = alpha / r (or alpha / sqrt(r) with rsLoRA). For an Embedding base,
 * y = E[ids] + (A^T[ids] B^T) * scaling with A [r, V], B [C, r] (peft's lora_embedding_A / _B).
 */
export class LoraLayer extends Module {
  readonly base_layer: BaseLayer;
  readonly lora_A = new AdapterDict<Weight>();
  readonly lora_B = new AdapterDict<Weight>();
  readonly lora_embedding_A = new AdapterDict<Parameter>();
  readonly lora_embedding_B = new AdapterDict<Parameter>();
  readonly _scaling = new Map<string, number>();
  readonly _dropout = new Map<string, number>();
  readonly _r = new Map<string, number>();
  /** Adapters whose update is folded into base_layer's weight. */
  _merged: string[] = [];
  _active: string[] = [];
  _disabled = false;
  /** Weight stored [I, O] (Conv1D): the merge transposes the update. */
  readonly _fanInFanOut: boolean;
  readonly _dropGen: Generator;

  constructor(base: BaseLayer, readonly _path: string) {
    super();
    this.base_layer = base;
    this._fanInFanOut = base instanceof Conv1D;
    this._dropGen = defaultGenerator;
  }

  get isEmbedding(): boolean {
    return this.base_layer instanceof Embedding;
  }
  /** [in, out] features of the base layer (vocabulary and width for an embedding). */
  get dims(): [number, number] {
    const b = this.base_layer;
    return b instanceof Embedding ? [b.numEmbeddings, b.embeddingDim] : [b.inFeatures, b.outFeatures];
  }

  addAdapter(name: string, o: LoraAdapterOptions): void {
    const [I, O] = this.dims;
    const r = o.r;
    const gen = o.generator ?? defaultGenerator;
    this._r.set(name, r);
    this._scaling.set(name, o.useRslora ? o.alpha / Math.sqrt(r) : o.alpha / r);
    this._dropout.set(name, o.dropout);
    if (this.isEmbedding) {
      // peft: A zeros and B normal(0, 1) when initialised (the product starts at zero); both normal otherwise.
      const A = o.init === false ? normal(r * I, 1, gen) : new Float32Array(r * I);
      this.lora_embedding_A.set(name, new Parameter(A, [r, I], `${this._path}.lora_embedding_A.${name}`));
      this.lora_embedding_B.set(name, new Parameter(normal(O * r, 1, gen), [O, r], `${this._path}.lora_embedding_B.${name}`));
    } else {
      // A: kaiming-uniform (bound 1/sqrt(I)) or normal(0, 1/r) ("gaussian"); B: zeros, or nn.Linear's default init (bound 1/sqrt(r)) when init is false.
      const A = o.init === "gaussian" ? normal(r * I, 1 / r, gen) : uniform(r * I, 1 / Math.sqrt(I), gen);
      const B = o.init === false ? uniform(O * r, 1 / Math.sqrt(r), gen) : new Float32Array(O * r);
      this.lora_A.set(name, new Weight(new Parameter(A, [r, I], `${this._path}.lora_A.${name}.weight`)));
      this.lora_B.set(name, new Weight(new Parameter(B, [O, r], `${this._path}.lora_B.${name}.weight`)));
    }
    if (!this._active.length) this._active = [name];
  }

  deleteAdapter(name: string): void {
    if (this._merged.includes(name)) this.unmerge();
    for (const d of [this.lora_A, this.lora_B, this.lora_embedding_A, this.lora_embedding_B]) d.delete(name);
    this._active = this._active.filter((a) => a !== name);
  }

  adapterNames(): string[] {
    return [...this._r.keys()];
  }

  forward(x: Tensor): Tensor {
    let y = this.base_layer.forward(x); // (N, O) or (N, C) for an embedding
    if (this._disabled) {
      if (this._merged.length) throw new Error(`LoRA at "${this._path}": adapters are disabled but merged into the weights; unmerge first`);
      return y;
    }
    for (const name of this._active) {
      if (this._merged.includes(name) || !this._r.has(name)) continue;
      const s = this._scaling.get(name)!;
      if (this.isEmbedding) {
        const A = this.lora_embedding_A.get(name)!;
        const B = this.lora_embedding_B.get(name)!;
        const pad = (this.base_layer as Embedding).paddingIdx;
        const e = embedding(x, A.T, pad === null ? {} : { paddingIdx: pad }); // (N, r): rows of A^T
        y = add(y, mul(linear(e, B), s)); // (N, C)
      } else y = add(y, linear(this.loraDown(x, name), this.lora_B.get(name)!.weight)); // (N, O)
    }
    return y;
  }

  /**
   * A(dropout(x)) * scaling, (N, I) -> (N, r). The scaling is applied to this rank-r product rather
   * than to the (N, O) output as peft writes it: the same number up to float rounding, without
   * keeping two more (N, O) activations per layer for backward.
   */
  private loraDown(x: Tensor, name: string): Tensor {
    const p = this._dropout.get(name)!;
    const h = this.training && p > 0 ? dropoutOp(x, p, true, this._dropGen) : x;
    return mul(linear(h, this.lora_A.get(name)!.weight), this._scaling.get(name)!); // (N, r)
  }

  /**
   * Output columns [start, start + len) of forward(x) without computing the others (GPT-2's fused
   * c_attn is split into q, k, v this way, as its attention does for the plain Conv1D).
   */
  forwardColumns(x: Tensor, start: number, len: number): Tensor {
    const b = this.base_layer;
    if (b instanceof Embedding) throw new Error(`LoRA at "${this._path}": forwardColumns is for Linear / Conv1D layers`);
    const W = b instanceof Conv1D ? narrow(b.weight, 1, start, len).T : narrow(b.weight, 0, start, len); // (len, I)
    let y = linear(x, W, b.bias ? narrow(b.bias, 0, start, len) : null); // (N, len)
    if (this._disabled) return y;
    for (const name of this._active) {
      if (this._merged.includes(name) || !this._r.has(name)) continue;
      y = add(y, linear(this.loraDown(x, name), narrow(this.lora_B.get(name)!.weight, 0, start, len))); // (N, r) -> (N, len)
    }
    return y;
  }

  /** delta W = scaling * B A, laid out like base_layer.weight ([O, I] Linear, [I, O] Conv1D, [V, C] Embedding). */
  deltaWeight(name: string): Float32Array {
    const [I, O] = this.dims;
    const r = this._r.get(name)!;
    const s = this._scaling.get(name)!;
    const emb = this.isEmbedding;
    const A = (emb ? this.lora_embedding_A.get(name)! : this.lora_A.get(name)!.weight).toTypedArray() as Float32Array; // (r, I)
    const B = (emb ? this.lora_embedding_B.get(name)! : this.lora_B.get(name)!.weight).toTypedArray() as Float32Array; // (O, r)
    const transposed = emb || this._fanInFanOut; // stored [I, O]
    const out = new Float32Array(I * O);
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < I; i++) {
        let acc = 0;
        for (let k = 0; k < r; k++) acc += B[o * r + k] * A[k * I + i];
        out[transposed ? i * O + o : o * I + i] = acc * s;
      }
    }
    return out;
  }

  /** Folds the active adapters into base_layer.weight in place (inference without the extra GEMMs). */
  merge(names: string[] = this._active): void {
    const w = this.base_layer.weight;
    const data = w.data as Float32Array;
    for (const n of names) {
      if (this._merged.includes(n) || !this._r.has(n)) continue;
      const d = this.deltaWeight(n);
      for (let i = 0; i < d.length; i++) data[w.offset + i] += d[i];
      this._merged.push(n);
    }
  }

  /** Subtracts the merged adapters again (the inverse of merge up to float rounding). */
  unmerge(): void {
    const w = this.base_layer.weight;
    const data = w.data as Float32Array;
    while (this._merged.length) {
      const d = this.deltaWeight(this._merged.pop()!);
      for (let i = 0; i < d.length; i++) data[w.offset + i] -= d[i];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// IA3

/**
 * IA3 (Liu et al. 2022): a learned vector rescales a layer's output, y = base(x) * l with l [O, 1]
 * stored as peft does, or, for feed-forward layers, its input, y = base(x * l) with l [1, I].
 */
export class IA3Layer extends Module {
  readonly base_layer: Linear | Conv1D;
  readonly ia3_l = new AdapterDict<Parameter>();
  _active: string[] = [];
  _disabled = false;
  constructor(
    base: Linear | Conv1D,
    readonly _path: string,
    readonly _feedforward: boolean,
  ) {
    super();
    this.base_layer = base;
  }
  addAdapter(name: string, init: boolean, gen: Generator = defaultGenerator): void {
    const b = this.base_layer;
    const shape = this._feedforward ? [1, b.inFeatures] : [b.outFeatures, 1];
    const n = shape[0] * shape[1];
    // peft: ones (the identity) when init_ia3_weights, else the normal(0, 1) draw it creates the vector with.
    const v = init ? new Float32Array(n).fill(1) : normal(n, 1, gen);
    this.ia3_l.set(name, new Parameter(v, shape, `${this._path}.ia3_l.${name}`));
    if (!this._active.length) this._active = [name];
  }
  adapterNames(): string[] {
    return this.ia3_l.keys();
  }
  _merged: string[] = [];

  /**
   * Folds the vectors into the weights (peft's IA3 merge): an output vector scales the rows of the
   * weight and the bias, a feed-forward (input) vector its columns. Unmerge divides again.
   */
  merge(names: string[] = this._active): void {
    for (const n of names) {
      if (this._merged.includes(n) || !this.ia3_l.get(n)) continue;
      this.scaleWeights(this.ia3_l.get(n)!.toTypedArray() as Float32Array, false);
      this._merged.push(n);
    }
  }
  unmerge(): void {
    while (this._merged.length) this.scaleWeights(this.ia3_l.get(this._merged.pop()!)!.toTypedArray() as Float32Array, true);
  }
  private scaleWeights(l: Float32Array, inverse: boolean): void {
    const b = this.base_layer;
    const [I, O] = [b.inFeatures, b.outFeatures];
    const w = b.weight.data as Float32Array;
    const off = b.weight.offset;
    const f = (v: number) => (inverse ? 1 / v : v);
    const conv = b instanceof Conv1D; // weight [I, O] instead of [O, I]
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < I; i++) {
        const k = off + (conv ? i * O + o : o * I + i);
        w[k] = inverse ? w[k] / l[this._feedforward ? i : o] : w[k] * l[this._feedforward ? i : o];
      }
    }
    if (!this._feedforward && b.bias) {
      const bd = b.bias.data as Float32Array;
      for (let o = 0; o < O; o++) bd[b.bias.offset + o] *= f(l[o]);
    }
  }

  forward(x: Tensor): Tensor {
    if (this._disabled) {
      if (this._merged.length) throw new Error(`IA3 at "${this._path}": adapters are disabled but merged into the weights; unmerge first`);
      return this.base_layer.forward(x);
    }
    const names = this._active.filter((a) => this.ia3_l.get(a) && !this._merged.includes(a));
    if (!names.length) return this.base_layer.forward(x);
    let l: Tensor = this.ia3_l.get(names[0])!.reshape([-1]);
    for (const n of names.slice(1)) l = mul(l, this.ia3_l.get(n)!.reshape([-1]));
    return this._feedforward ? this.base_layer.forward(mul(x, l)) : mul(this.base_layer.forward(x), l); // (N, I) * (I) or (N, O) * (O)
  }

  /** Output columns [start, start + len) of forward(x) (see LoraLayer.forwardColumns). */
  forwardColumns(x: Tensor, start: number, len: number): Tensor {
    const b = this.base_layer;
    const names = this._disabled ? [] : this._active.filter((a) => this.ia3_l.get(a) && !this._merged.includes(a));
    let l: Tensor | null = null;
    for (const n of names) l = l ? mul(l, this.ia3_l.get(n)!.reshape([-1])) : this.ia3_l.get(n)!.reshape([-1]);
    const xin = l && this._feedforward ? mul(x, l) : x;
    const W = b instanceof Conv1D ? narrow(b.weight, 1, start, len).T : narrow(b.weight, 0, start, len); // (len, I)
    const y = linear(xin, W, b.bias ? narrow(b.bias, 0, start, len) : null); // (N, len)
    return l && !this._feedforward ? mul(y, narrow(l, 0, start, len)) : y;
  }
}

// ---------------------------------------------------------------------------------------------
// modules_to_save

/** A deep copy of a module tree: parameters get their own storage, everything else is shared. */
export function cloneModule<T extends Module>(m: T, params = new Map<Parameter, Parameter>()): T {
  const out = Object.create(Object.getPrototypeOf(m)) as T;
  for (const [k, v] of Object.entries(m)) {
    let c: unknown = v;
    if (v instanceof Parameter) {
      if (!params.has(v)) {
        const p = new Parameter(new Float32Array(v.toTypedArray() as Float32Array), v.shape, v.name);
        params.set(v, p);
      }
      c = params.get(v);
    } else if (v instanceof Module) c = cloneModule(v, params);
    else if (Array.isArray(v)) c = v.map((x) => (x instanceof Module ? cloneModule(x, params) : x));
    (out as Record<string, unknown>)[k] = c;
  }
  return out;
}

/**
 * peft's ModulesToSaveWrapper: the frozen original plus one trainable copy per adapter; forward
 * and field reads (model code that reads `lm_head.weight` directly) go to the active copy.
 */
export class ModulesToSaveWrapper extends Module {
  readonly original_module: Module;
  readonly modules_to_save = new AdapterDict<Module>();
  _active: string | null = null;
  _disabled = false;
  constructor(original: Module) {
    super();
    this.original_module = original;
    for (const p of original.parameters()) p.requiresGrad = false;
    // Delegating getters for the wrapped module's own fields; non-enumerable, so the parameter walk
    // sees them only under original_module / modules_to_save.
    for (const k of Object.keys(original)) {
      if (k === "training" || k in this) continue;
      Object.defineProperty(this, k, { enumerable: false, configurable: true, get: () => (this.current() as unknown as Record<string, unknown>)[k] });
    }
  }
  addAdapter(name: string): void {
    const copy = cloneModule(this.original_module);
    for (const p of copy.parameters()) p.requiresGrad = true;
    this.modules_to_save.set(name, copy);
    if (this._active === null) this._active = name;
  }
  current(): Module {
    return this._disabled || this._active === null ? this.original_module : (this.modules_to_save.get(this._active) ?? this.original_module);
  }
  forward(...args: unknown[]): unknown {
    const m = this.current() as unknown as { forward: (...a: unknown[]) => unknown };
    return m.forward(...args);
  }
}

// ---------------------------------------------------------------------------------------------
// Bottleneck adapter

/** h + up(act(down(h))): down [m, C], up [C, m] with biases (Houlsby et al. 2019). */
export class BottleneckAdapter extends Module {
  readonly down: Linear;
  readonly up: Linear;
  readonly _act: Activation;
  constructor(down: Linear, up: Linear, act: string) {
    super();
    this.down = down;
    this.up = up;
    this._act = activation(act);
  }
  forward(h: Tensor): Tensor {
    if (h.shape[h.ndim - 1] !== this.down.inFeatures) throw new Error(`BottleneckAdapter: input ${formatShape(h.shape)} does not end in ${this.down.inFeatures}`);
    return add(h, this.up.forward(this._act(this.down.forward(h)))); // (N, C) -> (N, m) -> (N, C)
  }
}
