// Safetensors element types and their conversion to tslm's two storage types.
//
// Contract:
//   - SAFETENSORS_DTYPES lists every dtype string the reference library (safetensors 0.8, Rust
//     `Dtype`) knows, with its size in bits; anything else in a header is an "unknown dtype" error.
//   - Floating types convert to float32 bit-exactly the way PyTorch's bulk `.float()` does:
//     F16 -> widened exactly (subnormals normalised, +-0, +-inf kept, a NaN keeps its payload and
//     becomes quiet, like x86 F16C; numpy instead keeps signalling NaNs signalling), BF16 -> the 16
//     bits become the top half of the f32 (NaNs untouched), F64 -> rounded to nearest.
//   - Integer and bool types convert to int32; a value outside int32 is an error naming the key and
//     the element index (never a silent wrap).
// Conversions work on bit patterns (Uint16Array -> Uint32Array) so NaN payloads survive: storing a
// NaN through a JavaScript number may canonicalise it.

export interface DTypeInfo {
  /** Bits per element in the file. */
  bits: number;
  /** What tslm converts it to, or null when tslm cannot read it (the error names the dtype). */
  to: "float32" | "int32" | null;
}

/** Every dtype of the reference implementation (safetensors 0.8), in its enum order. */
export const SAFETENSORS_DTYPES: Readonly<Record<string, DTypeInfo>> = Object.freeze({
  BOOL: { bits: 8, to: "int32" },
  F4: { bits: 4, to: null },
  F6_E2M3: { bits: 6, to: null },
  F6_E3M2: { bits: 6, to: null },
  U8: { bits: 8, to: "int32" },
  I8: { bits: 8, to: "int32" },
  F8_E5M2: { bits: 8, to: null },
  F8_E4M3: { bits: 8, to: null },
  F8_E8M0: { bits: 8, to: null },
  I16: { bits: 16, to: "int32" },
  U16: { bits: 16, to: "int32" },
  F16: { bits: 16, to: "float32" },
  BF16: { bits: 16, to: "float32" },
  I32: { bits: 32, to: "int32" },
  U32: { bits: 32, to: "int32" },
  F32: { bits: 32, to: "float32" },
  C64: { bits: 64, to: null },
  F64: { bits: 64, to: "float32" },
  I64: { bits: 64, to: "int32" },
  U64: { bits: 64, to: "int32" },
});

/**
 * The reference writer orders tensors by dtype, larger enum value first, then by name
 * (safetensors `prepare`: `right.dtype().cmp(&left.dtype()).then(lname.cmp(rname))`).
 * This is the rank used for that sort.
 */
export function dtypeRank(dtype: string): number {
  const i = Object.keys(SAFETENSORS_DTYPES).indexOf(dtype);
  if (i < 0) throw new Error(`unknown safetensors dtype "${dtype}"`);
  return i;
}

export const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let f16Table: Uint32Array | null = null;

/** The float32 bit pattern of one IEEE half-precision bit pattern (exact; PyTorch's rule). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) {
    if (mant === 0) return (sign | 0x7f800000) >>> 0; // +-inf
    // NaN: payload kept, quiet bit set, as x86 F16C (vcvtph2ps) and PyTorch's bulk `.float()` do.
    return (sign | 0x7fc00000 | (mant << 13)) >>> 0;
  }
  if (exp === 0) {
    if (mant === 0) return sign >>> 0; // +-0
    // Subnormal half: value = mant * 2^-24. Shift the leading 1 into the implicit-bit position;
    // each shift lowers the exponent by one.
    let e = 1;
    while ((mant & 0x400) === 0) {
      mant <<= 1;
      e--;
    }
    return (sign | ((e - 15 + 127) << 23) | ((mant & 0x3ff) << 13)) >>> 0;
  }
  return (sign | ((exp - 15 + 127) << 23) | (mant << 13)) >>> 0;
}

/** All 65536 conversions, built once (256 KiB): a table lookup is the fastest exact conversion. */
function table(): Uint32Array {
  if (f16Table) return f16Table;
  const t = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = f16BitsToF32Bits(h);
  f16Table = t;
  return t;
}

/** Half-precision bit patterns -> float32 (bit-exact). */
export function f16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  const t = table();
  for (let i = 0; i < src.length; i++) bits[i] = t[src[i]];
  return out;
}

/** bfloat16 bit patterns -> float32: bfloat16 is the top half of a float32. */
export function bf16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  return out;
}

/**
 * Raw little-endian bytes of `n` elements of `dtype` (in a buffer whose byteOffset is 0, so any
 * typed view is aligned) -> tslm storage. `what` names the tensor for errors.
 */
export function convertToStorage(dtype: string, buf: ArrayBuffer, n: number, what: string): Float32Array | Int32Array {
  if (!IS_LITTLE_ENDIAN) throw new Error(`${what}: safetensors data is little-endian and this machine is big-endian, which tslm does not support`);
  const outOfRange = (i: number, v: bigint | number): Error =>
    new Error(`${what}: ${dtype} element ${i} has value ${v}, which does not fit in int32 (tslm stores integer tensors as int32)`);
  switch (dtype) {
    case "F32":
      return new Float32Array(buf, 0, n);
    case "F16":
      return f16ToF32(new Uint16Array(buf, 0, n));
    case "BF16":
      return bf16ToF32(new Uint16Array(buf, 0, n));
    case "F64":
      return Float32Array.from(new Float64Array(buf, 0, n));
    case "I32":
      return new Int32Array(buf, 0, n);
    case "U32": {
      const src = new Uint32Array(buf, 0, n);
      for (let i = 0; i < n; i++) if (src[i] > 0x7fffffff) throw outOfRange(i, src[i]);
      return new Int32Array(buf, 0, n);
    }
    case "I64":
    case "U64": {
      // Each element is (low word, high word); it fits in int32 when the high word is the sign
      // extension of the low one (I64) or zero with a non-negative low word (U64).
      const w = new Int32Array(buf, 0, 2 * n);
      const out = new Int32Array(n);
      const signed = dtype === "I64";
      for (let i = 0; i < n; i++) {
        const lo = w[2 * i];
        const hi = w[2 * i + 1];
        if (signed ? hi !== lo >> 31 : hi !== 0 || lo < 0) {
          throw outOfRange(i, signed ? new BigInt64Array(buf, 8 * i, 1)[0] : new BigUint64Array(buf, 8 * i, 1)[0]);
        }
        out[i] = lo;
      }
      return out;
    }
    case "I16":
      return Int32Array.from(new Int16Array(buf, 0, n));
    case "U16":
      return Int32Array.from(new Uint16Array(buf, 0, n));
    case "I8":
      return Int32Array.from(new Int8Array(buf, 0, n));
    case "U8":
      return Int32Array.from(new Uint8Array(buf, 0, n));
    case "BOOL": {
      // The reference stores bools as one byte, 0 or 1; anything else is a corrupt file.
      const src = new Uint8Array(buf, 0, n);
      for (let i = 0; i < n; i++) if (src[i] > 1) throw new Error(`${what}: BOOL element ${i} has byte value ${src[i]} (expected 0 or 1)`);
      return Int32Array.from(src);
    }
    default:
      throw new Error(`${what}: dtype ${dtype} cannot be converted to float32 or int32 by tslm`);
  }
}

/**
 * float32 bit pattern -> half-precision bit pattern, round to nearest even (IEEE; what PyTorch's
 * `.half()` and x86 F16C give): overflow -> +-inf, results below half the smallest subnormal -> +-0,
 * NaN -> quiet NaN with the top payload bits.
 */
export function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  const e = exp - 127 + 15; // the half's biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Half subnormal: value = m * 2^(e - 38) with the implicit bit in m, so the half mantissa is
    // m >> (14 - e). Below 2^-25 (e < -10) everything rounds to zero.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h++; // a carry into bit 10 gives the smallest normal: correct
    return sign | h;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // a carry may reach 0x7c00 (inf): correct
  return h;
}

/** float32 bit pattern -> bfloat16 bit pattern, round to nearest even; NaN stays a quiet NaN. */
export function f32BitsToBf16Bits(x: number): number {
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return (x >>> 16) | 0x40;
  // Adding 0x7fff plus the kept part's lowest bit rounds half to even; overflow reaches inf.
  return ((x >>> 0) + 0x7fff + ((x >>> 16) & 1)) >>> 16;
}

/** float32 values -> half-precision bit patterns (see f32BitsToF16Bits). */
export function f32ToF16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < out.length; i++) out[i] = f32BitsToF16Bits(bits[i]);
  return out;
}

/** float32 values -> bfloat16 bit patterns (see f32BitsToBf16Bits). */
export function f32ToBf16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < out.length; i++) out[i] = f32BitsToBf16Bits(bits[i]);
  return out;
}
