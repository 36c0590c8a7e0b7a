// Beam search scorer and processor composition against Hugging Face `generate` on a fake
// deterministic LM (fixtures/generate/beam_search.json, made by tools/golden/generate_beam.py):
// logits = TABLE[last token] + POS[position]. The test replays HF's loop: log_softmax, processors, scorer.step
// (beam search) or argmax (greedy), and must produce the same ids; scores within 1e-5.
import { describe, expect, it } from "vitest";
import { BeamSearchScorer, GenerationConfig, buildLogitsProcessors, greedy, logSoftmaxRows } from "../../src/generate/index.js";
import { readJSON } from "../helpers.js";

interface Case {
  name: string;
  vocab_size: number;
  table: number[];
  pos: number[];
  prompts: number[][];
  config: Record<string, unknown>;
  sequences: number[][];
  sequences_scores?: number[];
  beam_indices?: number[][];
}
const fx = readJSON<{ cases: Case[] }>("fixtures/generate/beam_search.json");

/** The fake model: one logits row per input row, TABLE[last token] + POS[last position] in float32. */
function fakeModel(c: Case): (rows: number[][]) => Float32Array {
  const V = c.vocab_size;
  const table = Float32Array.from(c.table);
  const pos = Float32Array.from(c.pos);
  return (rows) => {
    const out = new Float32Array(rows.length * V);
    rows.forEach((r, i) => {
      const id = r[r.length - 1];
      const t = r.length - 1;
      for (let v = 0; v < V; v++) out[i * V + v] = table[id * V + v] + pos[t * V + v];
    });
    return out;
  };
}

describe("beam search vs HF generate (fake LM)", () => {
  for (const c of fx.cases.filter((x) => x.name.startsWith("beam/"))) {
    it(c.name, () => {
      const V = c.vocab_size;
      const model = fakeModel(c);
      const cfg = new GenerationConfig(c.config);
      const P = c.prompts[0].length;
      const maxLength = cfg.maxLengthFor(P);
      const scorer = new BeamSearchScorer(c.prompts, {
        numBeams: cfg.num_beams,
        maxLength,
        eosTokenId: cfg.eos_token_id,
        padTokenId: cfg.pad_token_id,
        lengthPenalty: cfg.length_penalty,
        earlyStopping: cfg.early_stopping,
        numReturnSequences: cfg.num_return_sequences,
      });
      const procs = buildLogitsProcessors(cfg, { promptLength: P, maxLength });
      let steps = 0;
      while (!scorer.done) {
        const rows = scorer.runningSequences();
        const lp = logSoftmaxRows(model(rows), V);
        procs.apply(rows, lp);
        const r = scorer.step(lp);
        // The returned beam indices say where each new running row came from.
        const next = scorer.runningSequences();
        next.forEach((row, i) => expect(row.slice(0, -1)).toEqual(rows[r.beamIndices[i]]));
        expect(++steps).toBeLessThanOrEqual(maxLength);
      }
      const out = scorer.finalize();
      expect(out.sequences).toEqual(c.sequences);
      out.sequenceScores.forEach((s, i) => expect(Math.abs(s - c.sequences_scores![i])).toBeLessThan(1e-5));
      expect(out.beamIndices).toEqual(c.beam_indices);
    });
  }
});

describe("greedy decoding through the processor list vs HF generate (fake LM)", () => {
  for (const c of fx.cases.filter((x) => x.name.startsWith("greedy/"))) {
    it(c.name, () => {
      const V = c.vocab_size;
      const model = fakeModel(c);
      const cfg = new GenerationConfig(c.config);
      const P = c.prompts[0].length;
      const maxLength = cfg.maxLengthFor(P);
      const procs = buildLogitsProcessors(cfg, { promptLength: P, maxLength });
      const eos = new Set(cfg.eosTokenIds());
      const seqs = c.prompts.map((p) => [...p]);
      const unfinished = seqs.map(() => true);
      while (seqs[0].length < maxLength && unfinished.some((u) => u)) {
        const scores = procs.apply(seqs, model(seqs));
        const next = greedy(scores, V);
        // HF: finished rows receive the pad id.
        seqs.forEach((s, b) => s.push(unfinished[b] ? next[b] : cfg.pad_token_id!));
        seqs.forEach((s, b) => (unfinished[b] = unfinished[b] && !eos.has(s[s.length - 1])));
      }
      expect(seqs).toEqual(c.sequences);
    });
  }
});
