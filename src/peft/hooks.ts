// Hooks into model code that tslm's adapters need but cannot reach through module fields alone.
//
// GPT-2's attention reads `c_attn.weight` column blocks directly (three GEMMs on strided views
// instead of one fused projection), so a wrapped c_attn (LoRA, IA3) would be bypassed. For those
// instances forward is replaced by the same computation through `c_attn.forward(x)` followed by a
// split of the [B, T, 3C] output, which is what transformers' GPT2Attention does. The replacement
// is an own property of the instance: the class and other instances are untouched.
// Suggested change in src/models/gpt2.ts (owned by the models agent): call `this.c_attn.forward`
// when c_attn is not a plain Conv1D, so this patch can go.
//
// Bottleneck adapters act on a sublayer's output before the residual add: the sublayer instance's
// forward is wrapped (its first return value, or the whole value, goes through the adapter).
//
// Glossary: B batch, T tokens, C width, H heads, D head dim.
import { narrow, reshape, transpose } from "../ops/index.js";
import { Tensor } from "../tensor/tensor.js";
import { attend, mergeHeads, type KVCache } from "../nn/attention.js";
import { Conv1D, type Dropout } from "../nn/layers.js";
import { Module } from "../nn/module.js";

interface GPT2AttentionLike {
  c_attn: Module & { forward(x: Tensor): Tensor };
  c_proj: Module & { forward(x: Tensor): Tensor };
  attn_dropout: number;
  resid_dropout: Dropout;
  _H: number;
  _scale: number;
  training: boolean;
  forward(x: Tensor, mask: Tensor | null, cache?: KVCache): Tensor;
}

function isGPT2Attention(m: Module): m is Module & GPT2AttentionLike {
  const r = m as unknown as Record<string, unknown>;
  return m.constructor.name === "GPT2Attention" && "c_attn" in r && typeof r._H === "number" && typeof r._scale === "number";
}

/** Routes GPT-2 attention through `c_attn.forward` wherever c_attn has been wrapped. */
export function patchFusedQKV(root: Module): void {
  for (const [, m] of root.namedModules()) {
    if (!isGPT2Attention(m) || m.c_attn instanceof Conv1D || Object.prototype.hasOwnProperty.call(m, "forward")) continue;
    const a = m;
    Object.defineProperty(a, "forward", {
      enumerable: false,
      configurable: true,
      value: (x: Tensor, mask: Tensor | null, cache?: KVCache): Tensor => {
        const [B, T, C] = x.shape;
        const H = a._H;
        const D = C / H;
        // Wrappers that can compute column blocks do so (no [B, T, 3C] output and no copies of its
        // strided q/k/v slices kept for backward); others run whole and are split.
        const cols = (a.c_attn as { forwardColumns?: (x: Tensor, s: number, n: number) => Tensor }).forwardColumns;
        const qkv = cols ? null : a.c_attn.forward(x); // (B, T, 3C)
        const block = (i: number) => (cols ? cols.call(a.c_attn, x, i * C, C) : narrow(qkv!, 2, i * C, C)); // (B, T, C)
        const heads = (i: number) => transpose(reshape(block(i), [B, T, H, D]), 1, 2); // (B, H, T, D)
        const q = heads(0);
        let k = heads(1);
        let v = heads(2);
        if (cache) [k, v] = cache.append(k, v); // (B, H, S, D)
        const y = attend(q, k, v, { mask, causal: true, scale: a._scale, dropoutP: a.attn_dropout, training: a.training }); // (B, H, T, D)
        return a.resid_dropout.forward(a.c_proj.forward(mergeHeads(y))); // (B, T, C)
      },
    });
  }
}

/** Removes the patch where c_attn is a plain Conv1D again (after merge_and_unload). */
export function unpatchFusedQKV(root: Module): void {
  for (const [, m] of root.namedModules()) {
    if (isGPT2Attention(m) && m.c_attn instanceof Conv1D && Object.prototype.hasOwnProperty.call(m, "forward")) delete (m as { forward?: unknown }).forward;
  }
}

/** Passes the output of `sub.forward` (its first element when it returns a tuple) through `f`. */
export function patchSublayerOutput(sub: Module, path: string, f: (h: Tensor) => Tensor): void {
  const target = sub as unknown as { forward?: (...a: unknown[]) => unknown };
  if (typeof target.forward !== "function") throw new Error(`bottleneck adapters: module "${path}" (${sub.constructor.name}) has no forward`);
  const orig = target.forward.bind(sub);
  Object.defineProperty(sub, "forward", {
    enumerable: false,
    configurable: true,
    value: (...args: unknown[]) => {
      const out = orig(...args);
      if (out instanceof Tensor) return f(out);
      if (Array.isArray(out) && out[0] instanceof Tensor) return [f(out[0]), ...out.slice(1)];
      throw new Error(`bottleneck adapters: module "${path}" returned neither a tensor nor a tuple starting with one`);
    },
  });
}
