// Malformed safetensors files: every error names the file and, where there is one, the tensor key
// and the byte offset; nothing crashes or allocates what a corrupt length asks for. Also the
// beyond-2-GiB offset path, through a sparse file (no disk cost).
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadSafetensors, openSafetensors, saveSafetensors } from "../../src/io/index.js";
import { Tensor } from "../../src/tensor/tensor.js";

const dir = mkdtempSync(join(tmpdir(), "tslm-io-corrupt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
/** Writes [u64 length][header text][data] exactly as given (no validation, no padding). */
function rawFile(header: string, data: Uint8Array | number = 0, lengthOverride?: bigint): string {
  const p = join(dir, `f${counter++}.safetensors`);
  const h = Buffer.from(header, "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthOverride ?? BigInt(h.length));
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  writeFileSync(p, Buffer.concat([len, h, body]));
  return p;
}

const entry = (dtype: string, shape: number[], b: number, e: number): object => ({ dtype, shape, data_offsets: [b, e] });

function good(): string {
  const p = join(dir, `good${counter++}.safetensors`);
  saveSafetensors(p, { a: new Tensor(new Float32Array([1, 2, 3, 4]), [2, 2]), b: new Tensor(new Float32Array([5, 6]), [2]) });
  return p;
}

describe("corrupt safetensors files", () => {
  it("truncated file: names the file and the tensor that runs past the end", () => {
    const p = good();
    const bytes = readFileSync(p);
    writeFileSync(p, bytes.subarray(0, bytes.length - 3));
    expect(() => openSafetensors(p)).toThrow(new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: tensor "b" data_offsets \\[16, 24\\] run past the end of the file.*byte offset`));
  });

  it("file shorter than the length prefix", () => {
    const p = join(dir, "tiny.safetensors");
    writeFileSync(p, Buffer.from([1, 2, 3]));
    expect(() => openSafetensors(p)).toThrow(/tiny\.safetensors: file is 3 bytes, too short/);
  });

  it("header length past the end of the file (incl. huge values) fails before allocating", () => {
    const p = rawFile("{}", 0, 1000n);
    expect(() => openSafetensors(p)).toThrow(/header length 1000 \(bytes 0\.\.8\) runs past the end of the file \(10 bytes/);
    const q = rawFile("{}", 0, 0xffffffffffffffffn);
    expect(() => openSafetensors(q)).toThrow(/header length 18446744073709551615 .* runs past the end/);
  });

  it("malformed JSON: names the byte offset in the file", () => {
    const p = rawFile('{"a": {"dtype": "F32",, "shape": [1], "data_offsets": [0, 4]}}', 4);
    // The second comma is at character 22 of the header, file byte 8 + 22.
    expect(() => openSafetensors(p)).toThrow(/is not valid JSON at byte offset 30: expected a string key/);
    const q = rawFile("[1, 2]");
    expect(() => openSafetensors(q)).toThrow(/header must start with '\{' \(byte offset 8\)/);
    const r = rawFile('{"a": 1} x');
    expect(() => openSafetensors(r)).toThrow(/not valid JSON at byte offset 17: unexpected data after the JSON value/);
    const s = join(dir, "notutf8.safetensors");
    writeFileSync(s, Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([0x7b, 0xff, 0xfe, 0x7d])]));
    expect(() => openSafetensors(s)).toThrow(/not valid UTF-8/);
  });

  it("overlapping offsets name both tensors and the offset", () => {
    const p = rawFile(JSON.stringify({ a: entry("F32", [2], 0, 8), b: entry("F32", [2], 4, 12) }), 12);
    expect(() => openSafetensors(p)).toThrow(/tensor "b" data_offsets \[4, 12\] overlap tensor "a" which ends at 8 \(file byte offset \d+\)/);
  });

  it("offsets out of order, with gaps, or past the end", () => {
    const rev = rawFile(JSON.stringify({ a: entry("F32", [1], 8, 4) }), 8);
    expect(() => openSafetensors(rev)).toThrow(/tensor "a": data_offsets \[8, 4\] end before they begin/);
    const gap = rawFile(JSON.stringify({ a: entry("F32", [1], 0, 4), b: entry("F32", [1], 8, 12) }), 12);
    expect(() => openSafetensors(gap)).toThrow(/gap in the data section before tensor "b": bytes 4\.\.8/);
    const past = rawFile(JSON.stringify({ a: entry("F32", [4], 0, 16) }), 8);
    expect(() => openSafetensors(past)).toThrow(/tensor "a" data_offsets \[0, 16\] run past the end of the file/);
    const trailing = rawFile(JSON.stringify({ a: entry("F32", [1], 0, 4) }), 8);
    expect(() => openSafetensors(trailing)).toThrow(/4 bytes after the last tensor belong to no tensor/);
  });

  it("size not matching shape x dtype, and unaligned sizes", () => {
    const p = rawFile(JSON.stringify({ w: entry("F32", [3], 0, 8) }), 8);
    expect(() => openSafetensors(p)).toThrow(/tensor "w": data_offsets \[0, 8\] span 8 bytes, but F32 shape \[3\] needs 12 bytes/);
    const q = rawFile(JSON.stringify({ w: entry("F16", [3], 0, 5) }), 5);
    expect(() => openSafetensors(q)).toThrow(/span 5 bytes \(5 is not a multiple of the F16 element size\)/);
  });

  it("unknown dtype lists the known ones; known-but-unsupported dtypes fail on read only", () => {
    const p = rawFile(JSON.stringify({ w: entry("F12", [1], 0, 2) }), 2);
    expect(() => openSafetensors(p)).toThrow(/tensor "w": unknown dtype "F12" \(known: BOOL, .*F32.*\)/);
    const q = rawFile(JSON.stringify({ w: entry("F8_E4M3", [2], 0, 2), v: entry("F32", [1], 2, 6) }), 6);
    const f = openSafetensors(q);
    try {
      expect(f.read("v").shape).toEqual([1]);
      expect(() => f.read("w")).toThrow(/tensor "w" \(file byte offset \d+\): dtype F8_E4M3 is not supported/);
    } finally {
      f.close();
    }
  });

  it("bad entries and metadata", () => {
    expect(() => openSafetensors(rawFile(JSON.stringify({ w: { dtype: "F32", shape: [1.5], data_offsets: [0, 4] } }), 4))).toThrow(/tensor "w": "shape" must be a list/);
    expect(() => openSafetensors(rawFile(JSON.stringify({ w: { dtype: "F32", shape: [1] } }), 4))).toThrow(/tensor "w": "data_offsets" must be \[begin, end\]/);
    expect(() => openSafetensors(rawFile(JSON.stringify({ w: 3 })))).toThrow(/tensor "w": header entry must be an object/);
    expect(() => openSafetensors(rawFile(JSON.stringify({ __metadata__: { a: 1 } })))).toThrow(/"__metadata__" value for "a" must be a string/);
    // A header with only metadata and no data is a valid, empty file.
    expect(loadSafetensors(rawFile(JSON.stringify({ __metadata__: { a: "b" } }))).size).toBe(0);
  });

  it("invalid BOOL bytes are refused", () => {
    const p = rawFile(JSON.stringify({ m: entry("BOOL", [2], 0, 2) }), Uint8Array.from([1, 7]));
    expect(() => loadSafetensors(p)).toThrow(/tensor "m".*BOOL element 1 has byte value 7/);
  });
});

describe("offsets beyond 2 GiB and 4 GiB (sparse file)", () => {
  it("reads a tensor stored after byte 5 GiB without reading what precedes it", () => {
    // A U8 filler of 5 GiB + 5 bytes (odd, so nothing is accidentally aligned) then an F32 tensor;
    // the filler's bytes are a hole in a sparse file and are never read.
    const filler = 5 * 2 ** 30 + 5;
    const header = JSON.stringify({ filler: entry("U8", [filler], 0, filler), x: entry("F32", [2, 2], filler, filler + 16) });
    const p = join(dir, "sparse.safetensors");
    const h = Buffer.from(header);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    const fd = openSync(p, "w");
    try {
      writeSync(fd, Buffer.concat([len, h]));
      const dataStart = 8 + h.length;
      ftruncateSync(fd, dataStart + filler + 16);
      const x = new Float32Array([1.5, -2, 3.25, 2 ** -130]);
      writeSync(fd, new Uint8Array(x.buffer), 0, 16, dataStart + filler);
    } finally {
      closeSync(fd);
    }
    const f = openSafetensors(p);
    try {
      const info = f.info("x");
      expect(info.byteRange[0]).toBe(8 + h.length + filler);
      expect(info.byteRange[0]).toBeGreaterThan(2 ** 32);
      const t = f.read("x");
      expect(t.shape).toEqual([2, 2]);
      expect(Array.from(t.toTypedArray())).toEqual([1.5, -2, 3.25, Math.fround(2 ** -130)]);
      expect(f.info("filler").byteRange[1] - f.info("filler").byteRange[0]).toBe(filler);
    } finally {
      f.close();
    }
  });
});
