// Every op, forward and backward, against PyTorch on the committed fixtures (fixtures/ops/*.json,
// made by tools/golden/ops.py), on both kernel sets.
//
// For each case: build the base inputs, apply the recorded views (transpose, slice, expand, ...),
// run the op, compare outputs; then backpropagate the recorded upstream gradients and compare the
// gradients of the base tensors.
import { describe, expect, it, beforeAll } from "vitest";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import * as T from "../../src/index.js";
import { Tensor, useKernels } from "../../src/index.js";
import { KERNEL_SETS, assertTensorClose, fixtureF32, readJSON, repoRoot, type CloseOptions } from "../helpers.js";

interface FT {
  shape: number[];
  dtype: "float32" | "int64" | "bool";
  data: (number | string | boolean)[];
}
interface FInput extends FT {
  requires_grad: boolean;
  view: (string | number | number[])[][];
}
interface Case {
  name: string;
  op: string;
  inputs: FInput[];
  attrs: Record<string, unknown>;
  outputs: FT[];
  grad_outputs: (FT | null)[];
  grads: (FT | null)[];
}

// Tolerances, |tslm - torch| <= atol + rtol * |torch|. Both sides compute in float32; differences
// come from summation order (GEMM blocking, reductions) and transcendental implementations.
const TOL: Record<string, { out: CloseOptions; grad: CloseOptions }> = {
  default: { out: { atol: 1e-6, rtol: 1e-5 }, grad: { atol: 1e-5, rtol: 1e-4 } },
  // K up to 97 terms per dot product.
  matmul: { out: { atol: 2e-5, rtol: 1e-4 }, grad: { atol: 5e-5, rtol: 1e-4 } },
  linear: { out: { atol: 2e-5, rtol: 1e-4 }, grad: { atol: 5e-5, rtol: 1e-4 } },
  // Online softmax and recomputation in backward reorder sums over up to 64-dim dots.
  scaled_dot_product_attention: { out: { atol: 2e-5, rtol: 1e-4 }, grad: { atol: 1e-4, rtol: 1e-3 } },
  // Variance and norms: mean subtraction amplifies rounding relative to the result.
  var: { out: { atol: 1e-5, rtol: 1e-4 }, grad: { atol: 1e-5, rtol: 1e-4 } },
  layer_norm: { out: { atol: 1e-5, rtol: 1e-4 }, grad: { atol: 5e-5, rtol: 1e-3 } },
  rms_norm: { out: { atol: 1e-5, rtol: 1e-4 }, grad: { atol: 5e-5, rtol: 1e-3 } },
  cross_entropy: { out: { atol: 1e-5, rtol: 1e-5 }, grad: { atol: 1e-6, rtol: 1e-4 } },
  log_softmax: { out: { atol: 1e-5, rtol: 1e-5 }, grad: { atol: 1e-5, rtol: 1e-4 } },
  pow: { out: { atol: 1e-6, rtol: 2e-5 }, grad: { atol: 1e-5, rtol: 1e-4 } },
};

function toTensor(t: FT): Tensor {
  if (t.dtype === "float32") return new Tensor(fixtureF32(t.data), t.shape);
  return new Tensor(Int32Array.from(t.data, (v) => (v === true ? 1 : v === false ? 0 : Number(v))), t.shape);
}

function applyView(x: Tensor, step: (string | number | number[])[]): Tensor {
  const [kind, ...a] = step;
  switch (kind) {
    case "transpose":
      return T.transpose(x, a[0] as number, a[1] as number);
    case "permute":
      return T.permute(x, a[0] as number[]);
    case "narrow":
      return T.narrow(x, a[0] as number, a[1] as number, a[2] as number);
    case "expand":
      return T.expand(x, a[0] as number[]);
    case "slice":
      return T.slice(x, a[0] as number, a[1] as number, a[2] as number, a[3] as number);
  }
  throw new Error(`unknown view step ${String(kind)}`);
}

const num = (v: unknown): number => (v === "-inf" ? -Infinity : v === "inf" ? Infinity : (v as number));

/** Runs one fixture op; returns its outputs in fixture order. */
function runOp(op: string, x: Tensor[], attrs: Record<string, unknown>): Tensor[] {
  const A = attrs as Record<string, any>;
  const scalarOr = (): Tensor | number => (x.length > 1 ? x[1] : num(A.other ?? A.exponent));
  switch (op) {
    case "add":
      return [T.add(x[0], scalarOr())];
    case "sub":
      return [T.sub(x[0], scalarOr())];
    case "mul":
      return [T.mul(x[0], scalarOr())];
    case "div":
      return [T.div(x[0], scalarOr())];
    case "pow":
      return [T.pow(x[0], scalarOr())];
    case "neg":
    case "sqrt":
    case "rsqrt":
    case "exp":
    case "log":
    case "tanh":
    case "sigmoid":
    case "relu":
    case "silu":
    case "abs":
      return [(T as any)[op](x[0])];
    case "gelu":
      return [T.gelu(x[0], A.approximate)];
    case "sum":
      return [T.sum(x[0], A.dim, A.keepdim)];
    case "mean":
      return [T.mean(x[0], A.dim, A.keepdim)];
    case "var":
      return [T.variance(x[0], A.dim, { correction: A.correction, keepdim: A.keepdim })];
    case "max":
      if (A.dim === null || A.dim === undefined) return [T.max(x[0])];
      {
        const r = T.max(x[0], A.dim, A.keepdim);
        return [r.values, r.indices];
      }
    case "matmul":
      return [T.matmul(x[0], x[1])];
    case "linear":
      return [T.linear(x[0], x[1], x[2])];
    case "softmax":
      return [T.softmax(x[0], A.dim)];
    case "log_softmax":
      return [T.logSoftmax(x[0], A.dim)];
    case "layer_norm":
      return [T.layerNorm(x[0], A.normalized_shape, x[1], x[2], A.eps)];
    case "rms_norm":
      return [T.rmsNorm(x[0], A.normalized_shape, x[1], A.eps)];
    case "embedding":
      return [T.embedding(x[0], x[1], { paddingIdx: A.padding_idx ?? undefined })];
    case "cross_entropy":
      return [T.crossEntropy(x[0], x[1], { ignoreIndex: A.ignore_index, labelSmoothing: A.label_smoothing, reduction: A.reduction })];
    case "where":
      return [T.where(x[0], x[1], x[2])];
    case "masked_fill":
      return [T.maskedFill(x[0], x[1], num(A.value))];
    case "scaled_dot_product_attention":
      return [T.scaledDotProductAttention(x[0], x[1], x[2], { attnMask: x[3] ?? null, isCausal: A.is_causal, scale: A.scale })];
    case "cat":
      return [T.cat(x, A.dim)];
    case "stack":
      return [T.stack(x, A.dim)];
    case "split":
      return T.split(x[0], A.split_size_or_sections, A.dim);
    case "narrow":
      return [T.narrow(x[0], A.dim, A.start, A.length)];
    case "index_select":
      return [T.indexSelect(x[0], A.dim, x[1])];
    case "gather":
      return [T.gather(x[0], A.dim, x[1])];
    case "transpose":
      return [T.transpose(x[0], A.dim0, A.dim1)];
    case "permute":
      return [T.permute(x[0], A.dims)];
    case "reshape":
      return [T.reshape(x[0], A.shape)];
    case "expand":
      return [T.expand(x[0], A.size)];
    case "contiguous":
      return [T.contiguous(x[0])];
    case "slice":
      return [T.slice(x[0], A.dim, A.start, A.stop, A.step)];
  }
  throw new Error(`no tslm mapping for fixture op "${op}"`);
}

const dir = join(repoRoot, "fixtures", "ops");
const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();

for (const kernelSet of KERNEL_SETS) {
  describe(`ops vs PyTorch (${kernelSet} kernels)`, () => {
    beforeAll(() => {
      useKernels(kernelSet);
    });
    for (const file of files) {
      const fixture = readJSON<{ cases: Case[] }>(`fixtures/ops/${file}`);
      describe(file, () => {
        for (const c of fixture.cases) {
          it(c.name, () => {
            const tol = TOL[c.op] ?? TOL.default;
            const bases = c.inputs.map((inp) => {
              const t = toTensor(inp);
              if (inp.requires_grad && t.dtype === "float32") t.requiresGrad = true;
              return t;
            });
            const viewed = bases.map((b, i) => c.inputs[i].view.reduce(applyView, b));
            const outs = runOp(c.op, viewed, c.attrs);
            expect(outs.length).toBe(c.outputs.length);
            outs.forEach((o, i) => {
              const e = c.outputs[i];
              if (e.dtype === "float32") assertTensorClose(`${c.name} output ${i}`, o, e.shape, fixtureF32(e.data), tol.out);
              else {
                expect(o.shape).toEqual(e.shape);
                expect(Array.from(o.toTypedArray())).toEqual(e.data.map(Number));
              }
            });
            // Backward: sum_i <out_i, g_i> for the float outputs that took part in the graph.
            const pairs = outs.map((o, i) => [o, c.grad_outputs[i]] as const).filter(([o, g]) => g && o.requiresGrad);
            if (pairs.length === 0) return;
            for (const [o, g] of pairs) T.backward(o, toTensor(g!), { retainGraph: true });
            bases.forEach((b, i) => {
              const e = c.grads[i];
              if (!e) return;
              const got = b.grad ?? T.zeros([...b.shape]);
              assertTensorClose(`${c.name} grad of input ${i}`, got, e.shape, fixtureF32(e.data), tol.grad);
            });
          });
        }
      });
    }
  });
}
