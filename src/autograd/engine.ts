// Reverse-mode automatic differentiation: the tape, backward(), grad mode and anomaly mode.
//
// Ops (src/ops) call `record` to attach a GradFn to their output when gradients are enabled and an
// input requires them. backward() walks the graph from a root in reverse topological order, runs
// each GradFn once with the summed gradient of its output, and accumulates into the .grad of leaf
// tensors that require gradients (so calling backward twice on fresh graphs adds, as in PyTorch).
// After backward the graph's saved tensors are released unless retainGraph is set; a second
// backward through a released graph is an error, never silently wrong.
import { Tensor, formatShape, type GradFn } from "../tensor/tensor.js";
import { emptyF32 } from "../tensor/storage.js";
import { contiguousRaw } from "../tensor/views.js";
import { BinaryOp, kernels } from "../kernels/index.js";

let gradEnabled = true;
let anomalyEnabled = false;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn with gradient recording off (like torch.no_grad); fn must be synchronous. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs fn with gradient recording on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function setGradEnabled(on: boolean): void {
  gradEnabled = on;
}

/**
 * Anomaly mode (like torch.autograd.detect_anomaly): every op checks its output, and backward
 * every gradient, for NaN or infinity, and throws an error naming the first op that produced one.
 * Slow; for debugging.
 */
export function setAnomalyMode(on: boolean): void {
  anomalyEnabled = on;
}

export function isAnomalyEnabled(): boolean {
  return anomalyEnabled;
}

export function detectAnomaly<T>(fn: () => T): T {
  const prev = anomalyEnabled;
  anomalyEnabled = true;
  try {
    return fn();
  } finally {
    anomalyEnabled = prev;
  }
}

export class AnomalyError extends Error {
  constructor(
    message: string,
    readonly op: string,
  ) {
    super(message);
    this.name = "AnomalyError";
  }
}

function firstNonFinite(t: Tensor): number {
  if (t.dtype !== "float32") return -1;
  const d = contiguousRaw(t);
  const n = d.size;
  for (let i = 0; i < n; i++) {
    const v = d.data[d.offset + i];
    if (v !== v || v === Infinity || v === -Infinity) return i;
  }
  return -1;
}

function describeBad(t: Tensor, i: number): string {
  const v = contiguousRaw(t).data[contiguousRaw(t).offset + i];
  return `${Number.isNaN(v) ? "NaN" : v > 0 ? "inf" : "-inf"} at flat index ${i} of shape ${formatShape(t.shape)}`;
}

/** Checks an op's forward output in anomaly mode. */
export function checkForward(op: string, out: Tensor): void {
  if (!anomalyEnabled) return;
  const i = firstNonFinite(out);
  if (i >= 0) throw new AnomalyError(`anomaly: ${op} produced ${describeBad(out, i)} in its forward output`, op);
}

/**
 * Attaches the graph node to `out` when recording and some input requires grad. Returns out.
 * `backward` receives dLoss/dOut (same shape as out, contiguous float32) and returns one gradient
 * (or null) per entry of `inputs`, each of that input's shape.
 */
export function record(op: string, out: Tensor, inputs: readonly (Tensor | null | undefined)[], backward: (g: Tensor) => (Tensor | null)[]): Tensor {
  checkForward(op, out);
  if (!gradEnabled) return out;
  let any = false;
  const ins: (Tensor | null)[] = inputs.map((t) => {
    if (t && t.requiresGrad) {
      any = true;
      return t;
    }
    return null;
  });
  if (!any) return out;
  out.requiresGrad = true;
  out.gradFn = { name: op, inputs: ins, backward };
  return out;
}

/**
 * What a node becomes once its backward has run (without retainGraph): its name, and an error if
 * anything tries to run it again. It keeps no inputs, so the activations behind it are no longer
 * reachable through the output (e.g. a loss the caller still holds) and are freed during the pass.
 */
function releasedNode(name: string): GradFn {
  return {
    name,
    inputs: [],
    backward() {
      throw new Error(
        `backward: trying to go through the graph of ${name} a second time; its saved tensors were released. ` +
          "Pass { retainGraph: true } to the first backward() if you need to call it twice.",
      );
    },
  };
}

export interface BackwardOptions {
  /** Keep the graph (and its saved tensors) so that backward can run through it again. */
  retainGraph?: boolean;
}

/**
 * a + b for two gradients of one shape, through the kernels: into new storage, or into `into`
 * (a itself, contiguous, owned by the caller; the elementwise kernel reads each element before
 * writing it).
 */
function addInto(a: Tensor, b: Tensor, into?: Tensor): Tensor {
  const n = a.size;
  const ad = contiguousRaw(a);
  const bd = contiguousRaw(b);
  const flat = Int32Array.of(n);
  const unit = Int32Array.of(1);
  if (into) {
    const d = into.data as Float32Array;
    kernels().binary(BinaryOp.Add, flat, ad.data as Float32Array, ad.offset, unit, bd.data as Float32Array, bd.offset, unit, into.offset === 0 && d.length === n ? d : d.subarray(into.offset, into.offset + n));
    return into;
  }
  const out = emptyF32(n);
  kernels().binary(BinaryOp.Add, flat, ad.data as Float32Array, ad.offset, unit, bd.data as Float32Array, bd.offset, unit, out);
  return new Tensor(out, a.shape);
}

/**
 * Backpropagates from `root`. Without `gradient`, root must have one element (the loss) and its
 * gradient is 1. Leaf tensors that require grad receive (accumulate into) their `.grad`.
 */
export function backward(root: Tensor, gradient?: Tensor, opts: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new Error("backward: the tensor does not require grad and has no grad_fn (did you compute it inside noGrad, or from tensors without requiresGrad?)");
  }
  let g0: Tensor;
  if (gradient !== undefined && gradient !== null) {
    if (!(gradient instanceof Tensor)) throw new Error("backward: gradient must be a Tensor (pass options as the third argument)");
    if (gradient.shape.length !== root.shape.length || gradient.shape.some((d, i) => d !== root.shape[i])) {
      throw new Error(`backward: gradient shape ${formatShape(gradient.shape)} does not match the tensor's shape ${formatShape(root.shape)}`);
    }
    g0 = contiguousRaw(gradient);
  } else {
    if (root.size !== 1) {
      throw new Error(`backward: a gradient can be implied only for a one-element tensor; this one has shape ${formatShape(root.shape)}, pass the gradient explicitly`);
    }
    g0 = new Tensor(new Float32Array([1]), root.shape);
  }

  // Topological order by iterative depth-first search (post-order), over tensors with a gradFn.
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const ins = t.gradFn ? t.gradFn.inputs : [];
    if (i < ins.length) {
      top[1]++;
      const child = ins[i];
      if (child && child.gradFn && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
      continue;
    }
    stack.pop();
    order.push(t);
  }

  const grads = new Map<Tensor, Tensor>();
  grads.set(root, g0);
  // Leaves whose .grad this pass created: a second contribution (a tied embedding's two uses,
  // a parameter used twice) is added in place when no other gradient shares that storage,
  // instead of allocating a third buffer of the parameter's size.
  const ownLeaves = new Set<Tensor>();
  const sharedStorage = (t: Tensor, g: Tensor): boolean => {
    const buf = t.grad!.data.buffer;
    if (g.data.buffer === buf || g0.data.buffer === buf) return true;
    for (const v of grads.values()) if (v.data.buffer === buf) return true;
    for (const l of ownLeaves) if (l !== t && l.grad && l.grad.data.buffer === buf) return true;
    return false;
  };
  const accumulate = (t: Tensor, g: Tensor) => {
    if (t.gradFn) {
      const prev = grads.get(t);
      grads.set(t, prev ? addInto(prev, g) : g);
    } else if (t.requiresGrad) {
      if (t.grad && ownLeaves.has(t) && t.grad.isContiguous() && !sharedStorage(t, g)) addInto(t.grad, g, t.grad);
      else {
        t.grad = t.grad ? addInto(t.grad, g) : g;
        ownLeaves.add(t);
      }
    }
  };

  const prevMode = gradEnabled;
  gradEnabled = false;
  try {
    if (!root.gradFn) {
      accumulate(root, g0);
      return;
    }
    // Nodes leave `order` as they run, so that an activation nobody else holds (the user, a later
    // node's saved inputs) is garbage as soon as its own backward has run, not at the end of the pass.
    visited.clear();
    while (order.length > 0) {
      const t = order.pop()!;
      const fn = t.gradFn!;
      const g = grads.get(t);
      grads.delete(t);
      if (!g) continue;
      const inGrads = fn.backward(g);
      if (inGrads.length !== fn.inputs.length) {
        throw new Error(`backward: ${fn.name} returned ${inGrads.length} gradients for ${fn.inputs.length} inputs`);
      }
      for (let j = 0; j < inGrads.length; j++) {
        const input = fn.inputs[j];
        const gi = inGrads[j];
        if (!input || !gi) continue;
        if (gi.shape.length !== input.shape.length || gi.shape.some((d, q) => d !== input.shape[q])) {
          throw new Error(`backward: ${fn.name} produced a gradient of shape ${formatShape(gi.shape)} for input ${j} of shape ${formatShape(input.shape)}`);
        }
        if (anomalyEnabled) {
          const bad = firstNonFinite(gi);
          if (bad >= 0) throw new AnomalyError(`anomaly: the backward of ${fn.name} produced ${describeBad(gi, bad)} in the gradient of input ${j}`, fn.name);
        }
        accumulate(input, contiguousRaw(gi));
      }
      if (!opts.retainGraph) t.gradFn = releasedNode(fn.name);
    }
  } finally {
    gradEnabled = prevMode;
  }
}

/** A tensor sharing storage with `t` but cut from the graph (no gradient flows through it). */
export function detach(t: Tensor): Tensor {
  const d = new Tensor(t.data, t.shape, t.strides, t.offset);
  d.name = t.name;
  return d;
}
