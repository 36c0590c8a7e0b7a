// Scaled dot-product attention (torch.nn.functional.scaled_dot_product_attention semantics, with one
// deliberate difference: the causal mask is aligned bottom-right, so that query i of Tq attends to
// keys j <= i + Tk - Tq — the convention a KV cache needs; for Tq == Tk it is the usual mask).
//
// Glossary: B batch, H heads, Tq query length, Tk key length, D head dim, Dv value dim.
// q [..., Tq, D], k [..., Tk, D], v [..., Tk, Dv] with the same leading dims (typically [B, H]).
// attnMask broadcasts to [..., Tq, Tk]: int32 is boolean (non-zero = may attend, as PyTorch's bool
// masks), float32 is added to the scores.
//
// The fused kernel never materialises the Tq x Tk probabilities and recomputes them in backward from
// the saved log-sum-exp. A mask that requires grad, or attention dropout in training, takes the
// composed path (matmul, softmax, dropout) instead, which does materialise them.
import { record } from "../autograd/engine.js";
import { kernels } from "../kernels/index.js";
import { Generator } from "../tensor/rng.js";
import { emptyF32 } from "../tensor/storage.js";
import { Tensor, formatShape, shapeSize } from "../tensor/tensor.js";
import { broadcastShapes, broadcastStrides } from "../tensor/views.js";
import { add, mul } from "./elementwise.js";
import { dropout } from "./dropout.js";
import { matmul } from "./matmul.js";
import { softmax } from "./softmax.js";
import { transpose } from "./shape.js";
import { checkFloat, f32, sameShape } from "./util.js";

export interface AttentionOptions {
  attnMask?: Tensor | null;
  isCausal?: boolean;
  /** Defaults to 1 / sqrt(D). */
  scale?: number | null;
  dropoutP?: number;
  training?: boolean;
  generator?: Generator;
}

/** The mask as an additive float tensor (int32 masks become 0 / -inf). */
function additiveMask(mask: Tensor): Tensor {
  if (mask.dtype === "float32") return mask;
  const src = mask.toTypedArray();
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] !== 0 ? 0 : -Infinity;
  return new Tensor(out, mask.shape);
}

/** A [Tq, Tk] additive causal mask, bottom-right aligned. */
function causalMask(Tq: number, Tk: number): Tensor {
  const out = new Float32Array(Tq * Tk);
  const shift = Tk - Tq;
  for (let i = 0; i < Tq; i++) for (let j = i + shift + 1; j < Tk; j++) if (j >= 0) out[i * Tk + j] = -Infinity;
  return new Tensor(out, [Tq, Tk]);
}

/** The mask as the kernel takes it: additive data, offset and (b, h, i, j) strides, bh = b*H + h. */
function kernelMask(mask: Tensor | null, lead: readonly number[], full: number[]): { maskData: Float32Array | null; mOff: number; mStrides: Int32Array | null } {
  if (!mask) return { maskData: null, mOff: 0, mStrides: null };
  const m = additiveMask(mask);
  const st = broadcastStrides(m, full); // strides over [...lead, Tq, Tk]
  const mStrides = lead.length === 2 ? st : lead.length === 1 ? Int32Array.from([st[0], 0, st[1], st[2]]) : Int32Array.from([0, 0, st[0], st[1]]);
  return { maskData: m.data as Float32Array, mOff: m.offset, mStrides };
}

export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  checkFloat("scaledDotProductAttention", q, "query");
  checkFloat("scaledDotProductAttention", k, "key");
  checkFloat("scaledDotProductAttention", v, "value");
  if (q.ndim < 2 || k.ndim !== q.ndim || v.ndim !== q.ndim) {
    throw new Error(`scaledDotProductAttention: query, key and value must have the same rank >= 2, got ${formatShape(q.shape)}, ${formatShape(k.shape)}, ${formatShape(v.shape)}`);
  }
  const nd = q.ndim;
  const lead = q.shape.slice(0, -2);
  const [Tq, D] = q.shape.slice(-2);
  const [Tk, Dk] = k.shape.slice(-2);
  const [Tv, Dv] = v.shape.slice(-2);
  if (!sameShape(k.shape.slice(0, -2), lead) || !sameShape(v.shape.slice(0, -2), lead) || Dk !== D || Tv !== Tk) {
    throw new Error(
      `scaledDotProductAttention: shapes do not agree: query ${formatShape(q.shape)}, key ${formatShape(k.shape)}, value ${formatShape(v.shape)} ` +
        "(need the same leading dims, key dim = query dim, and as many values as keys)",
    );
  }
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const causal = opts.isCausal ?? false;
  const dropP = opts.dropoutP ?? 0;
  if (!(dropP >= 0 && dropP <= 1)) throw new Error(`scaledDotProductAttention: dropoutP must be in [0, 1], got ${dropP}`);
  const mask = opts.attnMask ?? null;
  const full = [...lead, Tq, Tk];
  if (mask) {
    if (!(mask instanceof Tensor)) throw new Error("scaledDotProductAttention: attnMask must be a Tensor");
    const b = broadcastShapes(mask.shape, full, "scaledDotProductAttention (attnMask)");
    if (!sameShape(b, full)) throw new Error(`scaledDotProductAttention: attnMask of shape ${formatShape(mask.shape)} does not broadcast to ${formatShape(full)}`);
  }
  const useDropout = dropP > 0 && (opts.training ?? false);
  if (useDropout || (mask && mask.requiresGrad) || lead.length > 2) {
    // Composed path: S = q k^T * scale + mask, P = softmax(S), out = dropout(P) v.
    let s = mul(matmul(q, transpose(k, -1, -2)), scale);
    if (mask) s = add(s, additiveMask(mask));
    if (causal) s = add(s, causalMask(Tq, Tk));
    let p = softmax(s, -1);
    if (useDropout) p = dropout(p, dropP, true, opts.generator);
    return matmul(p, v);
  }

  const BH = shapeSize(lead);
  const H = lead.length === 2 ? lead[1] : 1;
  const { maskData, mOff, mStrides } = kernelMask(mask, lead, full);
  const qd = f32(q);
  const kd = f32(k);
  const vd = f32(v);
  const out = emptyF32(BH * Tq * Dv);
  const lse = emptyF32(BH * Tq);
  const kern = kernels();
  kern.attention(qd, kd, vd, out, lse, BH, H, Tq, Tk, D, Dv, scale, causal, maskData, mOff, mStrides);
  const y = new Tensor(out, [...lead, Tq, Dv]);
  void nd;
  return record("scaledDotProductAttention", y, [q, k, v], (g) => {
    const gq = emptyF32(q.size);
    const gk = emptyF32(k.size);
    const gv = emptyF32(v.size);
    kern.attentionBackward(qd, kd, vd, out, lse, f32(g), gq, gk, gv, BH, H, Tq, Tk, D, Dv, scale, causal, maskData, mOff, mStrides);
    return [new Tensor(gq, q.shape), new Tensor(gk, k.shape), new Tensor(gv, v.shape)];
  });
}

export interface PackedAttentionOptions {
  /** Float additive or int32 keep-mask broadcasting to [B, H, T, T]; must not require grad. */
  attnMask?: Tensor | null;
  isCausal?: boolean;
  /** Defaults to 1 / sqrt(D). */
  scale?: number | null;
}

/**
 * Multi-head self-attention straight from a fused q/k/v projection (GPT-2's c_attn output):
 * qkv [B, T, 3 H D], i.e. q, k and v side by side, each [H, D] per position -> [B, T, H D], the
 * heads already merged. The same numbers as splitting into [B, H, T, D] heads,
 * scaledDotProductAttention and merging the heads back, but the kernel reads q, k and v in place
 * and writes the merged layout, and the backward pass writes the gradient of qkv directly: no
 * head split or merge is ever copied, forward or backward. No attention dropout (callers take the
 * composed path when it is active).
 */
export function packedAttention(qkv: Tensor, H: number, opts: PackedAttentionOptions = {}): Tensor {
  checkFloat("packedAttention", qkv, "qkv");
  if (qkv.ndim !== 3 || !Number.isInteger(H) || H <= 0 || qkv.shape[2] % (3 * H) !== 0) {
    throw new Error(`packedAttention: expected qkv [B, T, 3 * H * D] with H = ${H} heads, got ${formatShape(qkv.shape)}`);
  }
  const [B, T, C3] = qkv.shape;
  const C = C3 / 3;
  const D = C / H;
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const causal = opts.isCausal ?? false;
  const mask = opts.attnMask ?? null;
  if (mask) {
    if (!(mask instanceof Tensor)) throw new Error("packedAttention: attnMask must be a Tensor");
    if (mask.requiresGrad) throw new Error("packedAttention: attnMask must not require grad (use scaledDotProductAttention)");
    const b = broadcastShapes(mask.shape, [B, H, T, T], "packedAttention (attnMask)");
    if (!sameShape(b, [B, H, T, T])) throw new Error(`packedAttention: attnMask of shape ${formatShape(mask.shape)} does not broadcast to ${formatShape([B, H, T, T])}`);
  }
  const { maskData, mOff, mStrides } = kernelMask(mask, [B, H], [B, H, T, T]);
  const x = f32(qkv);
  const BH = B * H;
  // (offset, batch stride, head stride, row stride) of q, k, v in qkv and of the [B, T, H, D] output.
  const inLay = [0, T * C3, D, C3, C, T * C3, D, C3, 2 * C, T * C3, D, C3];
  const outLay = [0, T * C, D, C];
  const out = emptyF32(B * T * C);
  const lse = emptyF32(BH * T);
  const kern = kernels();
  if (BH > 0 && T > 0) kern.attention(x, x, x, out, lse, BH, H, T, T, D, D, scale, causal, maskData, mOff, mStrides, Int32Array.from([...inLay, ...outLay]));
  const y = new Tensor(out, [B, T, C]);
  return record("packedAttention", y, [qkv], (g) => {
    const gx = emptyF32(B * T * C3);
    if (BH > 0 && T > 0) {
      kern.attentionBackward(x, x, x, out, lse, f32(g), gx, gx, gx, BH, H, T, T, D, D, scale, causal, maskData, mOff, mStrides, Int32Array.from([...inLay, ...outLay, ...outLay, ...inLay]));
    }
    return [new Tensor(gx, qkv.shape)];
  });
}
