// The decoding loop for decoder-only models with a KV cache: greedy, seeded sampling and beam
// search, batched with left padding. It composes the parts of this folder (processors, samplers,
// stopping criteria, beam scorer, streamer) around a model's forward, the way Hugging Face's
// GenerationMixin.generate does (transformers 5.x, `_sample` and `_beam_search`), so greedy and
// beam outputs are token-identical to HF's on the same weights.
//
// Glossary: B prompts, K beams (1 without beam search), R = B * K (or B * num_return_sequences
// when sampling) running rows, P prompt length (left-padded), S cached positions, V vocabulary.
//
// Per step: forward the new tokens ([R, P] at the prefill, [R, 1] after, with the cache) ->
// last-position logits [R, V] (float32) -> processors (on log-softmax for beam search, as HF) ->
// argmax / sample / beam step -> append -> stopping criteria. Left padding: the attention mask
// marks pads with 0 and positions are cumsum(mask) - 1 (pads at 1), as HF's
// prepare_inputs_for_generation computes them.
import type { DynamicCache } from "../nn/attention.js";
import type { CausalLMInput, CausalLMOutput } from "../models/common.js";
import { Generator, defaultGenerator } from "../tensor/rng.js";
import { Tensor } from "../tensor/tensor.js";
import { noGrad } from "../autograd/engine.js";
import { BeamSearchScorer } from "./beam_search.js";
import { GenerationConfig, buildLogitsProcessors, type GenerationOptions } from "./config.js";
import { logSoftmaxRows, type LogitsProcessor } from "./logits_process.js";
import { argmaxRow, sampleRow } from "./sampling.js";
import { EosTokenCriteria, MaxLengthCriteria, MaxTimeCriteria, StopStringCriteria, StoppingCriteriaList, type StoppingCriteria, type TokenTextDecoder } from "./stopping.js";
import type { TextStreamer } from "./streamer.js";

/** What the loop needs of a model: tslm's GPT2LMHeadModel and LlamaForCausalLM satisfy it. */
export interface CausalLM {
  forward(input: CausalLMInput): CausalLMOutput;
  newCache?(): DynamicCache;
  /** tslm Modules: training mode turns dropout on, which generation must not use. */
  training?: boolean;
  train?(on?: boolean): unknown;
}

export interface GenerateOptions {
  /** 1 = real token, 0 = padding, per prompt row; by default derived from pad_token_id as HF does. */
  attentionMask?: number[][];
  /** Random source for sampling; default: a Generator seeded with config.seed, else tslm's default generator. */
  generator?: Generator;
  /** Receives the prompt, then each new token (batch of one prompt, no beam search). */
  streamer?: TextStreamer;
  /** Needed for stop_strings (decodes the continuations) and for `texts` in the output. */
  tokenizer?: TokenTextDecoder;
  /** Extra processors, applied after the config's (HF's logits_processor argument). */
  logitsProcessors?: LogitsProcessor[];
  /** Extra stopping criteria (HF's stopping_criteria argument). */
  stoppingCriteria?: StoppingCriteria[];
  /** Use the KV cache (default true); false re-runs the whole sequence every step (for tests). */
  useCache?: boolean;
}

export type FinishReason = "stop" | "length";

export interface GenerateOutput {
  /** Full rows, prompt included: B * num_return_sequences of them (HF's `sequences`). */
  sequences: number[][];
  /** The generated part of each row, without padding after EOS. */
  newTokens: number[][];
  /** "stop" for EOS or a stop string, "length" for max_length / max_new_tokens / max_time. */
  finishReasons: FinishReason[];
  /** Beam search: each returned sequence's length-normalised score. */
  sequenceScores?: number[];
  /** With a tokenizer: each row's decoded continuation, cut before a matched stop string. */
  texts?: string[];
}

/** int32 tensor [rows.length, rows[0].length]. */
function int2d(rows: number[][]): Tensor {
  const R = rows.length;
  const T = R > 0 ? rows[0].length : 0;
  const data = new Int32Array(R * T);
  rows.forEach((r, i) => data.set(r, i * T));
  return new Tensor(data, [R, T]);
}

/** Rows of a cache tensor [R, ...] gathered by `rows` (beam reordering): a new contiguous tensor. */
function gatherRows(t: Tensor, rows: Int32Array): Tensor {
  const flat = t.toTypedArray();
  const R = t.shape[0];
  const per = R === 0 ? 0 : flat.length / R;
  const out = new Float32Array(rows.length * per);
  for (let i = 0; i < rows.length; i++) out.set(flat.subarray(rows[i] * per, rows[i] * per + per), i * per);
  return new Tensor(out, [rows.length, ...t.shape.slice(1)]);
}

/** Reorders every layer's keys and values along the batch dim (HF Cache.reorder_cache). */
export function reorderCache(cache: DynamicCache, rows: Int32Array): void {
  for (const layer of cache.layers) {
    if (layer.keys) layer.keys = gatherRows(layer.keys, rows);
    if (layer.values) layer.values = gatherRows(layer.values, rows);
  }
}

/** Last-position logits [R, V] of a forward's [R, T, V] output, as a flat float32 array. */
function lastLogits(logits: Tensor): Float32Array {
  const [R, T, V] = logits.shape;
  const out = new Float32Array(R * V);
  const last = logits.narrow(1, T - 1, 1).toTypedArray() as Float32Array; // (R, 1, V)
  out.set(last);
  if (out.length !== R * V) throw new Error(`generate: unexpected logits shape [${logits.shape.join(", ")}]`);
  return out;
}

/**
 * Generates continuations of `prompts` (rows of token ids; rows of different lengths are
 * left-padded with pad_token_id, or pass equal-length rows plus `attentionMask`).
 * `config` is a GenerationConfig or camelCase options (maxNewTokens, doSample, numBeams, ...).
 */
export function generate(model: CausalLM, prompts: number[][], config: GenerationConfig | GenerationOptions = {}, opts: GenerateOptions = {}): GenerateOutput {
  const cfg = config instanceof GenerationConfig ? config : GenerationConfig.fromOptions(config);
  // Decoding runs in eval mode (no dropout), as an HF model loaded by from_pretrained does; a model
  // in training mode is switched for the call and switched back after.
  const wasTraining = model.training === true && typeof model.train === "function";
  if (wasTraining) model.train!(false);
  try {
    return noGrad(() => generateImpl(model, prompts, cfg, opts));
  } finally {
    if (wasTraining) model.train!(true);
  }
}

function generateImpl(model: CausalLM, prompts: number[][], cfg: GenerationConfig, opts: GenerateOptions): GenerateOutput {
  if (!Array.isArray(prompts) || prompts.length === 0) throw new Error("generate: no prompts");
  const eos = cfg.eosTokenIds();
  // HF: without a pad id, the first EOS id pads finished rows and left-pads prompts.
  const pad = cfg.pad_token_id ?? (eos.length > 0 ? eos[0] : null);
  // Left-pad rows of different lengths.
  const P = Math.max(...prompts.map((p) => p.length));
  if (P === 0) throw new Error("generate: empty prompt (tslm needs at least one prompt token, e.g. the BOS id)");
  let mask: number[][];
  let ids: number[][];
  if (prompts.some((p) => p.length !== P)) {
    if (pad === null) throw new Error("generate: prompts of different lengths need pad_token_id (or eos_token_id) to left-pad them");
    if (opts.attentionMask) throw new Error("generate: pass either prompts of one length with attentionMask, or prompts of different lengths without it");
    ids = prompts.map((p) => [...new Array<number>(P - p.length).fill(pad), ...p]);
    mask = prompts.map((p) => [...new Array<number>(P - p.length).fill(0), ...new Array<number>(p.length).fill(1)]);
  } else {
    ids = prompts.map((p) => [...p]);
    if (opts.attentionMask) {
      mask = opts.attentionMask.map((r) => [...r]);
      if (mask.length !== ids.length || mask.some((r) => r.length !== P)) throw new Error(`generate: attentionMask must be [${ids.length}, ${P}] like the prompts`);
    } else if (pad !== null && !eos.includes(pad) && ids.some((r) => r.includes(pad))) {
      // HF _prepare_attention_mask_for_generation: pads are where the pad id is, unless pad == eos.
      mask = ids.map((r) => r.map((t) => (t === pad ? 0 : 1)));
    } else {
      mask = ids.map((r) => r.map(() => 1));
    }
  }
  const maxLength = cfg.maxLengthFor(P);
  if (maxLength <= P) throw new Error(`generate: the prompt has ${P} tokens but max_length is ${maxLength}; set max_new_tokens`);
  if (cfg.stop_strings !== null && !opts.tokenizer) throw new Error("generate: stop_strings need a tokenizer (opts.tokenizer) to decode the continuations");
  if (opts.streamer && (prompts.length !== 1 || cfg.num_beams > 1 || cfg.num_return_sequences > 1)) {
    throw new Error("generate: a streamer needs one prompt, one returned sequence and no beam search");
  }
  const processors = buildLogitsProcessors(cfg, { promptLength: P, maxLength });
  for (const p of opts.logitsProcessors ?? []) processors.push(p);
  const out = cfg.num_beams > 1 ? beamLoop(model, ids, mask, cfg, processors, maxLength, opts) : sampleLoop(model, ids, mask, cfg, processors, maxLength, pad, opts);
  if (opts.tokenizer && !out.texts) out.texts = out.newTokens.map((t) => opts.tokenizer!.decode(t, { skipSpecialTokens: true }));
  return out;
}

/** Positions cumsum(mask) - 1, pads at 1 (HF), for the last `T` columns of each row. */
function positionsFor(mask: number[][], T: number): number[][] {
  return mask.map((row) => {
    const pos: number[] = [];
    let c = 0;
    for (const m of row) {
      c += m;
      pos.push(m === 0 ? 1 : c - 1);
    }
    return pos.slice(row.length - T);
  });
}

/** One forward of the new tokens of every row; returns the last-position logits [R, V]. */
function step(model: CausalLM, rows: number[][], mask: number[][], cache: DynamicCache | null, useCache: boolean): { logits: Float32Array; V: number } {
  const T = useCache && cache && cache.length > 0 ? rows[0].length - cache.length : rows[0].length;
  const input = rows.map((r) => r.slice(r.length - T));
  const hasPad = mask.some((r) => r.includes(0));
  const out = model.forward({
    inputIds: int2d(input),
    attentionMask: hasPad ? int2d(mask) : null,
    positionIds: int2d(positionsFor(mask, T)),
    cache: useCache ? cache : null,
  });
  const V = out.logits.shape[2];
  return { logits: lastLogits(out.logits), V };
}

function newCache(model: CausalLM, useCache: boolean): DynamicCache | null {
  if (!useCache) return null;
  if (!model.newCache) throw new Error("generate: the model has no newCache(); pass useCache: false to decode without a KV cache");
  return model.newCache();
}

function stoppingFor(cfg: GenerationConfig, maxLength: number, P: number, opts: GenerateOptions): { list: StoppingCriteriaList; stop: StopStringCriteria | null } {
  const list = new StoppingCriteriaList([new MaxLengthCriteria(maxLength)]);
  if (cfg.max_time !== null) list.push(new MaxTimeCriteria(cfg.max_time));
  let stop: StopStringCriteria | null = null;
  if (cfg.stop_strings !== null) {
    stop = new StopStringCriteria(opts.tokenizer!, cfg.stop_strings, P);
    list.push(stop);
  }
  const eos = cfg.eosTokenIds();
  if (eos.length > 0) list.push(new EosTokenCriteria(eos));
  for (const c of opts.stoppingCriteria ?? []) list.push(c);
  return { list, stop };
}

/** Greedy decoding and multinomial sampling (HF `_sample`). */
function sampleLoop(
  model: CausalLM,
  ids0: number[][],
  mask0: number[][],
  cfg: GenerationConfig,
  processors: LogitsProcessor,
  maxLength: number,
  pad: number | null,
  opts: GenerateOptions,
): GenerateOutput {
  // HF expands each prompt num_return_sequences times (only allowed when sampling).
  const n = cfg.num_return_sequences;
  const seqs = ids0.flatMap((r) => Array.from({ length: n }, () => [...r]));
  const mask = mask0.flatMap((r) => Array.from({ length: n }, () => [...r]));
  const R = seqs.length;
  const P = seqs[0].length;
  const useCache = opts.useCache ?? true;
  const cache = newCache(model, useCache);
  const gen = opts.generator ?? (cfg.seed !== null ? new Generator(cfg.seed) : defaultGenerator);
  const { list, stop } = stoppingFor(cfg, maxLength, P, opts);
  const eos = new Set(cfg.eosTokenIds());
  const unfinished = new Array<boolean>(R).fill(true);
  const reason = new Array<FinishReason>(R).fill("length");
  const genLen = new Array<number>(R).fill(0);
  opts.streamer?.put(seqs[0]);
  while (unfinished.some((u) => u)) {
    const { logits, V } = step(model, seqs, mask, cache, useCache);
    const scores = processors.apply(seqs, logits);
    for (let r = 0; r < R; r++) {
      let tok: number;
      if (!unfinished[r]) {
        // HF: finished rows keep receiving the pad id.
        tok = pad ?? 0;
      } else {
        tok = cfg.do_sample ? sampleRow(scores, V, r, gen) : argmaxRow(scores, V, r);
        genLen[r]++;
      }
      seqs[r].push(tok);
      mask[r].push(1);
    }
    if (opts.streamer && unfinished[0]) opts.streamer.put(seqs[0][seqs[0].length - 1]);
    const done = list.isDone(seqs);
    for (let r = 0; r < R; r++) {
      if (unfinished[r] && done[r]) {
        unfinished[r] = false;
        const last = seqs[r][seqs[r].length - 1];
        reason[r] = eos.has(last) || (stop !== null && stop.matched(r) !== null) ? "stop" : "length";
      }
    }
  }
  opts.streamer?.end();
  const out: GenerateOutput = {
    sequences: seqs,
    newTokens: seqs.map((s, r) => s.slice(P, P + genLen[r])),
    finishReasons: reason,
  };
  if (stop) out.texts = seqs.map((_, r) => stop.trimmedText(r));
  return out;
}

/** Beam search (HF `_beam_search`): the scorer picks beams, the loop reorders the cache. */
function beamLoop(
  model: CausalLM,
  ids0: number[][],
  mask0: number[][],
  cfg: GenerationConfig,
  processors: LogitsProcessor,
  maxLength: number,
  opts: GenerateOptions,
): GenerateOutput {
  const K = cfg.num_beams;
  const P = ids0[0].length;
  const useCache = opts.useCache ?? true;
  const cache = newCache(model, useCache);
  const extra: StoppingCriteria[] = [...(opts.stoppingCriteria ?? [])];
  if (cfg.max_time !== null) extra.push(new MaxTimeCriteria(cfg.max_time));
  if (cfg.stop_strings !== null) {
    throw new Error("generate: stop_strings with beam search are not supported by tslm (the criterion is per row and beams change rows); use eos_token_id");
  }
  const scorer = new BeamSearchScorer(ids0, {
    numBeams: K,
    maxLength,
    eosTokenId: cfg.eos_token_id,
    padTokenId: cfg.pad_token_id,
    lengthPenalty: cfg.length_penalty,
    earlyStopping: cfg.early_stopping,
    numReturnSequences: cfg.num_return_sequences,
    stoppingCriteria: extra.length > 0 ? new StoppingCriteriaList(extra) : null,
  });
  // Every beam of a prompt shares its padding, so masks need no reordering.
  const mask = mask0.flatMap((r) => Array.from({ length: K }, () => [...r]));
  while (!scorer.done) {
    const rows = scorer.runningSequences();
    const { logits, V } = step(model, rows, mask, cache, useCache);
    const lp = processors.apply(rows, logSoftmaxRows(logits, V));
    const r = scorer.step(lp);
    for (const m of mask) m.push(1);
    if (cache && !scorer.done) reorderCache(cache, r.beamIndices);
  }
  const res = scorer.finalize();
  const eos = new Set(cfg.eosTokenIds());
  const newTokens = res.beamIndices.map((h, i) => res.sequences[i].slice(P, P + h.filter((x) => x >= 0).length));
  return {
    sequences: res.sequences,
    newTokens,
    finishReasons: newTokens.map((t) => (t.length > 0 && eos.has(t[t.length - 1]) ? "stop" : "length")),
    sequenceScores: res.sequenceScores,
  };
}
