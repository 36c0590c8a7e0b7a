// Multi-head attention: the core (grouped-query heads, masks, causal, dropout, additive position
// bias), the KV cache, padding masks, and a MultiHeadAttention module with configurable
// projection names (q_proj/k_proj/v_proj/o_proj for LLaMA, q/k/v/o for T5, ...).
//
// Glossary: B batch, T query length, S key length (past + new with a cache), C model width,
// H query heads, Hkv key/value heads (H % Hkv == 0; H / Hkv queries share one key/value head),
// D head dim.
//
// Masks are additive float32 tensors broadcasting to [B, H, T, S] (0 = attend, a very negative
// number = do not). Padding uses float32's most negative finite value, as transformers does, so a
// row whose keys are all padding degrades to a uniform average instead of NaN. Causality is the
// kernel's bottom-right-aligned mask (query i of T sees keys j <= i + S - T), which is exactly what
// cached decoding needs: the new tokens see the whole cache and each other causally.
import { add, cat, expand, reshape, scaledDotProductAttention, transpose } from "../ops/index.js";
import { isGradEnabled } from "../autograd/engine.js";
import { kernels } from "../kernels/index.js";
import { Generator, defaultGenerator } from "../tensor/rng.js";
import { Tensor, formatShape } from "../tensor/tensor.js";
import { contiguousRaw } from "../tensor/views.js";
import { Linear } from "./layers.js";
import { Module, type Init, type ParamSource } from "./module.js";

/** float32's most negative finite value (torch.finfo(torch.float32).min), HF's mask fill. */
export const MASK_MIN = -3.4028234663852886e38;

// ---------------------------------------------------------------------------------------------
// KV cache

/**
 * The keys and values one attention layer has seen, [B, Hkv, S, D] each (after rotary embedding,
 * before grouped heads are repeated). append() adds T new positions and returns the full tensors,
 * as transformers' DynamicCache.update does.
 *
 * Decoding appends one position per step to every layer, so the cache does not concatenate (which
 * allocated and copied the whole cache twice per step, and left megabytes of garbage per token):
 * each layer owns one buffer with room for more positions, grown geometrically, and keeps its
 * contents as a contiguous [B, Hkv, S, D] prefix, so that the attention kernel reads the returned
 * tensors in place. Appending moves each (b, h) block of S x D up by the blocks before it
 * (memmove within the buffer, last block first) and writes the new positions after it. The
 * tensors append() returns are views of that buffer: valid until the next append or crop.
 * `keys` / `values` may be replaced from outside (beam reordering, request batching, prefix
 * tuning); the next append copies the given tensors into a buffer of its own. Under autograd
 * (a new or cached tensor that requires grad, with grad enabled) append concatenates as before.
 */
export class KVCache {
  private _keys: Tensor | null = null;
  private _values: Tensor | null = null;
  /** Buffers holding _keys / _values as their contiguous prefix, or null when they are foreign tensors. */
  private kbuf: Float32Array | null = null;
  private vbuf: Float32Array | null = null;
  /** Second buffers for reorder() (beam search), swapped with kbuf / vbuf. */
  private kspare: Float32Array | null = null;
  private vspare: Float32Array | null = null;

  get keys(): Tensor | null {
    return this._keys;
  }
  set keys(t: Tensor | null) {
    this._keys = t;
    this.kbuf = null;
    this.kspare = null;
  }
  get values(): Tensor | null {
    return this._values;
  }
  set values(t: Tensor | null) {
    this._values = t;
    this.vbuf = null;
    this.vspare = null;
  }

  /** Number of cached positions S. */
  get length(): number {
    return this._keys ? this._keys.shape[2] : 0;
  }

  append(k: Tensor, v: Tensor): [Tensor, Tensor] {
    if (k.ndim !== 4 || v.ndim !== 4) throw new Error(`KVCache.append: keys and values must be [B, Hkv, T, D], got ${formatShape(k.shape)} and ${formatShape(v.shape)}`);
    const old = this._keys;
    if (old && this._values) {
      const [B, Hk, , D] = old.shape;
      if (k.shape[0] !== B || k.shape[1] !== Hk || k.shape[3] !== D) {
        throw new Error(`KVCache.append: new keys ${formatShape(k.shape)} do not match the cached ${formatShape(old.shape)} outside the time dim`);
      }
    }
    const grad = isGradEnabled() && (k.requiresGrad || v.requiresGrad || (old?.requiresGrad ?? false) || (this._values?.requiresGrad ?? false));
    if (grad || k.dtype !== "float32" || v.dtype !== "float32" || v.shape[2] !== k.shape[2] || (this._values && this._values.shape[3] !== v.shape[3])) {
      if (old && this._values) {
        this.keys = cat([old, k], 2); // (B, Hkv, S + T, D)
        this.values = cat([this._values, v], 2);
      } else {
        this.keys = k;
        this.values = v;
      }
      return [this._keys!, this._values!];
    }
    const S = this.length;
    const [kt, kb] = growInto(this._keys, this.kbuf, k, S);
    const [vt, vb] = growInto(this._values, this.vbuf, v, S);
    this._keys = kt;
    this.kbuf = kb;
    this._values = vt;
    this.vbuf = vb;
    return [kt, vt];
  }

  /**
   * Row r of the batch becomes old row rows[r] (beam search: each beam continues from its parent;
   * rows may repeat). With its own buffer the cache gathers into a second buffer of the same size,
   * kept for the next reorder, and swaps: no allocation per step.
   */
  reorder(rows: Int32Array): void {
    const k = this._keys;
    const v = this._values;
    if (!k || !v) return;
    if (!this.kbuf || !this.vbuf || rows.length !== k.shape[0]) {
      this.keys = gatherBatchRows(k, rows);
      this.values = gatherBatchRows(v, rows);
      return;
    }
    [this._keys, this.kbuf, this.kspare] = gatherInto(k, this.kbuf, this.kspare, rows);
    [this._values, this.vbuf, this.vspare] = gatherInto(v, this.vbuf, this.vspare, rows);
  }

  /** Keeps the first n positions (for speculative decoding / beam rewinds). */
  crop(n: number): void {
    if (!this._keys || n >= this.length) return;
    const S = this.length;
    if (this.kbuf && this.vbuf) {
      this._keys = shrinkIn(this.kbuf, this._keys.shape, S, n);
      this._values = shrinkIn(this.vbuf, this._values!.shape, S, n);
      return;
    }
    this.keys = this._keys.narrow(2, 0, n).contiguous();
    this.values = this._values!.narrow(2, 0, n).contiguous();
  }
}

/** Positions a fresh buffer has room for beyond the S + T needed now. */
function headroom(S: number, T: number): number {
  return Math.max(64, S + T);
}

/**
 * Appends x [B, H, T, D] (any strides) to the cached `cur` [B, H, S, D] (contiguous prefix of buf
 * when buf is not null); returns the new [B, H, S + T, D] tensor and its buffer.
 */
function growInto(cur: Tensor | null, buf: Float32Array | null, x: Tensor, S: number): [Tensor, Float32Array] {
  const [B, H, T, D] = x.shape;
  const BH = B * H;
  const S2 = S + T;
  const need = BH * S2 * D;
  let out = buf;
  if (!out || out.length < need) {
    // A new buffer: the cached blocks go straight to their new places.
    out = new Float32Array(BH * (S2 + headroom(S, T)) * D);
    if (cur && S > 0) {
      let c = buf;
      if (!c) {
        const cc = contiguousRaw(cur);
        c = (cc.data as Float32Array).subarray(cc.offset);
      }
      for (let bh = 0; bh < BH; bh++) out.set(c.subarray(bh * S * D, (bh + 1) * S * D), bh * S2 * D);
    }
  } else if (S > 0) {
    // In place: block bh moves from bh*S*D to bh*S2*D; last first, so nothing is overwritten early.
    for (let bh = BH - 1; bh > 0; bh--) out.copyWithin(bh * S2 * D, bh * S * D, (bh + 1) * S * D);
  }
  // The new positions after each block.
  const src = x.data as Float32Array;
  const [s0, s1, s2, s3] = x.strides;
  if (T * D >= 4096) {
    const k = kernels();
    const shape = Int32Array.from([T, D]);
    const strides = Int32Array.from([s2, s3]);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) k.copyStrided(shape, src, x.offset + b * s0 + h * s1, strides, out, ((b * H + h) * S2 + S) * D);
  } else {
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        let o = ((b * H + h) * S2 + S) * D;
        const base = x.offset + b * s0 + h * s1;
        for (let t = 0; t < T; t++) {
          const r = base + t * s2;
          if (s3 === 1) {
            out.set(src.subarray(r, r + D), o);
            o += D;
          } else for (let d = 0; d < D; d++) out[o++] = src[r + d * s3];
        }
      }
    }
  }
  return [new Tensor(out.subarray(0, need), [B, H, S2, D]), out];
}

/** Batch rows of t [B, ...] gathered by `rows`: a new contiguous tensor [rows.length, ...]. */
function gatherBatchRows(t: Tensor, rows: Int32Array): Tensor {
  const c = contiguousRaw(t);
  const flat = (c.data as Float32Array).subarray(c.offset, c.offset + c.size);
  const per = t.shape[0] === 0 ? 0 : c.size / t.shape[0];
  const out = new Float32Array(rows.length * per);
  for (let i = 0; i < rows.length; i++) out.set(flat.subarray(rows[i] * per, rows[i] * per + per), i * per);
  return new Tensor(out, [rows.length, ...t.shape.slice(1)]);
}

/** Gathers the batch rows of cur (the contiguous prefix of buf) into spare; returns [tensor, new buffer, new spare]. */
function gatherInto(cur: Tensor, buf: Float32Array, spare: Float32Array | null, rows: Int32Array): [Tensor, Float32Array, Float32Array] {
  const n = cur.size;
  const per = n / cur.shape[0];
  const out = spare && spare.length === buf.length ? spare : new Float32Array(buf.length);
  for (let i = 0; i < rows.length; i++) out.set(buf.subarray(rows[i] * per, rows[i] * per + per), i * per);
  return [new Tensor(out.subarray(0, n), cur.shape), out, buf];
}

/** Crops the contiguous [B, H, S, D] prefix of buf to [B, H, n, D] in place. */
function shrinkIn(buf: Float32Array, shape: readonly number[], S: number, n: number): Tensor {
  const [B, H, , D] = shape;
  for (let bh = 1; bh < B * H; bh++) buf.copyWithin(bh * n * D, bh * S * D, bh * S * D + n * D);
  return new Tensor(buf.subarray(0, B * H * n * D), [B, H, n, D]);
}

/** One KVCache per layer (transformers' DynamicCache); `length` is the number of cached positions. */
export class DynamicCache {
  readonly layers: KVCache[];
  constructor(numLayers: number) {
    this.layers = Array.from({ length: numLayers }, () => new KVCache());
  }
  get length(): number {
    return this.layers[0]?.length ?? 0;
  }
  crop(n: number): void {
    for (const l of this.layers) l.crop(n);
  }
}

// ---------------------------------------------------------------------------------------------
// Masks

/**
 * The additive mask [B, 1, 1, S] for a padding mask [B, S] (1 = real token, 0 = padding), or null
 * when nothing is padded (so the fast unmasked kernel path is taken).
 */
export function paddingMask(attentionMask: Tensor): Tensor | null {
  if (attentionMask.ndim !== 2) throw new Error(`paddingMask: attention_mask must be [B, S], got ${formatShape(attentionMask.shape)}`);
  const [B, S] = attentionMask.shape;
  const src = attentionMask.toTypedArray();
  let any = false;
  const out = new Float32Array(B * S);
  for (let i = 0; i < src.length; i++) {
    if (src[i] === 0) {
      out[i] = MASK_MIN;
      any = true;
    } else if (src[i] !== 1) throw new Error(`paddingMask: attention_mask must hold 0 and 1, got ${src[i]} at position ${i}`);
  }
  return any ? new Tensor(out, [B, 1, 1, S]) : null;
}

// ---------------------------------------------------------------------------------------------
// Core

export interface AttendOptions {
  /** Additive float mask (or int32 0/1 keep-mask) broadcasting to [B, H, T, S]. */
  mask?: Tensor | null;
  /** Additive bias [1 or B, H, T, S] that may require grad (T5's relative position bias). */
  bias?: Tensor | null;
  causal?: boolean;
  /** Score scale; default 1/sqrt(D). T5 uses 1. */
  scale?: number;
  dropoutP?: number;
  training?: boolean;
  generator?: Generator;
}

/** [B, T, H*D] -> [B, H, T, D] (a view). */
export function splitHeads(x: Tensor, H: number): Tensor {
  const [B, T, C] = x.shape;
  if (C % H !== 0) throw new Error(`splitHeads: width ${C} of ${formatShape(x.shape)} is not divisible by ${H} heads`);
  return transpose(reshape(x, [B, T, H, C / H]), 1, 2); // (B, H, T, D)
}

/** [B, H, T, D] -> [B, T, H*D]. */
export function mergeHeads(x: Tensor): Tensor {
  const [B, H, T, D] = x.shape;
  return reshape(transpose(x, 1, 2), [B, T, H * D]); // (B, T, C)
}

/** Repeats each key/value head nRep times: [B, Hkv, S, D] -> [B, Hkv*nRep, S, D] (HF repeat_kv). */
export function repeatKV(x: Tensor, nRep: number): Tensor {
  if (nRep === 1) return x;
  const [B, Hk, S, D] = x.shape;
  return reshape(expand(x.unsqueeze(2), [B, Hk, nRep, S, D]), [B, Hk * nRep, S, D]);
}

/**
 * softmax(q k^T * scale + mask + bias [+ causal]) v with grouped-query heads.
 * q [B, H, T, D], k and v [B, Hkv, S, D] -> [B, H, T, D].
 */
export function attend(q: Tensor, k: Tensor, v: Tensor, opts: AttendOptions = {}): Tensor {
  const H = q.shape[1];
  const Hkv = k.shape[1];
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4 || H % Hkv !== 0 || v.shape[1] !== Hkv) {
    throw new Error(`attend: expected q [B, H, T, D] and k, v [B, Hkv, S, D] with H divisible by Hkv, got ${formatShape(q.shape)}, ${formatShape(k.shape)}, ${formatShape(v.shape)}`);
  }
  const [B, , T, D] = q.shape;
  const nRep = H / Hkv;
  let mask = opts.mask ?? null;
  const sdpa = (qq: Tensor, kk: Tensor, vv: Tensor, causal: boolean) =>
    scaledDotProductAttention(qq, kk, vv, {
      attnMask: mask,
      isCausal: causal,
      scale: opts.scale ?? null,
      dropoutP: opts.dropoutP ?? 0,
      training: opts.training ?? false,
      generator: opts.generator ?? defaultGenerator,
    });
  // Grouped heads without copying keys and values: when no row-dependent mask is involved (one
  // new token sees every cached key; or no causality) and any mask depends on the key only, the
  // nRep query heads of a group can be stacked as nRep * T rows against their shared key/value
  // head. Decoding with a cache then never copies the cache per step, as repeat_kv would.
  const keyOnlyMask = !mask || (mask.ndim === 4 && mask.shape[1] === 1 && mask.shape[2] === 1);
  if (nRep > 1 && !opts.bias && keyOnlyMask && (T === 1 || !opts.causal)) {
    const qg = reshape(q, [B, Hkv, nRep * T, D]); // (B, Hkv, nRep*T, D): row r*T + t is head g*nRep + r
    return reshape(sdpa(qg, k, v, false), [B, H, T, D]);
  }
  if (opts.bias) mask = mask ? add(opts.bias, mask.dtype === "float32" ? mask : intMaskToAdditive(mask)) : opts.bias;
  return sdpa(q, repeatKV(k, nRep), repeatKV(v, nRep), opts.causal ?? false); // keys/values (B, H, S, D)
}

function intMaskToAdditive(m: Tensor): Tensor {
  const src = m.toTypedArray();
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] ? 0 : MASK_MIN;
  return new Tensor(out, m.shape);
}

// ---------------------------------------------------------------------------------------------
// Module

export interface MultiHeadAttentionOptions {
  dModel: number;
  nHeads: number;
  /** Key/value heads for grouped-query attention (default nHeads). */
  nKvHeads?: number;
  /** Head dim (default dModel / nHeads; LLaMA configs may set it independently). */
  headDim?: number;
  /** Bias on the q/k/v projections (default true). */
  bias?: boolean;
  /** Bias on the output projection (default: same as `bias`). */
  outBias?: boolean;
  /**
   * Projection field names = checkpoint key segments (default q_proj, k_proj, v_proj, o_proj; T5
   * q, k, v, o). A name may be a dotted path when the checkpoint nests the projections, e.g. BERT's
   * { q: "self.query", k: "self.key", v: "self.value", o: "output.dense" }: the field named
   * "self.query" yields the key "<prefix>.self.query.weight".
   */
  names?: { q: string; k: string; v: string; o: string };
  /** Score scale (default 1/sqrt(headDim)). */
  scale?: number;
  /** Causal self-attention (decoders). */
  causal?: boolean;
  /** Dropout on the attention probabilities in training. */
  dropout?: number;
  /** Init of the output projection (e.g. GPT-2-style scaled residual init). */
  outInit?: Init;
}

export interface AttentionCallOptions {
  /** Cross-attention: the encoder states [B, S, C] keys and values come from. */
  kv?: Tensor;
  mask?: Tensor | null;
  bias?: Tensor | null;
  cache?: KVCache;
  /**
   * Rotary position embedding applied to q [B, T, H, D] and k [B, T, Hkv, D] right after the
   * projection, before heads move in front of time (LLaMA; cos/sin in RotaryEmbedding's "bthd" layout).
   */
  rotary?: (q: Tensor, k: Tensor) => [Tensor, Tensor];
}

/**
 * Self-, causal or cross-attention with separate q/k/v/o projections. Cross-attention with a
 * cache computes the encoder's keys and values once and reuses them on later calls.
 */
export class MultiHeadAttention extends Module {
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly headDim: number;
  readonly scale: number;
  readonly causal: boolean;
  readonly _q: Linear;
  readonly _k: Linear;
  readonly _v: Linear;
  readonly _o: Linear;
  readonly _attnDropout: number;
  readonly _generator: Generator;

  constructor(src: ParamSource, opts: MultiHeadAttentionOptions, generator: Generator = defaultGenerator) {
    super();
    const H = opts.nHeads;
    const Hkv = opts.nKvHeads ?? H;
    const D = opts.headDim ?? opts.dModel / H;
    if (!Number.isInteger(D) || H % Hkv !== 0) throw new Error(`MultiHeadAttention at "${src.prefix}": dModel ${opts.dModel}, ${H} heads, ${Hkv} kv heads, head dim ${D} do not fit`);
    this.nHeads = H;
    this.nKvHeads = Hkv;
    this.headDim = D;
    this.scale = opts.scale ?? 1 / Math.sqrt(D);
    this.causal = opts.causal ?? false;
    const n = opts.names ?? { q: "q_proj", k: "k_proj", v: "v_proj", o: "o_proj" };
    const bias = opts.bias ?? true;
    this._q = new Linear(src.at(n.q), opts.dModel, H * D, { bias });
    this._k = new Linear(src.at(n.k), opts.dModel, Hkv * D, { bias });
    this._v = new Linear(src.at(n.v), opts.dModel, Hkv * D, { bias });
    this._o = new Linear(src.at(n.o), H * D, opts.dModel, { bias: opts.outBias ?? bias, ...(opts.outInit ? { weightInit: opts.outInit } : {}) });
    // Expose the projections under their checkpoint names (these are the walked fields).
    Object.assign(this, { [n.q]: this._q, [n.k]: this._k, [n.v]: this._v, [n.o]: this._o });
    this._attnDropout = opts.dropout ?? 0;
    if (!(this._attnDropout >= 0 && this._attnDropout < 1)) throw new Error(`MultiHeadAttention at "${src.prefix}": dropout must be in [0, 1), got ${opts.dropout}`);
    this._generator = generator;
  }

  /** x [B, T, C] -> [B, T, C]. */
  forward(x: Tensor, opts: AttentionCallOptions = {}): Tensor {
    const [B, T] = x.shape;
    const H = this.nHeads;
    const Hkv = this.nKvHeads;
    const D = this.headDim;
    let q = reshape(this._q.forward(x), [B, T, H, D]); // (B, T, H, D)
    let k: Tensor;
    let v: Tensor;
    if (opts.kv && opts.cache && opts.cache.length > 0) {
      // Cross-attention keys/values of the encoder are fixed: computed on the first call only.
      k = opts.cache.keys!;
      v = opts.cache.values!;
    } else {
      const src = opts.kv ?? x;
      const S = src.shape[1];
      k = reshape(this._k.forward(src), [B, S, Hkv, D]); // (B, S, Hkv, D)
      v = transpose(reshape(this._v.forward(src), [B, S, Hkv, D]), 1, 2); // (B, Hkv, S, D)
      if (opts.rotary) [q, k] = opts.rotary(q, k);
      k = transpose(k, 1, 2); // (B, Hkv, S, D)
      if (opts.cache) [k, v] = opts.cache.append(k, v); // (B, Hkv, S_past + S, D)
    }
    q = transpose(q, 1, 2); // (B, H, T, D)
    const y = attend(q, k, v, {
      mask: opts.mask ?? null,
      bias: opts.bias ?? null,
      causal: this.causal && !opts.kv,
      scale: this.scale,
      dropoutP: this._attnDropout,
      training: this.training,
      generator: this._generator,
    }); // (B, H, T, D)
    return this._o.forward(mergeHeads(y)); // (B, T, C)
  }
}
