// Splits, token-stream views and the batch sampler: seeded and deterministic splits, windows that
// are exact slices of the stream, sequential coverage, and exact resumption from saved state.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ArrayTokens,
  BatchSampler,
  FileTokens,
  SegmentedTokens,
  groupIntoBlocks,
  packDocuments,
  readAll,
  splitByDocuments,
  splitByTokens,
  type SamplerState,
  wrapRows,
} from "../../src/data/index.js";

/** 0, 1, 2, ... so a window's content reveals where it came from. */
function iota(n: number): ArrayTokens {
  return new ArrayTokens(Int32Array.from({ length: n }, (_, i) => i));
}

function docRanges(lengths: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let s = 0;
  for (const l of lengths) {
    out.push([s, s + l]);
    s += l;
  }
  return out;
}

describe("token streams and splits", () => {
  it("segmented views read across segment boundaries; file streams equal arrays", () => {
    const base = iota(100);
    const v = new SegmentedTokens(base, [[10, 13], [50, 50], [0, 2], [90, 100]]);
    expect(v.length).toBe(15);
    expect(Array.from(readAll(v))).toEqual([10, 11, 12, 0, 1, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
    const out = new Int32Array(4);
    v.read(2, 4, out);
    expect(Array.from(out)).toEqual([12, 0, 1, 90]);
    expect(() => v.read(13, 3, out)).toThrow(/outside the stream of 15/);
    const p = join(mkdtempSync(join(tmpdir(), "tslm-tok-")), "t.bin");
    writeFileSync(p, new Uint8Array(Uint16Array.from([7, 65535, 3, 4]).buffer));
    const f = new FileTokens(p, "uint16", 4);
    expect(Array.from(readAll(f))).toEqual([7, 65535, 3, 4]);
    f.close();
  });

  it("by documents: seeded, deterministic, disjoint, whole documents, corpus order kept", () => {
    const lengths = Array.from({ length: 50 }, (_, i) => 3 + (i % 5));
    const docs = docRanges(lengths);
    const base = iota(docs.at(-1)![1]);
    const a = splitByDocuments(base, docs, 0.1, 1);
    const b = splitByDocuments(base, docs, 0.1, 1);
    const c = splitByDocuments(base, docs, 0.1, 2);
    const va = Array.from(readAll(a.validation));
    expect(Array.from(readAll(b.validation))).toEqual(va);
    expect(Array.from(readAll(c.validation))).not.toEqual(va);
    const tr = Array.from(readAll(a.train));
    expect(tr.length + va.length).toBe(base.length);
    expect([...tr, ...va].sort((x, y) => x - y)).toEqual(Array.from(readAll(base)));
    // 5 of 50 documents, each whole: validation is a union of complete document ranges.
    const starts = new Set(docs.map(([s]) => s));
    const valDocs = docs.filter(([s]) => va.includes(s));
    expect(valDocs.length).toBe(5);
    expect(valDocs.reduce((n, [s, e]) => n + e - s, 0)).toBe(va.length);
    for (let i = 1; i < tr.length; i++) expect(tr[i]! > tr[i - 1]! || starts.has(tr[i]!)).toBe(true);
    expect(() => splitByDocuments(base, [[0, 10]], 0.5)).toThrow(/cannot leave any for training/);
  });

  it("by tokens: the last fraction; packing and blocks", () => {
    const s = splitByTokens(iota(1000), 0.05);
    expect(s.train.length).toBe(950);
    expect(Array.from(readAll(s.validation)).slice(0, 2)).toEqual([950, 951]);
    expect(Array.from(packDocuments([[1, 2], [3]], 0))).toEqual([1, 2, 0, 3, 0]);
    expect(Array.from(packDocuments([[1, 2], [3]], null))).toEqual([1, 2, 3]);
    const blocks = groupIntoBlocks(iota(10), 4);
    expect(blocks.map((b) => Array.from(b))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect(wrapRows(blocks, [101], [102]).map((b) => Array.from(b))).toEqual([[101, 0, 1, 2, 3, 102], [101, 4, 5, 6, 7, 102]]);
  });
});

describe("BatchSampler", () => {
  it("random windows: B slices of T + 1 tokens at valid offsets; inputs / targets shifted by one", () => {
    const N = 500;
    const s = new BatchSampler(iota(N), { batchSize: 8, blockSize: 16, seed: 3 });
    const seen = new Set<number>();
    for (let k = 0; k < 200; k++) {
      const b = s.next()!;
      expect(b.windows.length).toBe(8 * 17);
      for (let r = 0; r < 8; r++) {
        const o = b.offsets[r]!;
        expect(o >= 0 && o + 17 <= N).toBe(true);
        expect(b.windows[r * 17]).toBe(o);
        expect(b.windows[r * 17 + 16]).toBe(o + 16);
        seen.add(o);
      }
      if (k === 0) {
        const x = b.inputs();
        const y = b.targets();
        expect(x.shape).toEqual([8, 16]);
        expect(x.dtype).toBe("int32");
        expect((y.data as Int32Array)[0]).toBe((x.data as Int32Array)[0]! + 1);
        expect(() => b.causalLM()).toThrow(/shifted: false/);
      }
    }
    // 1600 draws over 484 starts: both ends are reachable.
    expect(seen.has(0) || seen.has(N - 17)).toBe(true);
    expect(seen.size).toBeGreaterThan(400);
    const again = new BatchSampler(iota(N), { batchSize: 8, blockSize: 16, seed: 3 });
    const other = new BatchSampler(iota(N), { batchSize: 8, blockSize: 16, seed: 4 });
    const first = new BatchSampler(iota(N), { batchSize: 8, blockSize: 16, seed: 3 }).next()!;
    expect(again.next()!.offsets).toEqual(first.offsets);
    expect(other.next()!.offsets).not.toEqual(first.offsets);
  });

  it("resumes exactly: state after k batches, restored in a fresh sampler, gives the same next batches", () => {
    for (const order of ["random", "sequential"] as const) {
      const opts = { batchSize: 4, blockSize: 8, seed: 11, order };
      const full = new BatchSampler(iota(1000), opts);
      const all = Array.from({ length: 12 }, () => Array.from(full.next()!.windows));
      const part = new BatchSampler(iota(1000), opts);
      for (let k = 0; k < 5; k++) part.next();
      const state = part.getState();
      expect(state.generator.every((x) => x === null || Number.isFinite(x))).toBe(true); // strict-JSON safe
      const saved = JSON.parse(JSON.stringify(state)) as SamplerState;
      const resumed = new BatchSampler(iota(1000), opts);
      resumed.setState(saved);
      for (let k = 5; k < 12; k++) expect(Array.from(resumed.next()!.windows), `${order} batch ${k}`).toEqual(all[k]);
    }
    const s = new BatchSampler(iota(1000), { batchSize: 4, blockSize: 8 });
    expect(() => new BatchSampler(iota(999), { batchSize: 4, blockSize: 8 }).setState(s.getState())).toThrow(/streamLength is 1000, this sampler has 999/);
  });

  it("sequential: non-overlapping windows cover the stream once, then null; HF layout with shifted: false", () => {
    const N = 103;
    const s = new BatchSampler(iota(N), { batchSize: 4, blockSize: 10, order: "sequential" });
    expect(s.windowsPerEpoch).toBe(10); // starts 0, 10, ..., 90 (window 90..100 inclusive fits)
    expect(s.batchesPerEpoch).toBe(3);
    const targets: number[] = [];
    const batches = [...s.batches()];
    expect(batches.map((b) => b.rows)).toEqual([4, 4, 2]);
    for (const b of batches) targets.push(...Array.from(b.targets().data));
    expect(targets).toEqual(Array.from({ length: 100 }, (_, i) => i + 1)); // every token a target once
    expect(s.next()).toBe(null);
    s.reset();
    expect(s.next()!.offsets).toEqual([0, 10, 20, 30]);
    expect(s.getState().epoch).toBe(1);
    const drop = new BatchSampler(iota(N), { batchSize: 4, blockSize: 10, order: "sequential", dropLast: true });
    expect([...drop.batches()].length).toBe(2);
    const hf = new BatchSampler(iota(N), { batchSize: 2, blockSize: 10, order: "sequential", shifted: false });
    const b = hf.next()!;
    const lm = b.causalLM();
    expect(lm.input_ids.shape).toEqual([2, 10]);
    expect(Array.from(lm.labels.data)).toEqual(Array.from(lm.input_ids.data));
    expect(Array.from(lm.input_ids.data).slice(9, 11)).toEqual([9, 10]);
    expect(() => b.targets()).toThrow(/not shifted/);
  });

  it("rejects a stream shorter than one window and bad options", () => {
    expect(() => new BatchSampler(iota(16), { batchSize: 1, blockSize: 16 })).toThrow(/16 tokens, fewer than one window of 17/);
    expect(() => new BatchSampler(iota(100), { batchSize: 0, blockSize: 16 })).toThrow(/batchSize must be a positive integer/);
    expect(() => new BatchSampler(iota(100), { batchSize: 1, blockSize: 16, shuffle: true } as never)).toThrow(/unknown option "shuffle"/);
  });
});
