// T5 span corruption: lengths against the golden table (tools/golden/data_spans.py), the noise mask's
// statistics (density, span count and mean span length, layout), sentinel order, and exact
// reconstruction of the original sequence from inputs + targets.
import { describe, expect, it } from "vitest";
import { Generator } from "../../src/tensor/rng.js";
import {
  SpanCorruptionCollator,
  applySpanCorruption,
  computeInputAndTargetLengths,
  noiseSpanCounts,
  randomSpansNoiseMask,
  roundHalfEven,
} from "../../src/data/index.js";
import { readJSON } from "../helpers.js";

interface Histogram {
  length: number;
  noise_density: number;
  mean_noise_span_length: number;
  draws: number;
  noise_span_lengths: Array<[number, number]>;
  kept_span_lengths: Array<[number, number]>;
}
interface CorruptionCase {
  tokens: number[];
  mask: number[];
  input_ids: number[];
  labels: number[];
}
interface Golden {
  corruption: { vocab_size: number; eos_id: number; cases: CorruptionCase[] };
  lengths: Array<[number, number, number, number, number]>;
  span_counts: Array<[number, number, number, number, number]>;
  span_length_histograms: Histogram[];
}
const golden = readJSON<Golden>("fixtures/data/t5_spans.json");

const V = 32100; // T5's vocabulary: <extra_id_0> = 32099 ... <extra_id_99> = 32000
const EOS = 1;
const sentinel = (k: number) => V - 1 - k;

/** Puts the noise spans from `targets` back in place of the sentinels of `inputs`. */
function reconstruct(inputs: Int32Array, targets: Int32Array): number[] {
  // Map sentinel -> the span after it in the targets (up to the next sentinel or the final EOS).
  const spans = new Map<number, number[]>();
  let cur: number[] | null = null;
  for (let i = 0; i < targets.length - 1; i++) {
    const t = targets[i]!;
    if (t >= V - 100) spans.set(t, (cur = []));
    else cur!.push(t);
  }
  const out: number[] = [];
  for (let i = 0; i < inputs.length - 1; i++) {
    const t = inputs[i]!;
    if (t >= V - 100) out.push(...spans.get(t)!);
    else out.push(t);
  }
  return out;
}

describe("span corruption lengths (golden, HF compute_input_and_target_lengths)", () => {
  it("roundHalfEven rounds like Python", () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001, 85.2, 4].map(roundHalfEven)).toEqual([0, 2, 2, 4, 2, 3, 85, 4]);
  });

  it(`matches all ${golden.lengths.length} rows of the table`, () => {
    const bad: string[] = [];
    for (const [n, d, m, t, g] of golden.lengths) {
      const r = computeInputAndTargetLengths(n, d, m);
      if (r.tokensLength !== t || r.targetsLength !== g) bad.push(`(${n}, ${d}, ${m}): got ${r.tokensLength}/${r.targetsLength}, HF ${t}/${g}`);
    }
    expect(bad.slice(0, 10)).toEqual([]);
    expect(computeInputAndTargetLengths(512)).toEqual({ tokensLength: 568, targetsLength: 114 });
  });

  it(`span counts match T5's random_spans_noise_mask for all ${golden.span_counts.length} rows`, () => {
    const bad: string[] = [];
    for (const [L, d, m, nt, ns] of golden.span_counts) {
      const r = noiseSpanCounts(L, d, m);
      if (r.noiseTokens !== nt || r.noiseSpans !== ns) bad.push(`(${L}, ${d}, ${m}): got ${r.noiseTokens}/${r.noiseSpans}, T5 ${nt}/${ns}`);
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });
});

describe("random spans noise mask", () => {
  it("has the exact noise count and span count, starts kept, ends noise; mean span length ~3", () => {
    const g = new Generator(1);
    const L = 568;
    const { noiseTokens, noiseSpans } = noiseSpanCounts(L, 0.15, 3);
    expect([noiseTokens, noiseSpans]).toEqual([85, 28]);
    let spanTotal = 0;
    let spanCount = 0;
    const firstSpanLen: number[] = [];
    for (let trial = 0; trial < 400; trial++) {
      const m = randomSpansNoiseMask(L, 0.15, 3, g);
      expect(m[0]).toBe(0);
      expect(m[L - 1]).toBe(1);
      let noise = 0;
      let spans = 0;
      let run = 0;
      for (let i = 0; i < L; i++) {
        noise += m[i]!;
        if (m[i] && (i === 0 || !m[i - 1])) spans++;
        if (m[i]) run++;
        if (m[i] && (i === L - 1 || !m[i + 1])) {
          if (spans === 1) firstSpanLen.push(run);
          spanTotal += run;
          spanCount++;
          run = 0;
        }
      }
      expect(noise).toBe(noiseTokens);
      expect(spans).toBe(noiseSpans);
    }
    expect(spanTotal / spanCount).toBeCloseTo(85 / 28, 10);
    // The first span's length is random with mean 85/28 (uniform composition of 85 into 28 parts);
    // its std is about 2.5, so the mean of 400 draws lies within 5 * 2.5 / 20 of 3.04.
    const mean = firstSpanLen.reduce((a, b) => a + b, 0) / firstSpanLen.length;
    expect(Math.abs(mean - 85 / 28)).toBeLessThan(0.65);
    // All lengths from 1 up occur (segments are random, not fixed-size).
    expect(Math.min(...firstSpanLen)).toBe(1);
    expect(Math.max(...firstSpanLen)).toBeGreaterThan(6);
  });

  it("density 0.15 over many short sequences", () => {
    const g = new Generator(2);
    let noise = 0;
    let total = 0;
    for (let t = 0; t < 200; t++) {
      const L = 20 + (t % 200);
      const m = randomSpansNoiseMask(L, 0.15, 3, g);
      noise += m.reduce((a, b) => a + b, 0);
      total += L;
    }
    expect(Math.abs(noise / total - 0.15)).toBeLessThan(0.01);
  });

  it("rejects lengths below 2 and bad parameters", () => {
    const g = new Generator(0);
    expect(() => randomSpansNoiseMask(1, 0.15, 3, g)).toThrow(/length/);
    expect(() => randomSpansNoiseMask(10, 1.2, 3, g)).toThrow(/noiseDensity/);
    expect(() => randomSpansNoiseMask(10, 0.15, 0.5, g)).toThrow(/meanNoiseSpanLength/);
  });
});

/**
 * Two-sample chi-square statistic over histogram bins (tail bins merged until each holds at least
 * 40 counts in total); returns the statistic and the degrees of freedom.
 */
function chiSquare(a: Map<number, number>, b: Map<number, number>): { chi2: number; df: number } {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort((x, y) => x - y);
  const bins: Array<[number, number]> = [];
  let cur: [number, number] = [0, 0];
  for (const k of keys) {
    cur = [cur[0] + (a.get(k) ?? 0), cur[1] + (b.get(k) ?? 0)];
    if (cur[0] + cur[1] >= 40) {
      bins.push(cur);
      cur = [0, 0];
    }
  }
  if (cur[0] + cur[1] > 0) bins[bins.length - 1] = [bins.at(-1)![0] + cur[0], bins.at(-1)![1] + cur[1]];
  const A = bins.reduce((s, x) => s + x[0], 0);
  const B = bins.reduce((s, x) => s + x[1], 0);
  let chi2 = 0;
  for (const [x, y] of bins) chi2 += (x * Math.sqrt(B / A) - y * Math.sqrt(A / B)) ** 2 / (x + y);
  return { chi2, df: bins.length - 1 };
}

describe("span length distribution vs T5's segmentation (golden histograms)", () => {
  for (const h of golden.span_length_histograms) {
    it(`L=${h.length}, density ${h.noise_density}, mean span ${h.mean_noise_span_length}: same noise and kept span lengths`, () => {
      const g = new Generator(77);
      const noise = new Map<number, number>();
      const kept = new Map<number, number>();
      for (let d = 0; d < h.draws; d++) {
        const m = randomSpansNoiseMask(h.length, h.noise_density, h.mean_noise_span_length, g);
        let run = 1;
        for (let i = 1; i <= m.length; i++) {
          if (i < m.length && m[i] === m[i - 1]) run++;
          else {
            const hist = m[i - 1] ? noise : kept;
            hist.set(run, (hist.get(run) ?? 0) + 1);
            run = 1;
          }
        }
      }
      for (const [name, mine, ref] of [["noise", noise, h.noise_span_lengths], ["kept", kept, h.kept_span_lengths]] as const) {
        const { chi2, df } = chiSquare(mine, new Map(ref));
        // Mean df, sd sqrt(2 df): 6 sd above the mean is far beyond chance, close to any real bias.
        expect(chi2, `${name} spans: chi2 ${chi2.toFixed(1)} with ${df} df`).toBeLessThan(df + 6 * Math.sqrt(2 * df));
      }
    });
  }
});

describe("sentinels and reconstruction", () => {
  it("inputs + targets give back the original; sentinels count down from <extra_id_0> = V - 1; lengths follow the formula", () => {
    const g = new Generator(3);
    for (const L of [2, 3, 10, 57, 568]) {
      const tokens = Array.from({ length: L }, (_, i) => 100 + ((i * 7919) % 30000));
      const mask = randomSpansNoiseMask(L, 0.15, 3, g);
      const { inputs, targets } = applySpanCorruption(tokens, mask, sentinel, EOS);
      const { noiseTokens: n, noiseSpans: s } = noiseSpanCounts(L, 0.15, 3);
      expect(inputs.length).toBe(L - n + s + 1);
      expect(targets.length).toBe(n + s + 1);
      expect(inputs[inputs.length - 1]).toBe(EOS);
      expect(targets[targets.length - 1]).toBe(EOS);
      expect(targets[0]).toBe(V - 1); // <extra_id_0> opens the targets
      const inS = [...inputs].filter((t) => t >= V - 100);
      const outS = [...targets].filter((t) => t >= V - 100);
      expect(inS).toEqual(Array.from({ length: s }, (_, k) => V - 1 - k));
      expect(outS).toEqual(inS);
      expect(reconstruct(inputs, targets)).toEqual(tokens);
    }
  });

  it("for a given mask, inputs and labels equal HF's create_sentinel_ids + filter_input_ids exactly", () => {
    const { vocab_size, eos_id, cases } = golden.corruption;
    for (const c of cases) {
      const r = applySpanCorruption(c.tokens, c.mask, (k) => vocab_size - 1 - k, eos_id);
      expect(Array.from(r.inputs), `L=${c.tokens.length} inputs`).toEqual(c.input_ids);
      expect(Array.from(r.targets), `L=${c.tokens.length} labels`).toEqual(c.labels);
    }
  });

  it("a 568-token sequence becomes 512 inputs and 114 targets (T5's default setting)", () => {
    const c = new SpanCorruptionCollator({ vocabSize: V, eosId: EOS, padId: 0, seed: 5 });
    const seqs = Array.from({ length: 4 }, (_, b) => Array.from({ length: 568 }, (_, i) => 2 + ((b * 1000 + i) % 30000)));
    const batch = c.collate(seqs);
    expect(batch.input_ids.shape).toEqual([4, 512]);
    expect(batch.labels.shape).toEqual([4, 114]);
    expect(batch.decoder_input_ids.shape).toEqual([4, 114]);
    const labels = batch.labels.data as Int32Array;
    const dec = batch.decoder_input_ids.data as Int32Array;
    for (let b = 0; b < 4; b++) {
      expect(dec[b * 114]).toBe(0); // decoder_start_token_id = pad (T5)
      for (let t = 1; t < 114; t++) expect(dec[b * 114 + t]).toBe(labels[b * 114 + t - 1]);
      const ins = (batch.input_ids.data as Int32Array).subarray(b * 512, (b + 1) * 512);
      expect(reconstruct(ins, labels.subarray(b * 114, (b + 1) * 114))).toEqual(seqs[b]);
    }
  });

  it("pads unequal lengths (inputs with pad, labels with -100) and resumes from saved state", () => {
    const c = new SpanCorruptionCollator({ vocabSize: V, eosId: EOS, padId: 0, seed: 9 });
    const seqs = [Array.from({ length: 40 }, (_, i) => 5 + i), Array.from({ length: 20 }, (_, i) => 50 + i)];
    const s0 = c.getState();
    const a = c.collate(seqs);
    const l = a.labels.data as Int32Array;
    const T = a.labels.shape[1]!;
    expect(l[T + T - 1]).toBe(-100);
    const mask = a.attention_mask.data as Int32Array;
    expect(mask[a.input_ids.shape[1]! * 2 - 1]).toBe(0);
    c.setState(s0);
    expect(Array.from(c.collate(seqs).input_ids.data)).toEqual(Array.from(a.input_ids.data));
  });

  it("explicit sentinel ids run out with a clear error", () => {
    const c = new SpanCorruptionCollator({ sentinelIds: [999], eosId: EOS, padId: 0, seed: 1 });
    expect(() => c.collate([Array.from({ length: 200 }, (_, i) => i + 2)])).toThrow(/sentinel 1 but only 1/);
  });
});
