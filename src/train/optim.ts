// Optimizers: SGD (momentum, weight decay) and AdamW, with PyTorch's semantics (torch.optim.SGD and
// torch.optim.AdamW, non-fused), over parameter groups.
//
// Parameters are updated in place in their own storage (leaf tensors own contiguous storage).
// AdamW runs the fused `adamw` kernel once per parameter; a parameter without a gradient is skipped
// (its step count still advances with the group, as in PyTorch's per-parameter state it does not).
import { kernels } from "../kernels/index.js";
import { Tensor, formatShape } from "../tensor/tensor.js";

export interface ParamGroup<O> {
  params: Tensor[];
  options: O;
}

type GroupSpec<O> = Tensor[] | ({ params: Tensor[] } & Partial<O>)[];

function contiguousStorage(p: Tensor, who: string, index: number): Float32Array {
  if (p.dtype !== "float32") throw new Error(`${who}: parameter ${p.name ?? index} is ${p.dtype}, expected float32`);
  if (!p.isContiguous()) throw new Error(`${who}: parameter ${p.name ?? index} of shape ${formatShape(p.shape)} is not contiguous`);
  const d = p.data as Float32Array;
  return p.offset === 0 && d.length === p.size ? d : d.subarray(p.offset, p.offset + p.size);
}

function gradOf(p: Tensor, who: string, index: number): Float32Array | null {
  if (!p.grad) return null;
  const g = p.grad;
  if (g.size !== p.size) throw new Error(`${who}: gradient of parameter ${p.name ?? index} has shape ${formatShape(g.shape)}, the parameter ${formatShape(p.shape)}`);
  const c = g.isContiguous() ? g : null;
  if (!c) return g.toTypedArray() as Float32Array;
  const d = c.data as Float32Array;
  return c.offset === 0 && d.length === c.size ? d : d.subarray(c.offset, c.offset + c.size);
}

function buildGroups<O extends object>(who: string, spec: GroupSpec<O>, defaults: O, validate: (o: O) => void): ParamGroup<O>[] {
  if (!Array.isArray(spec) || spec.length === 0) throw new Error(`${who}: expected a non-empty list of parameters or parameter groups`);
  const groups: ParamGroup<O>[] =
    spec[0] instanceof Tensor
      ? [{ params: spec as Tensor[], options: { ...defaults } }]
      : (spec as ({ params: Tensor[] } & Partial<O>)[]).map((g) => {
          const { params, ...rest } = g;
          return { params, options: { ...defaults, ...(rest as Partial<O>) } };
        });
  const seen = new Set<Tensor>();
  groups.forEach((g, gi) => {
    validate(g.options);
    g.params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new Error(`${who}: group ${gi} entry ${i} is not a Tensor`);
      if (!p.requiresGrad) throw new Error(`${who}: parameter ${p.name ?? i} in group ${gi} does not require grad`);
      if (seen.has(p)) throw new Error(`${who}: parameter ${p.name ?? i} appears in more than one group`);
      seen.add(p);
    });
  });
  return groups;
}

export interface SGDOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
  dampening: number;
  nesterov: boolean;
}

export class SGD {
  readonly paramGroups: ParamGroup<SGDOptions>[];
  private buf = new Map<Tensor, Float32Array>();

  constructor(params: GroupSpec<SGDOptions>, opts: Partial<SGDOptions> & { lr: number }) {
    const defaults: SGDOptions = { momentum: 0, weightDecay: 0, dampening: 0, nesterov: false, ...opts };
    this.paramGroups = buildGroups("SGD", params, defaults, (o) => {
      if (!(o.lr >= 0)) throw new Error(`SGD: lr must be >= 0, got ${o.lr}`);
      if (!(o.momentum >= 0)) throw new Error(`SGD: momentum must be >= 0, got ${o.momentum}`);
      if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) throw new Error("SGD: nesterov needs momentum > 0 and dampening 0");
    });
  }

  step(): void {
    for (const { params, options: o } of this.paramGroups) {
      params.forEach((p, i) => {
        const g = gradOf(p, "SGD", i);
        if (!g) return;
        const w = contiguousStorage(p, "SGD", i);
        const n = w.length;
        let d = g;
        if (o.weightDecay !== 0) {
          d = new Float32Array(n);
          for (let j = 0; j < n; j++) d[j] = g[j] + o.weightDecay * w[j];
        }
        if (o.momentum !== 0) {
          let b = this.buf.get(p);
          if (!b) {
            b = Float32Array.from(d);
            this.buf.set(p, b);
          } else for (let j = 0; j < n; j++) b[j] = o.momentum * b[j] + (1 - o.dampening) * d[j];
          if (o.nesterov) {
            const nd = new Float32Array(n);
            for (let j = 0; j < n; j++) nd[j] = d[j] + o.momentum * b[j];
            d = nd;
          } else d = b;
        }
        for (let j = 0; j < n; j++) w[j] -= o.lr * d[j];
      });
    }
  }

  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = null;
  }
}

export interface AdamWOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

export interface AdamState {
  step: number;
  m: Float32Array;
  v: Float32Array;
}

export class AdamW {
  readonly paramGroups: ParamGroup<AdamWOptions>[];
  private state = new Map<Tensor, AdamState>();

  constructor(params: GroupSpec<AdamWOptions>, opts: Partial<AdamWOptions> = {}) {
    const defaults: AdamWOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, ...opts };
    this.paramGroups = buildGroups("AdamW", params, defaults, (o) => {
      if (!(o.lr >= 0)) throw new Error(`AdamW: lr must be >= 0, got ${o.lr}`);
      if (!(o.eps >= 0)) throw new Error(`AdamW: eps must be >= 0, got ${o.eps}`);
      const [b1, b2] = o.betas;
      if (!(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1)) throw new Error(`AdamW: betas must be in [0, 1), got [${b1}, ${b2}]`);
      if (!(o.weightDecay >= 0)) throw new Error(`AdamW: weightDecay must be >= 0, got ${o.weightDecay}`);
    });
  }

  step(): void {
    const k = kernels();
    for (const { params, options: o } of this.paramGroups) {
      params.forEach((p, i) => {
        const g = gradOf(p, "AdamW", i);
        if (!g) return;
        const w = contiguousStorage(p, "AdamW", i);
        let s = this.state.get(p);
        if (!s) {
          s = { step: 0, m: new Float32Array(w.length), v: new Float32Array(w.length) };
          this.state.set(p, s);
        }
        s.step++;
        k.adamw(w, g, s.m, s.v, w.length, o.lr, o.betas[0], o.betas[1], o.eps, o.weightDecay, s.step);
      });
    }
  }

  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = null;
  }

  /** A parameter's moments and step count (for checkpoints); undefined before its first step. */
  getState(p: Tensor): AdamState | undefined {
    return this.state.get(p);
  }

  /** Restores a parameter's moments and step count (for resuming). */
  setState(p: Tensor, s: AdamState): void {
    if (s.m.length !== p.size || s.v.length !== p.size) throw new Error(`AdamW.setState: moments of ${s.m.length} elements for parameter ${p.name ?? ""} of ${p.size}`);
    this.state.set(p, { step: s.step, m: s.m, v: s.v });
  }
}
