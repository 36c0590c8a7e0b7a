// Safetensors reader and writer against files written by Python's safetensors (fixtures/io, made
// by tools/golden/io_safetensors.py): exact values, byte-identical output, dtype conversions.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Tensor } from "../../src/tensor/tensor.js";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, loadSafetensors, openSafetensors, readSafetensorsHeader, saveSafetensors } from "../../src/io/index.js";
import { readJSON, repoRoot } from "../helpers.js";

interface ExpectedTensor {
  shape: number[];
  file_dtype: string;
  bits?: number[];
  values: (number | string)[];
}
interface Expected {
  half_source: Record<string, { shape: number[]; bits: number[] }>;
  patterns_to_f16_sha256: string;
  patterns_to_bf16_sha256: string;
  all_f16_to_f32_sha256: string;
  all_bf16_to_f32_sha256: string;
  files: Record<string, { tensors: Record<string, ExpectedTensor>; metadata?: Record<string, string>; transposed_base?: { shape: number[]; bits: number[] } } & Record<string, unknown>>;
}

const expected = readJSON<Expected>("fixtures/io/expected.json");
const fx = (name: string): string => join(repoRoot, "fixtures/io", name);
const tmp = mkdtempSync(join(tmpdir(), "tslm-io-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const isNaNBits = (b: number): boolean => (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0;

/**
 * Compares a float tensor's bit patterns with the fixture, naming the first mismatches. NaNs must be
 * NaN with the same sign: PyTorch's own NaN payloads differ between its vectorised and scalar paths
 * (0x7dff -> 0x7fffe000 in bulk, 0x7fffffff in a tensor's scalar tail); the all-patterns digest
 * test pins tslm to the bulk result.
 */
function expectBits(name: string, t: Tensor, e: ExpectedTensor): void {
  expect(t.dtype, name).toBe("float32");
  expect([...t.shape], name).toEqual(e.shape);
  const got = new Uint32Array(Float32Array.from(t.toTypedArray()).buffer);
  const bad: string[] = [];
  e.bits!.forEach((b, i) => {
    const same = got[i] === b || (isNaNBits(b) && isNaNBits(got[i]) && got[i] >>> 31 === b >>> 31);
    if (!same && bad.length < 5) bad.push(`[${i}] got 0x${got[i].toString(16)}, expected 0x${b.toString(16)} (${e.values[i]})`);
  });
  expect(bad, name).toEqual([]);
  expect(got.length, name).toBe(e.bits!.length);
}

function f32FromBits(bits: number[]): Float32Array {
  return new Float32Array(Uint32Array.from(bits).buffer);
}

describe("safetensors reader on reference files", () => {
  for (const file of ["f32.safetensors", "f16.safetensors", "bf16.safetensors"]) {
    it(`reads ${file} bit-exactly`, () => {
      const loaded = loadSafetensors(fx(file));
      const exp = expected.files[file].tensors;
      expect([...loaded.keys()].sort()).toEqual(Object.keys(exp).sort());
      for (const [k, e] of Object.entries(exp)) expectBits(`${file}:${k}`, loaded.get(k)!, e);
    });
  }

  it("reads 0-d and zero-size tensors with their shapes", () => {
    const f = openSafetensors(fx("f32.safetensors"));
    try {
      const s = f.read("scalar");
      expect(s.shape).toEqual([]);
      expect(s.item()).toBe(3.5);
      const e = f.read("empty");
      expect(e.shape).toEqual([0, 3]);
      expect(e.size).toBe(0);
      expect(f.info("empty").byteRange[0]).toBe(f.info("empty").byteRange[1]);
    } finally {
      f.close();
    }
  });

  it("exposes metadata, dtypes, shapes and absolute byte ranges lazily", () => {
    const f = openSafetensors(fx("f16.safetensors"));
    try {
      expect(f.metadata).toEqual({});
      const info = f.info("mat");
      expect(info.dtype).toBe("F16");
      expect(info.shape).toEqual([2, 3]);
      expect(info.byteRange[1] - info.byteRange[0]).toBe(12);
      expect(info.byteRange[0]).toBeGreaterThanOrEqual(f.dataStart);
      expect(() => f.info("nope")).toThrow(/f16\.safetensors: no tensor "nope"/);
    } finally {
      f.close();
    }
    expect(() => f.read("mat")).toThrow(/after close/);
    const m = readSafetensorsHeader(fx("metadata.safetensors"));
    expect(m.metadata).toEqual(expected.files["metadata.safetensors"].metadata);
    expect(readSafetensorsHeader(fx("f32.safetensors")).metadata).toEqual({ format: "pt" });
  });

  it("converts integer and bool tensors to int32", () => {
    const loaded = loadSafetensors(fx("int.safetensors"));
    for (const [k, e] of Object.entries(expected.files["int.safetensors"].tensors)) {
      const t = loaded.get(k)!;
      expect(t.dtype, k).toBe("int32");
      expect([...t.shape], k).toEqual(e.shape);
      expect(Array.from(t.toTypedArray()), k).toEqual(e.values);
    }
  });

  it("refuses an I64 value outside int32, naming the file, key and element", () => {
    const e = expected.files["int64_big.safetensors"];
    const f = openSafetensors(fx("int64_big.safetensors"));
    try {
      expect(Array.from(f.read("ok").toTypedArray())).toEqual([1, 2]);
      expect(() => f.read(e.bad_key as string)).toThrow(new RegExp(`int64_big\\.safetensors: tensor "too_big".*element ${e.bad_index} has value ${e.bad_value}`));
    } finally {
      f.close();
    }
  });

  it("converts all 65536 F16 and BF16 bit patterns exactly as PyTorch does", () => {
    const every = new Uint16Array(65536);
    for (let i = 0; i < 65536; i++) every[i] = i;
    const sha = (a: Float32Array): string => createHash("sha256").update(new Uint8Array(a.buffer)).digest("hex");
    expect(sha(f16ToF32(every))).toBe(expected.all_f16_to_f32_sha256);
    expect(sha(bf16ToF32(every))).toBe(expected.all_bf16_to_f32_sha256);
    // Spot checks readable without the hash: min subnormal, max, -0, inf.
    const f = f16ToF32(Uint16Array.from([0x0001, 0x7bff, 0x8000, 0x7c00]));
    expect(f[0]).toBe(2 ** -24);
    expect(f[1]).toBe(65504);
    expect(Object.is(f[2], -0)).toBe(true);
    expect(f[3]).toBe(Infinity);
  });
});

describe("safetensors writer", () => {
  it("writes f32 files byte-identical to safetensors.torch.save_file (incl. a non-contiguous tensor)", () => {
    const file = expected.files["f32.safetensors"];
    const tensors = new Map<string, Tensor>();
    for (const [k, e] of Object.entries(file.tensors)) {
      if (k === "transposed") continue;
      tensors.set(k, new Tensor(f32FromBits(e.bits!), e.shape));
    }
    // The reference file holds base.t().contiguous(); give tslm the transposed VIEW of base.
    const base = file.transposed_base!;
    const [r, c] = base.shape;
    const view = new Tensor(f32FromBits(base.bits), [c, r], [1, c], 0);
    expect(view.isContiguous()).toBe(false);
    tensors.set("transposed", view);
    const out = join(tmp, "f32.safetensors");
    saveSafetensors(out, tensors, { format: "pt" });
    expect(Buffer.compare(readFileSync(out), readFileSync(fx("f32.safetensors")))).toBe(0);
    // Record input gives the same bytes.
    saveSafetensors(out, Object.fromEntries(tensors), { format: "pt" });
    expect(Buffer.compare(readFileSync(out), readFileSync(fx("f32.safetensors")))).toBe(0);
  });

  it("writes int32 tensors as I64 byte-identical to PyTorch int64 files", () => {
    const file = expected.files["int64_only.safetensors"];
    const tensors: Record<string, Tensor> = {};
    for (const [k, e] of Object.entries(file.tensors)) tensors[k] = new Tensor(Int32Array.from(e.values as number[]), e.shape);
    const out = join(tmp, "i64.safetensors");
    saveSafetensors(out, tensors, undefined, { intDtype: "I64" });
    expect(Buffer.compare(readFileSync(out), readFileSync(fx("int64_only.safetensors")))).toBe(0);
  });

  for (const [floatDtype, file] of [["F16", "f16_from_f32.safetensors"], ["BF16", "bf16_from_f32.safetensors"]] as const) {
    it(`floatDtype ${floatDtype}: rounds like PyTorch, byte-identical to save_file(t.${floatDtype === "F16" ? "half" : "bfloat16"}())`, () => {
      const tensors: Record<string, Tensor> = {};
      for (const [k, e] of Object.entries(expected.half_source)) tensors[k] = new Tensor(f32FromBits(e.bits), e.shape);
      const out = join(tmp, file);
      saveSafetensors(out, tensors, undefined, { floatDtype });
      expect(Buffer.compare(readFileSync(out), readFileSync(fx(file)))).toBe(0);
    });
  }

  it("F16 and BF16 rounding of 2^20 float32 bit patterns across the whole range equals PyTorch's", () => {
    // p_i = i * 2654435761 mod 2^32, NaNs replaced by 0, exactly as the golden script builds them.
    const n = 1 << 20;
    const pat = new Float32Array(n);
    const bits = new Uint32Array(pat.buffer);
    for (let i = 0; i < n; i++) bits[i] = Number((BigInt(i) * 2654435761n) % 4294967296n);
    for (let i = 0; i < n; i++) if (Number.isNaN(pat[i])) pat[i] = 0;
    const sha = (a: Uint16Array): string => createHash("sha256").update(new Uint8Array(a.buffer)).digest("hex");
    expect(sha(f32ToF16(pat))).toBe(expected.patterns_to_f16_sha256);
    expect(sha(f32ToBf16(pat))).toBe(expected.patterns_to_bf16_sha256);
    // NaN stays NaN through both, and converts back to NaN.
    const nan = Float32Array.from([NaN, -NaN]);
    expect(Array.from(f16ToF32(f32ToF16(nan))).every(Number.isNaN)).toBe(true);
    expect(Array.from(bf16ToF32(f32ToBf16(nan))).every(Number.isNaN)).toBe(true);
  });

  it("round-trips offsets, int32 default dtype, metadata and keys that look like integers", () => {
    const out = join(tmp, "rt.safetensors");
    const data = new Float32Array(24).map((_, i) => i - 3.25);
    const t = new Tensor(data, [2, 3, 4]);
    // A view with a non-zero offset: the middle row block of t.
    const sub = new Tensor(data, [3, 4], [4, 1], 12);
    const ids = new Tensor(Int32Array.from([5, -1, 2147483647]), [3]);
    saveSafetensors(out, { "1": t, "0": sub, ids, "é.w": new Tensor(new Float32Array([1]), []) }, { a: "1", "2": "x" });
    const f = openSafetensors(out);
    try {
      expect(f.info("ids").dtype).toBe("I32");
      expect(f.metadata).toEqual({ a: "1", "2": "x" });
      expect(Array.from(f.read("0").toTypedArray())).toEqual(Array.from(data.subarray(12)));
      expect(Array.from(f.read("1").toTypedArray())).toEqual(Array.from(data));
      expect(Array.from(f.read("ids").toTypedArray())).toEqual([5, -1, 2147483647]);
      expect(f.read("é.w").shape).toEqual([]);
      // F32 before I32 (the reference's dtype order), keys by bytes within a dtype.
      expect(f.keys).toEqual(["0", "1", "é.w", "ids"]);
    } finally {
      f.close();
    }
    // The data section starts at a multiple of 8, padded with spaces.
    const bytes = readFileSync(out);
    const n = Number(bytes.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
  });

  it("rejects bad input before creating any file", () => {
    const out = join(tmp, "bad.safetensors");
    expect(() => saveSafetensors(out, { __metadata__: new Tensor(new Float32Array(1), [1]) })).toThrow(/reserved/);
    expect(() => saveSafetensors(out, { a: new Tensor(new Float32Array(1), [1]) }, { k: 3 as unknown as string })).toThrow(/metadata value for "k" must be a string/);
    expect(() => saveSafetensors(out, { a: [1, 2] as unknown as Tensor })).toThrow(/"a" is not a Tensor/);
    expect(readdirSync(tmp).filter((f) => f.startsWith("bad") || f.startsWith(".bad"))).toEqual([]);
  });
});
