// T5 span corruption (the "span corruption" / "random spans" objective of Raffel et al., 2020).
// References: t5/data/preprocessors.py (random_spans_noise_mask, noise_span_to_unique_sentinel,
// nonnoise_span_to_unique_sentinel) and transformers' examples/flax/language-modeling/
// run_t5_mlm_flax.py (compute_input_and_target_lengths, FlaxDataCollatorForT5MLM), whose
// behaviour is followed here. Python's round() and np.round() round halves to even; so does
// roundHalfEven below, and the golden test (fixtures/data/t5_spans.json) pins it.
//
// For a raw sequence of length L:
//   noise tokens   n = clamp(round(L * noiseDensity), 1, L - 1)
//   noise spans    s = max(1, round(min(n, L - n) / meanNoiseSpanLength))
//   the n noise tokens are cut into s non-empty spans, the L - n others into s non-empty spans, by
//   random segmentation (a shuffled set of s - 1 cut points); spans alternate, non-noise first, so
//   the mask always starts with kept tokens and ends with noise.
//   inputs   = kept span 1, <extra_id_0>, kept span 2, <extra_id_1>, ..., kept span s, <extra_id_{s-1}>, EOS
//   targets  = <extra_id_0>, noise span 1, <extra_id_1>, noise span 2, ..., <extra_id_{s-1}>, noise span s, EOS
//   so len(inputs) = L - n + s + 1 and len(targets) = n + s + 1.
// Sentinel k is vocabSize - 1 - k (T5: <extra_id_0> = 32099 in a 32100-token vocabulary), unless
// the ids are given (sentinelIds[k]).
import { Generator } from "../../tensor/rng.js";
import { loadGeneratorState, saveGeneratorState, type GeneratorStateJSON } from "../rng_state.js";
import type { Tensor } from "../../tensor/tensor.js";
import { IGNORE_INDEX } from "./causal.js";
import { checkId, checkKeys, int2d, padSequences } from "./pad.js";
import { specialIdsOf, type TokenizerWithConfig } from "../specials.js";

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function checkSpanParams(noiseDensity: number, meanNoiseSpanLength: number, what: string): void {
  if (!(noiseDensity > 0 && noiseDensity < 1)) throw new Error(`${what}: noiseDensity must be in (0, 1), got ${noiseDensity}`);
  if (!(meanNoiseSpanLength >= 1)) throw new Error(`${what}: meanNoiseSpanLength must be >= 1, got ${meanNoiseSpanLength}`);
}

/** Input and target lengths for a raw length, without randomness (the formula above, unclamped as in HF). */
function lengthsFor(tokensLength: number, noiseDensity: number, meanNoiseSpanLength: number): [number, number] {
  const noise = roundHalfEven(tokensLength * noiseDensity);
  const nonNoise = tokensLength - noise;
  const spans = roundHalfEven(noise / meanNoiseSpanLength);
  return [nonNoise + spans + 1, noise + spans + 1];
}

/**
 * HF's compute_input_and_target_lengths: the longest raw length whose corrupted inputs fit in
 * `inputsLength` tokens, and the target length that goes with it. (With noiseDensity 0.5 the target
 * length is reduced by one when it exceeds the raw length, as HF does.)
 */
export function computeInputAndTargetLengths(inputsLength: number, noiseDensity = 0.15, meanNoiseSpanLength = 3.0): { tokensLength: number; targetsLength: number } {
  if (!(Number.isInteger(inputsLength) && inputsLength >= 1)) throw new Error(`computeInputAndTargetLengths: inputsLength must be a positive integer, got ${inputsLength}`);
  checkSpanParams(noiseDensity, meanNoiseSpanLength, "computeInputAndTargetLengths");
  let tokensLength = inputsLength;
  while (lengthsFor(tokensLength + 1, noiseDensity, meanNoiseSpanLength)[0] <= inputsLength) tokensLength++;
  let targetsLength = lengthsFor(tokensLength, noiseDensity, meanNoiseSpanLength)[1];
  if (noiseDensity === 0.5 && targetsLength > tokensLength) targetsLength--;
  return { tokensLength, targetsLength };
}

/** Noise and span counts T5 uses for a raw length (after clamping). */
export function noiseSpanCounts(length: number, noiseDensity: number, meanNoiseSpanLength: number): { noiseTokens: number; noiseSpans: number } {
  let noiseTokens = roundHalfEven(length * noiseDensity);
  noiseTokens = Math.min(Math.max(noiseTokens, 1), length - 1);
  const nonNoise = length - noiseTokens;
  const noiseSpans = Math.max(roundHalfEven(Math.min(noiseTokens, nonNoise) / meanNoiseSpanLength), 1);
  return { noiseTokens, noiseSpans };
}

/** Cuts `items` into `segments` non-empty runs at random: returns the run lengths. */
function randomSegmentation(items: number, segments: number, g: Generator): number[] {
  // Choose segments - 1 distinct cut points among the items - 1 gaps (a shuffled indicator vector,
  // like T5's; a partial Fisher-Yates gives the same distribution).
  const gaps = Array.from({ length: items - 1 }, (_, i) => i);
  for (let i = 0; i < segments - 1; i++) {
    const j = i + g.randint(items - 1 - i);
    [gaps[i], gaps[j]] = [gaps[j]!, gaps[i]!];
  }
  const cuts = gaps.slice(0, segments - 1).sort((a, b) => a - b);
  const lengths: number[] = [];
  let prev = 0;
  for (const c of cuts) {
    lengths.push(c + 1 - prev);
    prev = c + 1;
  }
  lengths.push(items - prev);
  return lengths;
}

/** T5's random_spans_noise_mask: 1 = noise. Needs length >= 2. */
export function randomSpansNoiseMask(length: number, noiseDensity: number, meanNoiseSpanLength: number, g: Generator): Uint8Array {
  if (!(Number.isInteger(length) && length >= 2)) throw new Error(`randomSpansNoiseMask: length must be an integer >= 2, got ${length}`);
  checkSpanParams(noiseDensity, meanNoiseSpanLength, "randomSpansNoiseMask");
  const { noiseTokens, noiseSpans } = noiseSpanCounts(length, noiseDensity, meanNoiseSpanLength);
  const noiseLengths = randomSegmentation(noiseTokens, noiseSpans, g);
  const keepLengths = randomSegmentation(length - noiseTokens, noiseSpans, g);
  const mask = new Uint8Array(length);
  let p = 0;
  for (let s = 0; s < noiseSpans; s++) {
    p += keepLengths[s]!;
    mask.fill(1, p, p + noiseLengths[s]!);
    p += noiseLengths[s]!;
  }
  return mask;
}

/**
 * Applies a noise mask: inputs keep the non-noise tokens with one sentinel per noise span, targets
 * hold each sentinel followed by its noise span; both end with eosId.
 */
export function applySpanCorruption(tokens: ArrayLike<number>, noiseMask: ArrayLike<number>, sentinel: (k: number) => number, eosId: number): { inputs: Int32Array; targets: Int32Array } {
  if (tokens.length !== noiseMask.length) throw new Error(`applySpanCorruption: ${tokens.length} tokens but a mask of ${noiseMask.length}`);
  const inputs: number[] = [];
  const targets: number[] = [];
  let k = 0;
  for (let i = 0; i < tokens.length; i++) {
    const noise = noiseMask[i] !== 0;
    const spanStart = i === 0 ? noise : noise && noiseMask[i - 1] === 0;
    if (spanStart) {
      const s = sentinel(k++);
      inputs.push(s);
      targets.push(s);
    }
    (noise ? targets : inputs).push(tokens[i]!);
  }
  inputs.push(eosId);
  targets.push(eosId);
  return { inputs: Int32Array.from(inputs), targets: Int32Array.from(targets) };
}

export interface SpanCorruptionCollatorOptions {
  eosId: number;
  padId: number;
  /** Sentinel k = vocabSize - 1 - k (T5) unless sentinelIds is given. */
  vocabSize?: number;
  /** sentinelIds[k] = id of <extra_id_k>. */
  sentinelIds?: number[];
  /** Decoder start (T5: the pad id, the default). */
  decoderStartTokenId?: number;
  noiseDensity?: number;
  meanNoiseSpanLength?: number;
  seed?: number;
}

export interface SpanCorruptionBatch {
  input_ids: Tensor; // (B, Tin)
  attention_mask: Tensor; // (B, Tin)
  labels: Tensor; // (B, Tout), -100 on padding
  decoder_input_ids: Tensor; // (B, Tout) labels shifted right, decoderStartTokenId first
  decoder_attention_mask: Tensor; // (B, Tout)
}

/**
 * Span-corruption batches from raw sequences (no EOS; use computeInputAndTargetLengths to pick the
 * raw length that gives round input lengths). Sequences of unequal length are padded (right).
 */
export class SpanCorruptionCollator {
  readonly noiseDensity: number;
  readonly meanNoiseSpanLength: number;
  readonly eosId: number;
  readonly padId: number;
  readonly decoderStartTokenId: number;
  private readonly sentinel: (k: number) => number;
  private readonly generator: Generator;

  constructor(opts: SpanCorruptionCollatorOptions) {
    const what = "SpanCorruptionCollator";
    checkKeys(opts, ["eosId", "padId", "vocabSize", "sentinelIds", "decoderStartTokenId", "noiseDensity", "meanNoiseSpanLength", "seed"], what);
    this.eosId = checkId(opts.eosId, "eosId", what);
    this.padId = checkId(opts.padId, "padId", what);
    this.decoderStartTokenId = checkId(opts.decoderStartTokenId ?? opts.padId, "decoderStartTokenId", what);
    this.noiseDensity = opts.noiseDensity ?? 0.15;
    this.meanNoiseSpanLength = opts.meanNoiseSpanLength ?? 3.0;
    checkSpanParams(this.noiseDensity, this.meanNoiseSpanLength, what);
    if (opts.sentinelIds) {
      const ids = opts.sentinelIds;
      this.sentinel = (k) => {
        if (k >= ids.length) throw new Error(`${what}: a sequence needs sentinel ${k} but only ${ids.length} sentinel ids were given`);
        return ids[k]!;
      };
    } else if (opts.vocabSize !== undefined) {
      const V = opts.vocabSize;
      if (!(Number.isInteger(V) && V >= 2)) throw new Error(`${what}: vocabSize must be an integer >= 2, got ${V}`);
      this.sentinel = (k) => V - 1 - k;
    } else throw new Error(`${what}: give vocabSize (sentinels count down from its end) or sentinelIds`);
    this.generator = new Generator(opts.seed ?? 0);
  }

  /**
   * A collator for a T5-style tokenizer: EOS (</s>), pad, and the sentinels <extra_id_0>,
   * <extra_id_1>, ... looked up by name (an error when the tokenizer has none: counting down from
   * the end of a vocabulary that does not reserve them would overwrite real tokens).
   */
  static fromTokenizer(tok: TokenizerWithConfig, opts: Omit<SpanCorruptionCollatorOptions, "eosId" | "padId"> & { eosId?: number; padId?: number } = {}): SpanCorruptionCollator {
    const sp = specialIdsOf(tok);
    const eosId = opts.eosId ?? sp.eosId;
    const padId = opts.padId ?? sp.padId;
    if (eosId === null) throw new Error("SpanCorruptionCollator.fromTokenizer: the tokenizer has no EOS token (</s>); pass eosId");
    if (padId === null) throw new Error("SpanCorruptionCollator.fromTokenizer: the tokenizer has no pad token (<pad>); pass padId");
    let sentinelIds = opts.sentinelIds;
    if (sentinelIds === undefined && opts.vocabSize === undefined) {
      sentinelIds = [];
      for (let k = 0; ; k++) {
        const id = tok.tokenToId(`<extra_id_${k}>`);
        if (id === undefined) break;
        sentinelIds.push(id);
      }
      if (sentinelIds.length === 0) throw new Error("SpanCorruptionCollator.fromTokenizer: the tokenizer has no <extra_id_0> sentinel; add sentinel tokens (T5 reserves 100) or pass sentinelIds");
    }
    return new SpanCorruptionCollator({ ...opts, eosId, padId, ...(sentinelIds ? { sentinelIds } : {}) });
  }

  collate(seqs: ReadonlyArray<ArrayLike<number>>): SpanCorruptionBatch {
    const ins: Int32Array[] = [];
    const outs: Int32Array[] = [];
    for (const s of seqs) {
      const mask = randomSpansNoiseMask(s.length, this.noiseDensity, this.meanNoiseSpanLength, this.generator);
      const r = applySpanCorruption(s, mask, this.sentinel, this.eosId);
      ins.push(r.inputs);
      outs.push(r.targets);
    }
    const pi = padSequences(ins, this.padId, {}, "SpanCorruptionCollator");
    const po = padSequences(outs, IGNORE_INDEX, {}, "SpanCorruptionCollator");
    const dec = shiftTokensRight(po.data, po.B, po.T, this.padId, this.decoderStartTokenId);
    return {
      input_ids: int2d(pi.data, pi.B, pi.T),
      attention_mask: int2d(pi.mask, pi.B, pi.T),
      labels: int2d(po.data, po.B, po.T),
      decoder_input_ids: int2d(dec, po.B, po.T),
      decoder_attention_mask: int2d(po.mask, po.B, po.T),
    };
  }

  /** Generator state (JSON-safe), for exact resumption. */
  getState(): GeneratorStateJSON {
    return saveGeneratorState(this.generator);
  }

  setState(s: GeneratorStateJSON): void {
    loadGeneratorState(this.generator, s, "SpanCorruptionCollator.setState");
  }
}

/**
 * HF's shift_tokens_right: (B, T) labels -> decoder inputs: start token first, labels[:, :-1]
 * after it, and -100 replaced by the pad id.
 */
export function shiftTokensRight(labels: Int32Array, B: number, T: number, padId: number, decoderStartTokenId: number): Int32Array {
  const out = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    if (T === 0) continue;
    out[b * T] = decoderStartTokenId;
    for (let t = 1; t < T; t++) {
      const v = labels[b * T + t - 1]!;
      out[b * T + t] = v === IGNORE_INDEX ? padId : v;
    }
  }
  return out;
}
