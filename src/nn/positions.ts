// Positional information: sinusoidal encodings (the original Transformer), learned absolute
// embeddings (GPT-2's wpe, BERT's position_embeddings: plain Embedding layers), rotary embeddings
// (LLaMA; transformers' rotate_half convention and its rope_type variants) and T5's relative
// position buckets.
//
// Glossary: B batch, H heads, T positions, D head dim (rotary) or model width (sinusoidal).
//
// Rotary numbers follow transformers' modeling_rope_utils in float32: inv_freq, the scaled
// variants, and the angles pos * inv_freq are rounded to float32 at the same steps torch does, so
// that cos/sin tables agree to about one float32 ulp.
import { add, matmul, mul } from "../ops/index.js";
import { Tensor, formatShape } from "../tensor/tensor.js";

const f = Math.fround;

// ---------------------------------------------------------------------------------------------
// Sinusoidal

/**
 * The [n, d] table PE[i, 2k] = sin(i / 10000^(2k/d)), PE[i, 2k+1] = cos(i / 10000^(2k/d))
 * ("Attention Is All You Need", section 3.5), computed in float64 and rounded once.
 */
export function sinusoidalTable(n: number, d: number, base = 10000): Tensor {
  const out = new Float32Array(n * d);
  for (let k2 = 0; k2 < d; k2 += 2) {
    const freq = 1 / Math.pow(base, k2 / d);
    for (let i = 0; i < n; i++) {
      out[i * d + k2] = Math.sin(i * freq);
      if (k2 + 1 < d) out[i * d + k2 + 1] = Math.cos(i * freq);
    }
  }
  return new Tensor(out, [n, d]);
}

// ---------------------------------------------------------------------------------------------
// Rotary

/** rope parameters with transformers' field names (config.rope_parameters / legacy rope_scaling). */
export interface RopeParameters {
  rope_type: "default" | "linear" | "dynamic" | "llama3";
  rope_theta: number;
  factor?: number;
  low_freq_factor?: number;
  high_freq_factor?: number;
  original_max_position_embeddings?: number;
}

export const SUPPORTED_ROPE_TYPES = ["default", "linear", "dynamic", "llama3"] as const;

/**
 * inv_freq[k] for k < dim/2, as transformers' ROPE_INIT_FUNCTIONS[rope_type] computes it.
 * `seqLen` matters only for "dynamic" (NTK): above maxPositions the base grows with it.
 */
export function ropeInvFreq(p: RopeParameters, dim: number, maxPositions: number, seqLen?: number): Float32Array {
  let base = p.rope_theta;
  if (p.rope_type === "dynamic") {
    // _compute_dynamic_ntk_parameters, with seq_len a float32 tensor as in dynamic_rope_update.
    const L = Math.max(seqLen ?? maxPositions, maxPositions);
    const factor = p.factor!;
    const r = f(f(f(f(factor) * L) / maxPositions) - (factor - 1));
    base = f(f(base) * f(Math.pow(r, f(dim / (dim - 2)))));
  }
  const half = dim >> 1;
  const inv = new Float32Array(half);
  for (let k = 0; k < half; k++) inv[k] = f(1 / f(Math.pow(base, f((2 * k) / dim))));
  if (p.rope_type === "linear") for (let k = 0; k < half; k++) inv[k] = f(inv[k] / p.factor!);
  if (p.rope_type === "llama3") {
    // _compute_llama3_parameters: keep high frequencies, divide low ones by factor, interpolate
    // between (wavelengths measured against original_max_position_embeddings).
    const factor = p.factor!;
    const lo = p.low_freq_factor!;
    const hi = p.high_freq_factor!;
    const old = p.original_max_position_embeddings!;
    const lowWavelen = old / lo;
    const highWavelen = old / hi;
    // torch evaluates `scalar / tensor` as reciprocal(tensor) * scalar, in float32.
    for (let k = 0; k < half; k++) {
      const wavelen = f(f(1 / inv[k]) * f(2 * Math.PI));
      let v = wavelen > lowWavelen ? f(inv[k] / factor) : inv[k];
      if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
        const smooth = f(f(f(f(1 / wavelen) * old) - lo) / (hi - lo));
        v = f(f(f(f(1 - smooth) * v) / factor) + f(smooth * v));
      }
      inv[k] = v;
    }
  }
  return inv;
}

/**
 * Rotary position embedding (RoFormer; LLaMA's rotate_half layout: dims [0, D/2) pair with
 * [D/2, D)). cosSin() gives the tables for given positions; apply() rotates q or k.
 */
export class RotaryEmbedding {
  private readonly baseInvFreq: Float32Array;
  constructor(
    readonly dim: number,
    readonly params: RopeParameters,
    readonly maxPositions: number,
    /** transformers' attention_scaling (1 for the supported types). */
    readonly attentionScaling = 1,
  ) {
    if (dim % 2 !== 0) throw new Error(`RotaryEmbedding: the rotary dim must be even, got ${dim}`);
    this.baseInvFreq = ropeInvFreq(params, dim, maxPositions);
  }

  /** The inverse frequencies used for positions up to maxPos (only "dynamic" depends on it). */
  invFreq(maxPos: number): Float32Array {
    if (this.params.rope_type === "dynamic" && maxPos + 1 > this.maxPositions) return ropeInvFreq(this.params, this.dim, this.maxPositions, maxPos + 1);
    return this.baseInvFreq;
  }

  /**
   * cos and sin for positions [P, T] (int32; P = 1 or B), angle = pos * inv_freq with the
   * frequencies repeated over both halves (cat(freqs, freqs)). Shaped [P, 1, T, D] to broadcast
   * over heads-first q/k [B, H, T, D] (layout "bhtd", transformers'), or [P, T, 1, D] for
   * time-first [B, T, H, D] (layout "bthd": rotating straight after the projection keeps q/k
   * contiguous, so the products and the rotate_half GEMM run on plain rows).
   */
  cosSin(positions: Tensor, layout: "bhtd" | "bthd" = "bhtd"): { cos: Tensor; sin: Tensor } {
    if (positions.ndim !== 2 || positions.dtype !== "int32") throw new Error(`RotaryEmbedding.cosSin: positions must be int32 [B, T], got ${positions.dtype} ${formatShape(positions.shape)}`);
    const [P, T] = positions.shape;
    const pos = positions.toTypedArray();
    let maxPos = 0;
    for (let i = 0; i < pos.length; i++) if (pos[i] > maxPos) maxPos = pos[i];
    const inv = this.invFreq(maxPos);
    const D = this.dim;
    const half = D >> 1;
    const cos = new Float32Array(P * T * D);
    const sin = new Float32Array(P * T * D);
    const s = this.attentionScaling;
    for (let r = 0; r < P * T; r++) {
      const o = r * D;
      for (let k = 0; k < half; k++) {
        const a = f(pos[r] * inv[k]);
        const c = f(Math.cos(a) * s);
        const sn = f(Math.sin(a) * s);
        cos[o + k] = c;
        cos[o + half + k] = c;
        sin[o + k] = sn;
        sin[o + half + k] = sn;
      }
    }
    const shape = layout === "bhtd" ? [P, 1, T, D] : [P, T, 1, D];
    return { cos: new Tensor(cos, shape), sin: new Tensor(sin, shape) };
  }
}

/** rotate_half: [x1, x2] -> [-x2, x1] over the last dim. */
export function rotateHalf(x: Tensor): Tensor {
  return matmul(x, rotateHalfMatrix(x.shape[x.ndim - 1]));
}

const rotateHalfMatrices = new Map<number, Tensor>();

/**
 * The [D, D] signed permutation R with x @ R = rotate_half(x). One small GEMM (K = D) replaces the
 * narrow / neg / cat chain and its strided copies and scatters, forward and backward; each output
 * is one product by +-1 plus exact zeros, so the values equal transformers' rotate_half exactly.
 */
function rotateHalfMatrix(D: number): Tensor {
  let r = rotateHalfMatrices.get(D);
  if (!r) {
    if (D % 2 !== 0) throw new Error(`rotateHalf: the last dim must be even, got ${D}`);
    const h = D / 2;
    const m = new Float32Array(D * D);
    for (let j = 0; j < h; j++) {
      m[(j + h) * D + j] = -1; // out[j] = -x[j + D/2]
      m[j * D + j + h] = 1; // out[j + D/2] = x[j]
    }
    r = new Tensor(m, [D, D]);
    rotateHalfMatrices.set(D, r);
  }
  return r;
}

/** x * cos + rotate_half(x) * sin; x [B, H, T, D] with cos/sin [B or 1, 1, T, D] (or [B, T, H, D] with [B or 1, T, 1, D]). */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  return add(mul(x, cos), mul(rotateHalf(x), sin));
}

// ---------------------------------------------------------------------------------------------
// Relative position buckets (T5)

/**
 * T5's bucket of relative position (key - query), as T5Attention._relative_position_bucket:
 * exact buckets for small distances, logarithmic ones up to maxDistance; bidirectional encoders
 * use half the buckets for each sign, causal decoders only look back. Float32 like torch.
 */
export function relativePositionBucket(relative: number, bidirectional: boolean, numBuckets = 32, maxDistance = 128): number {
  let buckets = 0;
  let n = numBuckets;
  let rp: number;
  if (bidirectional) {
    n = Math.floor(n / 2);
    if (relative > 0) buckets += n;
    rp = Math.abs(relative);
  } else rp = -Math.min(relative, 0);
  const maxExact = Math.floor(n / 2);
  if (rp < maxExact) return buckets + rp;
  const large = maxExact + Math.trunc(f(f(f(Math.log(f(rp / maxExact))) / f(Math.log(maxDistance / maxExact))) * (n - maxExact)));
  return buckets + Math.min(large, n - 1);
}

/** The [T, S] int32 bucket table for queries at offset + [0, T) and keys [0, S). */
export function relativePositionBuckets(T: number, S: number, bidirectional: boolean, numBuckets = 32, maxDistance = 128, offset = 0): Tensor {
  const out = new Int32Array(T * S);
  for (let i = 0; i < T; i++) for (let j = 0; j < S; j++) out[i * S + j] = relativePositionBucket(j - (i + offset), bidirectional, numBuckets, maxDistance);
  return new Tensor(out, [T, S]);
}
