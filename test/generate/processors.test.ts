// Every logits processor / warper, and whole processor lists built from a GenerationConfig (sampling
// and greedy), against their Hugging Face counterparts on fixed scores
// (fixtures/generate/processors.json, made by tools/golden/generate_processors.py).
// Tolerance: -inf (and +inf) positions must match exactly; other values within 1e-6 absolute
// (float32 reordering in softmax-based warpers only moves values that are then kept verbatim).
import { describe, expect, it } from "vitest";
import {
  EpsilonLogitsWarper,
  EtaLogitsWarper,
  ExponentialDecayLengthPenalty,
  ForcedBOSTokenLogitsProcessor,
  GenerationConfig,
  buildLogitsProcessors,
  ForcedEOSTokenLogitsProcessor,
  FrequencyPresencePenaltyLogitsProcessor,
  LogitBiasLogitsProcessor,
  LogitNormalization,
  LogitsProcessor,
  MinLengthLogitsProcessor,
  MinNewTokensLengthLogitsProcessor,
  MinPLogitsWarper,
  NoBadWordsLogitsProcessor,
  NoRepeatNGramLogitsProcessor,
  RepetitionPenaltyLogitsProcessor,
  SequenceBiasLogitsProcessor,
  SuppressTokensAtBeginLogitsProcessor,
  SuppressTokensLogitsProcessor,
  TemperatureLogitsWarper,
  TopKLogitsWarper,
  TopPLogitsWarper,
  TypicalLogitsWarper,
} from "../../src/generate/index.js";
import { fixtureF32, readJSON } from "../helpers.js";

interface Case {
  name: string;
  processor: string;
  args: Record<string, any>;
  input_ids: number[][];
  scores: (number | string)[];
  vocab_size: number;
  expected: (number | string)[];
}
const fx = readJSON<{ cases: Case[] }>("fixtures/generate/processors.json");

function build(c: Case): LogitsProcessor {
  const a = c.args;
  const keep = a.min_tokens_to_keep !== undefined ? { minTokensToKeep: a.min_tokens_to_keep } : {};
  switch (c.processor) {
    case "temperature": return new TemperatureLogitsWarper(a.temperature);
    case "top_k": return new TopKLogitsWarper(a.top_k, keep);
    case "top_p": return new TopPLogitsWarper(a.top_p, keep);
    case "min_p": return new MinPLogitsWarper(a.min_p, keep);
    case "typical_p": return new TypicalLogitsWarper(a.mass, keep);
    case "epsilon_cutoff": return new EpsilonLogitsWarper(a.epsilon, keep);
    case "eta_cutoff": return new EtaLogitsWarper(a.epsilon, keep);
    case "bad_words_ids": return new NoBadWordsLogitsProcessor(a.bad_words_ids, a.eos_token_id);
    case "exponential_decay_length_penalty": return new ExponentialDecayLengthPenalty(a.start, a.factor, a.eos_token_id, a.prompt_length);
    case "repetition_penalty": return new RepetitionPenaltyLogitsProcessor(a.penalty, a.prompt_ignore_length ?? 0);
    case "no_repeat_ngram": return new NoRepeatNGramLogitsProcessor(a.ngram_size);
    case "min_length": return new MinLengthLogitsProcessor(a.min_length, a.eos_token_id);
    case "min_new_tokens": return new MinNewTokensLengthLogitsProcessor(a.prompt_length, a.min_new_tokens, a.eos_token_id);
    case "forced_bos": return new ForcedBOSTokenLogitsProcessor(a.bos_token_id);
    case "forced_eos": return new ForcedEOSTokenLogitsProcessor(a.max_length, a.eos_token_id);
    case "suppress_tokens": return new SuppressTokensLogitsProcessor(a.suppress_tokens);
    case "begin_suppress_tokens": return new SuppressTokensAtBeginLogitsProcessor(a.begin_suppress_tokens, a.begin_index);
    case "sequence_bias": return new SequenceBiasLogitsProcessor(a.sequence_bias);
    case "logit_bias": return new LogitBiasLogitsProcessor(a.logit_bias);
    case "renormalize_logits": return new LogitNormalization();
    case "frequency_presence": return new FrequencyPresencePenaltyLogitsProcessor(a.frequency_penalty, a.presence_penalty, a.prompt_length);
    // A whole list from a config, against transformers' _get_logits_processor for the same config.
    case "list": return buildLogitsProcessors(new GenerationConfig(a.config), { promptLength: a.prompt_length });
    default: throw new Error(`unknown processor ${c.processor}`);
  }
}

describe("logits processors vs Hugging Face", () => {
  for (const c of fx.cases) {
    it(c.name, () => {
      const scores = fixtureF32(c.scores);
      const expected = fixtureF32(c.expected);
      const out = build(c).apply(c.input_ids, scores);
      const bad: string[] = [];
      for (let i = 0; i < expected.length; i++) {
        const e = expected[i];
        const a = out[i];
        const ok = Number.isFinite(e) ? Math.abs(a - e) <= 1e-6 : Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e));
        if (!ok) bad.push(`[${Math.floor(i / c.vocab_size)}, ${i % c.vocab_size}] got ${a}, expected ${e}`);
      }
      expect(bad, `${c.name}: ${bad.length} mismatches`).toEqual([]);
    });
  }
});

describe("processTensor", () => {
  it("runs a processor on Tensor logits and ids (strided input left untouched)", async () => {
    const { Tensor } = await import("../../src/tensor/index.js");
    const { transpose } = await import("../../src/ops/index.js");
    const { processTensor, RepetitionPenaltyLogitsProcessor: Rep } = await import("../../src/generate/index.js");
    // [V=3, B=2] transposed into a [2, 3] view.
    const base = new Tensor(Float32Array.from([1, -1, 2, -2, 3, 4]), [3, 2]);
    const logits = transpose(base, 0, 1);
    const ids = new Tensor(Int32Array.from([0, 1, 2, 2]), [2, 2]);
    const out = processTensor(new Rep(2), ids, logits);
    expect(out.shape).toEqual([2, 3]);
    expect(Array.from(out.toTypedArray())).toEqual([0.5, 1, 3, -1, -2, 2]);
    expect(Array.from(base.toTypedArray())).toEqual([1, -1, 2, -2, 3, 4]);
  });
});
