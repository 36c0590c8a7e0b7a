// GenerationConfig validation (unknown and unsupported fields are errors naming the supported
// ones), the processor list built from a config, greedy ties, seeded sampling reproducibility,
// and stopping criteria (max length, EOS, stop strings with trimmed text, max time).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  EosTokenCriteria,
  GenerationConfig,
  MaxLengthCriteria,
  MaxNewTokensCriteria,
  MaxTimeCriteria,
  MinPLogitsWarper,
  StopStringCriteria,
  StoppingCriteriaList,
  TemperatureLogitsWarper,
  TopKLogitsWarper,
  TopPLogitsWarper,
  argmaxRow,
  argsortAscending,
  buildLogitsProcessors,
  greedy,
  kthLargest,
  sample,
  sampleWithoutReplacement,
} from "../../src/generate/index.js";
import { Generator } from "../../src/tensor/index.js";

describe("GenerationConfig", () => {
  it("takes HF defaults for unset fields", () => {
    const c = new GenerationConfig({});
    expect(c.max_length).toBe(20);
    expect(c.top_k).toBe(50);
    expect(c.do_sample).toBe(false);
    expect(c.early_stopping).toBe(false);
  });

  it("reads generation_config.json with inert fields and a list of EOS ids", () => {
    const dir = mkdtempSync(join(tmpdir(), "tslm-gen-"));
    const p = join(dir, "generation_config.json");
    writeFileSync(p, JSON.stringify({ bos_token_id: 128000, eos_token_id: [128001, 128009], do_sample: true, temperature: 0.6, top_p: 0.9, transformers_version: "4.40.0", num_beam_groups: 1 }));
    const c = GenerationConfig.fromFile(p);
    expect(c.eosTokenIds()).toEqual([128001, 128009]);
    expect(c.temperature).toBe(0.6);
    expect(c.toJSON()).toEqual({ bos_token_id: 128000, eos_token_id: [128001, 128009], do_sample: true, temperature: 0.6, top_p: 0.9 });
  });

  it("rejects unknown fields, listing the supported ones", () => {
    expect(() => new GenerationConfig({ max_new_token: 5 })).toThrow(/unknown generation field "max_new_token".*supported fields: .*max_new_tokens/);
  });

  it("rejects unsupported fields set to a value that changes the output", () => {
    expect(() => new GenerationConfig({ guidance_scale: 1.5 })).toThrow(/guidance_scale=1.5 is not supported.*supported fields/);
    expect(() => new GenerationConfig({ top_h: 0.4 })).toThrow(/top_h/);
    expect(() => new GenerationConfig({ num_beam_groups: 2 })).toThrow(/num_beam_groups/);
    expect(() => new GenerationConfig({ force_words_ids: [[1]] })).toThrow(/force_words_ids/);
    expect(() => new GenerationConfig({ bad_words_ids: [[1, -2]] })).toThrow(/bad_words_ids\[0\]/);
    // HF's own "off" values pass.
    expect(() => new GenerationConfig({ guidance_scale: 1.0, num_beam_groups: 1, diversity_penalty: 0.0 })).not.toThrow();
  });

  it("validates values and combinations", () => {
    expect(() => new GenerationConfig({ top_p: 1.5 })).toThrow(/top_p must be in \[0, 1\]/);
    expect(() => new GenerationConfig({ max_new_tokens: 0 })).toThrow(/max_new_tokens/);
    expect(() => new GenerationConfig({ early_stopping: "always" })).toThrow(/early_stopping/);
    expect(() => new GenerationConfig({ num_return_sequences: 2 })).toThrow(/greedy decoding.*cannot return 2/);
    expect(() => new GenerationConfig({ num_beams: 2, num_return_sequences: 3 })).toThrow(/must be <= num_beams/);
    expect(() => new GenerationConfig({ do_sample: true, temperature: 0 })).toThrow(/greedy/);
    expect(() => new GenerationConfig({ eos_token_id: [] })).toThrow(/eos_token_id/);
    expect(() => new GenerationConfig({ logit_bias: { "5": 200 } })).toThrow(/\[-100, 100\]/);
    expect(() => new GenerationConfig({ frequency_penalty: 3 })).toThrow(/frequency_penalty/);
  });

  it("maps camelCase options and rejects unknown ones", () => {
    const c = GenerationConfig.fromOptions({ maxNewTokens: 7, topK: 5, doSample: true, noRepeatNgramSize: 3, stopStrings: "END" });
    expect(c.max_new_tokens).toBe(7);
    expect(c.top_k).toBe(5);
    expect(c.no_repeat_ngram_size).toBe(3);
    expect(c.stop_strings).toEqual(["END"]);
    expect(c.maxLengthFor(10)).toBe(17);
    expect(() => GenerationConfig.fromOptions({ numBeam: 3 } as never)).toThrow(/unknown generation option "numBeam".*numBeams/);
    const d = c.with({ temperature: 0.5 });
    expect(d.temperature).toBe(0.5);
    expect(d.top_k).toBe(5);
  });

  it("builds HF's processor order, warpers only when sampling", () => {
    const greedyList = buildLogitsProcessors(new GenerationConfig({ temperature: 0.7, top_k: 5 }), { promptLength: 3 });
    expect(greedyList.length).toBe(0);
    const c = new GenerationConfig({ do_sample: true, temperature: 0.7, top_p: 0.9, min_p: 0.1, repetition_penalty: 1.1, eos_token_id: 2 });
    const names = buildLogitsProcessors(c, { promptLength: 3 }).processors.map((p) => p.constructor.name);
    expect(names).toEqual(["RepetitionPenaltyLogitsProcessor", "TemperatureLogitsWarper", "TopKLogitsWarper", "TopPLogitsWarper", "MinPLogitsWarper"]);
  });
});

describe("greedy and sampling", () => {
  it("argmax takes the first index on ties", () => {
    const s = Float32Array.from([1, 3, 3, 0, -Infinity, 3]);
    expect(argmaxRow(s, 6)).toBe(1);
    expect(greedy(Float32Array.from([0, 5, 5, 2, 2, 1]), 3)).toEqual([1, 0]);
  });

  it("seeded sampling is reproducible and follows the distribution", () => {
    const V = 5;
    const logits = Float32Array.from([0, Math.log(2), Math.log(3), -Infinity, Math.log(4)]);
    const draw = (seed: number) => {
      const g = new Generator(seed);
      return Array.from({ length: 2000 }, () => sample(logits, V, g)[0]);
    };
    const a = draw(42);
    expect(draw(42)).toEqual(a);
    expect(draw(43)).not.toEqual(a);
    const counts = [0, 1, 2, 3, 4].map((i) => a.filter((x) => x === i).length / a.length);
    expect(counts[3]).toBe(0); // -inf is never drawn
    [0.1, 0.2, 0.3, 0, 0.4].forEach((p, i) => expect(Math.abs(counts[i] - p)).toBeLessThan(0.04));
  });

  it("sampling after warpers stays inside the kept set", () => {
    const g = new Generator(7);
    const V = 8;
    for (let t = 0; t < 200; t++) {
      const s = Float32Array.from({ length: V }, () => g.normal() * 2);
      const ids = [[1, 2]];
      new TemperatureLogitsWarper(0.8).apply(ids, s);
      new TopKLogitsWarper(4).apply(ids, s);
      new TopPLogitsWarper(0.8).apply(ids, s);
      new MinPLogitsWarper(0.05).apply(ids, s);
      const id = sample(s, V, g)[0];
      expect(Number.isFinite(s[id])).toBe(true);
    }
  });

  it("sampling a fully filtered row is an error", () => {
    expect(() => sample(Float32Array.from([-Infinity, -Infinity]), 2, new Generator(1))).toThrow(/every score of row 0 is -inf/);
  });
});

describe("stopping criteria", () => {
  it("max length, max new tokens and EOS", () => {
    expect(new MaxLengthCriteria(4).isDone([[1, 2, 3], [1, 2, 3, 4]])).toEqual([false, true]);
    expect(new MaxNewTokensCriteria(2, 2).isDone([[1, 2, 3], [1, 2, 3, 4]])).toEqual([false, true]);
    expect(new EosTokenCriteria([7, 9]).isDone([[1, 9], [7, 1], [7]])).toEqual([true, false, true]);
    const list = new StoppingCriteriaList([new MaxLengthCriteria(5), new EosTokenCriteria(0)]);
    expect(list.isDone([[1, 0], [1, 2]])).toEqual([true, false]);
    expect(list.maxLength).toBe(5);
  });

  it("max time", () => {
    let now = 100;
    const c = new MaxTimeCriteria(2, () => now);
    expect(c.isDone([[1]])).toEqual([false]);
    now = 102.5;
    expect(c.isDone([[1], [2]])).toEqual([true, true]);
  });

  it("stop strings on decoded continuations, with trimmed text", () => {
    // A toy tokenizer: id i decodes to PIECES[i].
    const PIECES = ["<p>", "Hel", "lo", " wor", "ld", "\n", "##", "#", "END"];
    const tok = { decode: (ids: ArrayLike<number>) => Array.from(ids, (i) => PIECES[i]).join("") };
    const c = new StopStringCriteria(tok, ["\n##", "END"], 1);
    const rows = [[0], [0]];
    const steps = [[1, 1], [2, 7], [5, 8], [6, 3]];
    const done: boolean[][] = [];
    for (const [a, b] of steps) {
      rows[0].push(a);
      rows[1].push(b);
      done.push(c.isDone(rows));
    }
    expect(done.map((d) => d[0])).toEqual([false, false, false, true]); // "Hello\n##"
    expect(done.map((d) => d[1])).toEqual([false, false, true, true]); // "Hel#END"
    expect(c.trimmedText(0)).toBe("Hello");
    expect(c.matched(0)).toBe("\n##");
    expect(c.trimmedText(1)).toBe("Hel#");
    expect(c.matched(1)).toBe("END");
    // The prompt is not searched.
    const d = new StopStringCriteria(tok, "END", 2);
    expect(d.isDone([[8, 8, 1]])).toEqual([false]);
  });
});

describe("fast paths of the warpers equal the plain rule", () => {
  /** HF's top-p rule with a full stable sort, in double precision. */
  function topPReference(row: Float32Array, p: number, keep: number): boolean[] {
    const n = row.length;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => row[a] - row[b] || a - b);
    const max = Math.max(...row);
    const e = order.map((i) => Math.fround(Math.exp(Math.fround(row[i] - max))));
    const sum = e.reduce((a, b) => a + b, 0);
    const inv = Math.fround(1 / Math.fround(sum));
    const removed = new Array<boolean>(n).fill(false);
    let cum = 0;
    for (let r = 0; r < n - keep; r++) {
      cum += Math.fround(e[r] * inv);
      if (Math.fround(cum) <= Math.fround(1 - p)) removed[order[r]] = true;
    }
    return removed;
  }

  it("top-p on large vocabularies (candidate path) and after top-k (-inf path)", () => {
    const g = new Generator(11);
    let candidateCases = 0;
    for (const scale of [2, 4, 8]) {
      for (const p of [0.5, 0.9, 0.95]) {
        const V = 20000;
        const row = Float32Array.from({ length: V }, () => Math.fround(g.normal() * scale));
        // A few exact ties among the top scores.
        row[5] = row[6] = row[7] = Math.fround(3 * scale);
        const want = topPReference(row, p, 1);
        const got = new TopPLogitsWarper(p).apply([[0]], Float32Array.from(row));
        const diff = want.map((w, i) => (w !== (got[i] === -Infinity) ? i : -1)).filter((i) => i >= 0);
        expect(diff, `scale ${scale}, top_p ${p}`).toEqual([]);
        if (want.filter((w) => !w).length < V / 16) candidateCases++;
      }
    }
    expect(candidateCases).toBeGreaterThan(3);
    // After top-k most scores are -inf: only the finite ones are sorted.
    const row = Float32Array.from({ length: 5000 }, () => g.normal() * 3);
    new TopKLogitsWarper(40).apply([[0]], row);
    const want = topPReference(row, 0.8, 1);
    const got = new TopPLogitsWarper(0.8).apply([[0]], Float32Array.from(row));
    expect(Array.from(got, (v) => v === -Infinity)).toEqual(want);
  });

  it("kthLargest and argsortAscending agree with sorting", () => {
    const g = new Generator(5);
    for (const n of [1, 2, 7, 100, 3001]) {
      const row = Float32Array.from({ length: n }, () => Math.round(g.normal() * 4) / 2); // many ties
      if (n > 3) row[1] = -Infinity;
      const asc = Array.from({ length: n }, (_, i) => i).sort((a, b) => row[a] - row[b] || a - b);
      expect(Array.from(argsortAscending(row))).toEqual(asc);
      for (const k of [1, Math.ceil(n / 2), n]) expect(kthLargest(row, k)).toBe(row[asc[n - k]]);
    }
  });
});

describe("sampleWithoutReplacement", () => {
  it("draws distinct indices, the first one with softmax probabilities", () => {
    const g = new Generator(3);
    const v = Float32Array.from([Math.log(0.5), Math.log(0.3), -Infinity, Math.log(0.2)]);
    const first = [0, 0, 0, 0];
    for (let t = 0; t < 3000; t++) {
      const d = sampleWithoutReplacement(v, 3, g);
      expect(new Set(d).size).toBe(3);
      expect(d.includes(2)).toBe(false);
      first[d[0]]++;
    }
    [0.5, 0.3, 0, 0.2].forEach((p, i) => expect(Math.abs(first[i] / 3000 - p)).toBeLessThan(0.03));
    expect(() => sampleWithoutReplacement(v, 4, g)).toThrow(/only 3 candidates/);
  });
});
