// The decoding loop for decoder-only models (GPT-2, LLaMA) and encoder-decoder models (T5) with a
// KV cache: greedy, seeded sampling and beam search, batched with left padding. It composes the
// parts of this folder (processors, samplers, stopping criteria, beam scorer, streamer) around a
// model's forward, the way Hugging Face's GenerationMixin.generate does (transformers 5.x,
// `_sample` and `_beam_search`), so greedy and beam outputs are token-identical to HF's on the
// same weights.
//
// Glossary: B prompts, K beams (1 without beam search), R = B * K (or B * num_return_sequences
// when sampling) running rows, P prompt length (left-padded), S cached positions, V vocabulary.
//
// Per step: forward the new tokens ([R, P] at the prefill, [R, 1] after, with the cache) ->
// last-position logits [R, V] (float32) -> processors (on log-softmax for beam search, as HF) ->
// argmax / sample / beam step -> append -> stopping criteria. Left padding: the attention mask
// marks pads with 0 and positions are cumsum(mask) - 1 (pads at 1), as HF's
// prepare_inputs_for_generation computes them. Encoder-decoder: the prompts are encoded once
// (expanded to the running rows), the decoder rows start as [decoder_start_token_id], and beam
// reordering covers the self- and cross-attention caches.
import type { DynamicCache } from "../nn/attention.js";
import type { EncoderDecoderCache } from "../nn/seq2seq_cache.js";
import type { CausalLMInput, CausalLMOutput } from "../models/common.js";
import type { Seq2SeqInput, Seq2SeqOutput } from "../models/t5.js";
import { Generator, defaultGenerator } from "../tensor/rng.js";
import { Tensor } from "../tensor/tensor.js";
import { noGrad } from "../autograd/engine.js";
import { BeamSearchScorer } from "./beam_search.js";
import { GenerationConfig, buildLogitsProcessors, type GenerationOptions } from "./config.js";
import { LogitsProcessorList, type LogitsProcessor } from "./logits_process.js";
import { logSoftmaxRows } from "./rowops.js";
import { argmaxRow, sampleRow } from "./sampling.js";
import {
  EosTokenCriteria,
  MaxLengthCriteria,
  MaxTimeCriteria,
  StatelessStopStringCriteria,
  StopStringCriteria,
  StoppingCriteriaList,
  type StoppingCriteria,
  type TokenTextDecoder,
} from "./stopping.js";
import { StopStringFilter, TextStreamer } from "./streamer.js";

/** What the loop needs of a decoder-only model: tslm's GPT2LMHeadModel and LlamaForCausalLM satisfy it. */
export interface CausalLM {
  forward(input: CausalLMInput): CausalLMOutput;
  newCache?(): DynamicCache;
  /** tslm Modules: training mode turns dropout on, which generation must not use. */
  training?: boolean;
  train?(on?: boolean): unknown;
}

/**
 * What the loop needs of an encoder-decoder model (tslm's T5ForConditionalGeneration): the prompt
 * is encoded once, and the decoder starts from decoder_start_token_id.
 */
export interface Seq2SeqLM {
  encode(inputIds: Tensor, attentionMask?: Tensor | null): Tensor;
  forward(input: Seq2SeqInput): Seq2SeqOutput;
  newCache?(): EncoderDecoderCache;
  config?: { decoder_start_token_id?: number | null; [key: string]: unknown };
  training?: boolean;
  train?(on?: boolean): unknown;
}

export type GenerativeModel = CausalLM | Seq2SeqLM;

function isSeq2Seq(model: GenerativeModel): model is Seq2SeqLM {
  return typeof (model as Seq2SeqLM).encode === "function";
}

export interface GenerateOptions {
  /** 1 = real token, 0 = padding, per prompt row ([B, P] rows or an int32 tensor); by default derived from pad_token_id as HF does. */
  attentionMask?: number[][] | Tensor;
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

export type FinishReason = "stop" | "length" | "abort";

export interface GenerateOutput {
  /**
   * Full rows, prompt included: B * num_return_sequences of them (HF's `sequences`). For an
   * encoder-decoder model, the decoder rows: decoder_start_token_id, then the generated ids.
   */
  sequences: number[][];
  /** The generated part of each row, without padding after EOS. */
  newTokens: number[][];
  /** "stop" for EOS or a stop string, "length" for max_length / max_new_tokens / max_time, "abort" when cancelled. */
  finishReasons: FinishReason[];
  /** Beam search: each returned sequence's length-normalised score. */
  sequenceScores?: number[];
  /** With a tokenizer: each row's decoded continuation, cut before a matched stop string. */
  texts?: string[];
}

/** Rows of a 2-D tensor (int32 ids or a 0/1 mask) as number arrays. */
function rowsOf(t: Tensor, what: string): number[][] {
  if (t.ndim !== 2) throw new Error(`generate: ${what} must be 2-D [B, T], got shape [${t.shape.join(", ")}]`);
  const [B, T] = t.shape;
  const flat = t.toTypedArray();
  return Array.from({ length: B }, (_, b) => Array.from(flat.subarray(b * T, b * T + T)));
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
export function reorderCache(cache: DynamicCache | EncoderDecoderCache, rows: Int32Array): void {
  if ("selfAttention" in cache) {
    reorderCache(cache.selfAttention, rows);
    reorderCache(cache.crossAttention, rows);
    return;
  }
  for (const layer of cache.layers) layer.reorder(rows);
}

/** The last n positions' logits [R, n, V] of a forward's [R, T, V] output, as a flat float32 array. */
function lastLogits(logits: Tensor, n = 1): Float32Array {
  const [, T] = logits.shape;
  // Decoding steps (and prefills with logitsToKeep) return exactly the kept positions: the
  // forward's fresh output is used in place (the processors then modify it), no copy of R x V.
  if (T === n && logits.isContiguous() && logits.dtype === "float32") return (logits.data as Float32Array).subarray(logits.offset, logits.offset + logits.size);
  return logits.narrow(1, T - n, n).toTypedArray() as Float32Array; // (R, n, V)
}

/**
 * Prompt lookup decoding's draft (HF PromptLookupCandidateGenerator): find the leftmost earlier
 * occurrence of the row's last n tokens (n from maxNgram down to 1) and propose the up to
 * `numTokens` tokens that followed it, cut before the first EOS. Empty when nothing matches.
 */
export function promptLookupCandidates(seq: readonly number[], numTokens: number, maxNgram: number, eos: ReadonlySet<number> = new Set()): number[] {
  const L = seq.length;
  for (let n = Math.min(maxNgram, L - 1); n >= 1; n--) {
    for (let s = 0; s + n < L; s++) {
      let match = true;
      for (let j = 0; j < n; j++) {
        if (seq[s + j] !== seq[L - n + j]) {
          match = false;
          break;
        }
      }
      if (!match) continue;
      const out: number[] = [];
      for (let i = s + n; i < Math.min(s + n + numTokens, L); i++) {
        if (eos.has(seq[i])) break;
        out.push(seq[i]);
      }
      return out; // HF takes the first match even when an EOS cut leaves nothing
    }
  }
  return [];
}

/**
 * Generates continuations of `prompts` (rows of token ids; rows of different lengths are
 * left-padded with pad_token_id, or pass equal-length rows plus `attentionMask`). For an
 * encoder-decoder model the prompts are the encoder inputs and the decoder starts from
 * decoder_start_token_id.
 * `config` is a GenerationConfig or camelCase options (maxNewTokens, doSample, numBeams, ...).
 */
export function generate(model: GenerativeModel, prompts: number[][] | Tensor, config: GenerationConfig | GenerationOptions = {}, opts: GenerateOptions = {}): GenerateOutput {
  const d = new Decoding(model, prompts, config, opts);
  while (!d.done) d.step();
  return d.result();
}

/** What one Decoding.step() did. */
export interface StepResult {
  /** The last token appended to each row (null for rows already finished). */
  tokens: Array<number | null>;
  /** Every token appended to each row in this step (several with prompt lookup decoding). */
  added: number[][];
  /** Rows that finished in this step. */
  finished: boolean[];
}

/** One event of generateStream: the tokens and text each row gained in the step ([] / "" for rows already finished). */
export interface StreamEvent {
  step: number;
  tokens: number[][];
  /** With a tokenizer: the newly completed text per row ("" while a character is split); stop strings held back. */
  texts?: string[];
}

/**
 * generate() as an async iterator: yields after every step (letting the event loop run, e.g. to
 * flush server-sent events or notice a client disconnect) and returns the GenerateOutput. Aborting
 * `signal` ends all rows with finish reason "abort". Beam search cannot stream (its rows change).
 */
export async function* generateStream(
  model: GenerativeModel,
  prompts: number[][] | Tensor,
  config: GenerationConfig | GenerationOptions = {},
  opts: GenerateOptions & { signal?: AbortSignal } = {},
): AsyncGenerator<StreamEvent, GenerateOutput> {
  const d = new Decoding(model, prompts, config, opts);
  if (d.isBeamSearch) throw new Error("generateStream: beam search cannot stream (beams are reordered every step); use generate()");
  const tok = opts.tokenizer;
  const streams = tok ? d.rows.map(() => new TextStreamer(tok, { skipPrompt: false })) : null;
  const stops = tok && d.config.stop_strings ? d.rows.map(() => new StopStringFilter(d.config.stop_strings!)) : null;
  let n = 0;
  while (!d.done) {
    if (opts.signal?.aborted) {
      d.abort();
      break;
    }
    const { added, finished } = d.step();
    const ev: StreamEvent = { step: n++, tokens: added };
    if (streams) {
      ev.texts = added.map((ts, r) => {
        if (ts.length === 0) return "";
        let text = streams[r].put(ts);
        if (finished[r]) text += streams[r].end();
        if (stops) text = stops[r].push(text) + (finished[r] ? stops[r].end() : "");
        return text;
      });
    }
    yield ev;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return d.result();
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

/**
 * A generation in progress: construct it (validates and prepares), call step() until `done`, then
 * result(). generate() and generateStream() are thin loops over it.
 */
export class Decoding {
  readonly config: GenerationConfig;
  readonly promptLength: number;
  readonly maxLength: number;
  readonly isBeamSearch: boolean;
  private readonly model: GenerativeModel;
  /** Encoder-decoder: the encoder output and mask, one row per running row. */
  private readonly encoder: { hidden: Tensor; mask: Tensor | null } | null = null;
  private readonly opts: GenerateOptions;
  private readonly processors: LogitsProcessorList;
  private readonly useCache: boolean;
  private readonly cache: DynamicCache | EncoderDecoderCache | null;
  private readonly mask: number[][];
  private readonly pad: number | null;
  private readonly eos: Set<number>;
  // Sampling / greedy state (HF `_sample`).
  private seqs: number[][] = [];
  private unfinished: boolean[] = [];
  private reasons: FinishReason[] = [];
  private genLen: number[] = [];
  private stopping: StoppingCriteriaList | null = null;
  private stopStrings: StopStringCriteria | null = null;
  private generator: Generator = defaultGenerator;
  // Beam search state (HF `_beam_search`).
  private scorer: BeamSearchScorer | null = null;
  private beamStops: StatelessStopStringCriteria | null = null;
  private finished = false;

  constructor(model: GenerativeModel, promptsIn: number[][] | Tensor, config: GenerationConfig | GenerationOptions, opts: GenerateOptions = {}) {
    const prompts = promptsIn instanceof Tensor ? rowsOf(promptsIn, "inputIds") : promptsIn;
    const attentionMask = opts.attentionMask instanceof Tensor ? rowsOf(opts.attentionMask, "attentionMask") : opts.attentionMask;
    const cfg = config instanceof GenerationConfig ? config : GenerationConfig.fromOptions(config);
    this.config = cfg;
    this.model = model;
    this.opts = opts;
    if (!Array.isArray(prompts) || prompts.length === 0) throw new Error("generate: no prompts");
    const eos = cfg.eosTokenIds();
    this.eos = new Set(eos);
    // HF: without a pad id, the first EOS id pads finished rows and left-pads prompts.
    const pad = cfg.pad_token_id ?? (eos.length > 0 ? eos[0] : null);
    this.pad = pad;
    const P0 = Math.max(...prompts.map((p) => p.length));
    if (P0 === 0) throw new Error("generate: empty prompt (tslm needs at least one prompt token, e.g. the BOS id)");
    let mask: number[][];
    let ids: number[][];
    if (prompts.some((p) => p.length !== P0)) {
      if (pad === null) throw new Error("generate: prompts of different lengths need pad_token_id (or eos_token_id) to left-pad them");
      if (attentionMask) throw new Error("generate: pass either prompts of one length with attentionMask, or prompts of different lengths without it");
      ids = prompts.map((p) => [...new Array<number>(P0 - p.length).fill(pad), ...p]);
      mask = prompts.map((p) => [...new Array<number>(P0 - p.length).fill(0), ...new Array<number>(p.length).fill(1)]);
    } else {
      ids = prompts.map((p) => [...p]);
      if (attentionMask) {
        mask = attentionMask.map((r) => [...r]);
        if (mask.length !== ids.length || mask.some((r) => r.length !== P0)) throw new Error(`generate: attentionMask must be [${ids.length}, ${P0}] like the prompts`);
      } else if (pad !== null && !eos.includes(pad) && ids.some((r) => r.includes(pad))) {
        // HF _prepare_attention_mask_for_generation: pads are where the pad id is, unless pad == eos.
        mask = ids.map((r) => r.map((t) => (t === pad ? 0 : 1)));
      } else {
        mask = ids.map((r) => r.map(() => 1));
      }
    }
    if (isSeq2Seq(model)) {
      // The prompts go through the encoder once; generation continues decoder rows that start
      // with decoder_start_token_id (HF: generation config, then model config, then bos).
      const start = cfg.decoder_start_token_id ?? model.config?.decoder_start_token_id ?? cfg.bos_token_id;
      if (start === null || start === undefined) throw new Error("generate: an encoder-decoder model needs decoder_start_token_id (or bos_token_id)");
      const perPrompt = cfg.num_beams > 1 ? cfg.num_beams : cfg.num_return_sequences;
      const encMask = mask.some((r) => r.includes(0)) ? int2d(mask) : null;
      const hidden = this.withEval(() => model.encode(int2d(ids), encMask)); // (B, S, C)
      const expand = Int32Array.from({ length: ids.length * perPrompt }, (_, i) => Math.floor(i / perPrompt));
      this.encoder = { hidden: gatherRows(hidden, expand), mask: encMask ? int2d(mask.flatMap((r) => Array.from({ length: perPrompt }, () => r))) : null };
      ids = ids.map(() => [start]);
      mask = ids.map(() => [1]);
    }
    const P = ids[0].length;
    this.promptLength = P;
    this.maxLength = cfg.maxLengthFor(P);
    if (this.maxLength <= P) throw new Error(`generate: the prompt has ${P} tokens but max_length is ${this.maxLength}; set max_new_tokens`);
    // Learned absolute positions (GPT-2's n_positions) are a hard context limit: fail before
    // decoding rather than at the step that runs past it. Rotary models have no such table.
    const ctx = (model as { config?: Record<string, unknown> }).config?.["n_positions"];
    if (typeof ctx === "number" && !isSeq2Seq(model) && this.maxLength > ctx) {
      throw new Error(
        `generate: the prompt (${P} tokens) plus up to ${this.maxLength - P} new tokens exceeds the model's context of ${ctx} positions (n_positions); ` +
          `lower max_new_tokens / max_length or shorten the prompt`,
      );
    }
    if (cfg.stop_strings !== null && !opts.tokenizer) throw new Error("generate: stop_strings need a tokenizer (opts.tokenizer) to decode the continuations");
    this.isBeamSearch = cfg.num_beams > 1;
    if (opts.streamer && (prompts.length !== 1 || this.isBeamSearch || cfg.num_return_sequences > 1)) {
      throw new Error("generate: a streamer needs one prompt, one returned sequence and no beam search");
    }
    this.processors = buildLogitsProcessors(cfg, { promptLength: P, maxLength: this.maxLength });
    for (const p of opts.logitsProcessors ?? []) this.processors.push(p);
    this.useCache = opts.useCache ?? true;
    if (this.useCache && !model.newCache) throw new Error("generate: the model has no newCache(); pass useCache: false to decode without a KV cache");
    this.cache = this.useCache ? model.newCache!() : null;

    if (this.isBeamSearch) {
      const extra: StoppingCriteria[] = [...(opts.stoppingCriteria ?? [])];
      if (cfg.max_time !== null) extra.push(new MaxTimeCriteria(cfg.max_time));
      if (cfg.stop_strings !== null) {
        // Candidates change rows every step, so the check decodes each candidate afresh.
        this.beamStops = new StatelessStopStringCriteria(opts.tokenizer!, cfg.stop_strings, P);
        extra.push(this.beamStops);
      }
      this.scorer = new BeamSearchScorer(ids, {
        numBeams: cfg.num_beams,
        maxLength: this.maxLength,
        eosTokenId: cfg.eos_token_id,
        padTokenId: cfg.pad_token_id,
        lengthPenalty: cfg.length_penalty,
        earlyStopping: cfg.early_stopping,
        numReturnSequences: cfg.num_return_sequences,
        stoppingCriteria: extra.length > 0 ? new StoppingCriteriaList(extra) : null,
        generator: cfg.do_sample ? (opts.generator ?? (cfg.seed !== null ? new Generator(cfg.seed) : defaultGenerator)) : null,
      });
      // Every beam of a prompt shares its padding, so masks need no reordering.
      this.mask = mask.flatMap((r) => Array.from({ length: cfg.num_beams }, () => [...r]));
    } else {
      // HF expands each prompt num_return_sequences times (only allowed when sampling).
      const n = cfg.num_return_sequences;
      this.seqs = ids.flatMap((r) => Array.from({ length: n }, () => [...r]));
      this.mask = mask.flatMap((r) => Array.from({ length: n }, () => [...r]));
      const R = this.seqs.length;
      this.unfinished = new Array<boolean>(R).fill(true);
      this.reasons = new Array<FinishReason>(R).fill("length");
      this.genLen = new Array<number>(R).fill(0);
      this.generator = opts.generator ?? (cfg.seed !== null ? new Generator(cfg.seed) : defaultGenerator);
      this.stopping = new StoppingCriteriaList([new MaxLengthCriteria(this.maxLength)]);
      if (cfg.max_time !== null) this.stopping.push(new MaxTimeCriteria(cfg.max_time));
      if (cfg.stop_strings !== null) {
        this.stopStrings = new StopStringCriteria(opts.tokenizer!, cfg.stop_strings, P);
        this.stopping.push(this.stopStrings);
      }
      if (eos.length > 0) this.stopping.push(new EosTokenCriteria(eos));
      for (const c of opts.stoppingCriteria ?? []) this.stopping.push(c);
      opts.streamer?.put(this.seqs[0]);
    }
  }

  get done(): boolean {
    return this.finished;
  }

  /** The running rows (sampling: B * num_return_sequences; beam search: B * num_beams). */
  get rows(): number[][] {
    return this.scorer ? this.scorer.runningSequences() : this.seqs;
  }

  /** Ends every unfinished row now (finish reason "abort"). */
  abort(): void {
    if (this.finished) return;
    for (let r = 0; r < this.unfinished.length; r++) {
      if (this.unfinished[r]) {
        this.unfinished[r] = false;
        this.reasons[r] = "abort";
      }
    }
    this.finished = true;
    this.opts.streamer?.end();
  }

  /** Runs fn in eval mode without autograd: a model in training mode is switched back after. */
  private withEval<T>(fn: () => T): T {
    const model = this.model;
    // Decoding runs in eval mode (no dropout), as an HF model loaded by from_pretrained does.
    const wasTraining = model.training === true && typeof model.train === "function";
    if (wasTraining) model.train!(false);
    try {
      return noGrad(fn);
    } finally {
      if (wasTraining) model.train!(true);
    }
  }

  /** One forward of the new tokens of every row; the last `keep` positions' logits [R, keep, V]. */
  private forward(rows: number[][], keep = 1): { logits: Float32Array; V: number } {
    const cache = this.cache;
    const T = cache && cache.length > 0 ? rows[0].length - cache.length : rows[0].length;
    const input = int2d(rows.map((r) => r.slice(r.length - T)));
    const model = this.model;
    const out = this.withEval(() => {
      if (isSeq2Seq(model)) {
        const enc = this.encoder!;
        return model.forward({ encoderHiddenStates: enc.hidden, attentionMask: enc.mask, decoderInputIds: input, cache: cache as EncoderDecoderCache | null });
      }
      const hasPad = this.mask.some((r) => r.includes(0));
      return model.forward({
        inputIds: input,
        attentionMask: hasPad ? int2d(this.mask) : null,
        positionIds: int2d(positionsFor(this.mask, T)),
        cache: cache as DynamicCache | null,
        // Only the last `keep` positions' logits are needed: at prefill this skips the output
        // projection (T x C x V) for every prompt position but the last, as transformers does.
        logitsToKeep: Math.min(keep, T),
      });
    });
    return { logits: lastLogits(out.logits, keep), V: out.logits.shape[2] };
  }

  /**
   * One decoding step. Returns the token appended to each row (null for rows already finished;
   * for beam search, the tokens of the reordered running beams) and which rows finished now.
   */
  step(): StepResult {
    if (this.finished) throw new Error("Decoding.step: generation is already done");
    if (this.scorer) return this.beamStep(this.scorer);
    if (this.config.prompt_lookup_num_tokens !== null) return this.lookupStep();
    return this.sampleStep();
  }

  /** Appends `tok` to row r and runs the stopping criteria on it; true when the row is done. */
  private appendAndCheck(r: number, tok: number): boolean {
    this.seqs[r].push(tok);
    this.mask[r].push(1);
    this.genLen[r]++;
    this.opts.streamer?.put(tok);
    if (!this.stopping!.isDone(this.seqs)[r]) return false;
    this.unfinished[r] = false;
    this.reasons[r] = this.eos.has(tok) || (this.stopStrings !== null && this.stopStrings.matched(r) !== null) ? "stop" : "length";
    return true;
  }

  /**
   * Prompt lookup decoding (HF assisted generation with prompt_lookup_num_tokens, greedy): draft
   * tokens by matching the row's last n-gram earlier in the row, check them all in one forward,
   * keep the longest prefix greedy decoding agrees with plus greedy's next token, and crop the KV
   * cache back to the kept positions. The output equals plain greedy decoding; the speed-up comes
   * from accepting several tokens per forward when the continuation repeats the prompt.
   */
  private lookupStep(): StepResult {
    if (this.seqs.length !== 1) throw new Error("generate: prompt lookup decoding (prompt_lookup_num_tokens) needs a single prompt, as in HF");
    const seq = this.seqs[0];
    const T = seq.length;
    const room = this.maxLength - T - 1; // drafts past max_length could not be kept
    const cand = room > 0 ? promptLookupCandidates(seq, this.config.prompt_lookup_num_tokens!, this.config.max_matching_ngram_size ?? 2, this.eos).slice(0, room) : [];
    const row = [...seq, ...cand];
    for (let i = 0; i < cand.length; i++) this.mask[0].push(1); // cover the drafts during the forward
    const { logits, V } = this.forward([row], cand.length + 1); // (1, c + 1, V)
    this.mask[0].length = T;
    const accepted: number[] = [];
    for (let i = 0; i <= cand.length; i++) {
      // Position i predicts the token after row[0 .. T + i), processed with that prefix (HF).
      const scores = logits.subarray(i * V, (i + 1) * V);
      this.processors.apply([row.slice(0, T + i)], scores);
      const tok = argmaxRow(scores, V, 0);
      accepted.push(tok);
      if (i === cand.length || tok !== cand[i]) break;
    }
    // The cache holds T + c positions; keep those of the tokens fed so far (T + accepted - 1).
    const keep = T + accepted.length - 1;
    if (this.cache) ("selfAttention" in this.cache ? this.cache.selfAttention : this.cache).crop(keep);
    const added: number[] = [];
    let done = false;
    for (const tok of accepted) {
      added.push(tok);
      if ((done = this.appendAndCheck(0, tok))) break;
    }
    if (done) {
      this.finished = true;
      this.opts.streamer?.end();
    }
    return { tokens: [added[added.length - 1]], added: [added], finished: [done] };
  }

  private sampleStep(): StepResult {
    const seqs = this.seqs;
    const R = seqs.length;
    const { logits, V } = this.forward(seqs);
    const scores = this.processors.apply(seqs, logits);
    const tokens: Array<number | null> = new Array<number | null>(R).fill(null);
    for (let r = 0; r < R; r++) {
      let tok: number;
      if (!this.unfinished[r]) {
        // HF: finished rows keep receiving the pad id.
        tok = this.pad ?? 0;
      } else {
        tok = this.config.do_sample ? sampleRow(scores, V, r, this.generator) : argmaxRow(scores, V, r);
        this.genLen[r]++;
        tokens[r] = tok;
      }
      seqs[r].push(tok);
      this.mask[r].push(1);
    }
    if (this.opts.streamer && tokens[0] !== null) this.opts.streamer.put(tokens[0]);
    const done = this.stopping!.isDone(seqs);
    const finishedNow = new Array<boolean>(R).fill(false);
    for (let r = 0; r < R; r++) {
      if (this.unfinished[r] && done[r]) {
        this.unfinished[r] = false;
        finishedNow[r] = true;
        const last = seqs[r][seqs[r].length - 1];
        this.reasons[r] = this.eos.has(last) || (this.stopStrings !== null && this.stopStrings.matched(r) !== null) ? "stop" : "length";
      }
    }
    if (!this.unfinished.some((u) => u)) {
      this.finished = true;
      this.opts.streamer?.end();
    }
    return { tokens, added: tokens.map((t) => (t === null ? [] : [t])), finished: finishedNow };
  }

  private beamStep(scorer: BeamSearchScorer): StepResult {
    const rows = scorer.runningSequences();
    const { logits, V } = this.forward(rows);
    const lp = this.processors.apply(rows, logSoftmaxRows(logits, V));
    const r = scorer.step(lp);
    for (const m of this.mask) m.push(1);
    if (this.cache && !scorer.done) reorderCache(this.cache, r.beamIndices);
    this.finished = scorer.done;
    return { tokens: Array.from(r.tokens), added: Array.from(r.tokens, (t) => [t]), finished: new Array<boolean>(r.tokens.length).fill(false) };
  }

  /** The outcome; before `done` it is an error. */
  result(): GenerateOutput {
    if (!this.finished) throw new Error("Decoding.result: generation is not done; call step() until done");
    const P = this.promptLength;
    const tok = this.opts.tokenizer;
    let out: GenerateOutput;
    if (this.scorer) {
      const res = this.scorer.finalize();
      const newTokens = res.beamIndices.map((h, i) => res.sequences[i].slice(P, P + h.filter((x) => x >= 0).length));
      const stops = this.beamStops;
      const texts = tok ? newTokens.map((t) => tok.decode(t, { skipSpecialTokens: true })) : undefined;
      out = {
        sequences: res.sequences,
        newTokens,
        finishReasons: newTokens.map((t, i) =>
          (t.length > 0 && this.eos.has(t[t.length - 1])) || (stops !== null && texts !== undefined && stops.cut(texts[i]) !== texts[i]) ? "stop" : "length",
        ),
        sequenceScores: res.sequenceScores,
      };
      if (texts) out.texts = stops ? texts.map((t) => stops.cut(t)) : texts;
    } else {
      out = {
        sequences: this.seqs,
        newTokens: this.seqs.map((s, r) => s.slice(P, P + this.genLen[r])),
        finishReasons: this.reasons,
      };
      // Texts come from each row's own tokens (not the pads appended after it finished), cut
      // before the first stop string.
      if (tok) {
        const stops = this.config.stop_strings ?? [];
        out.texts = out.newTokens.map((t) => {
          const text = tok.decode(t, { skipSpecialTokens: true });
          let first = -1;
          for (const st of stops) {
            const at = text.indexOf(st);
            if (at >= 0 && (first < 0 || at < first)) first = at;
          }
          return first < 0 ? text : text.slice(0, first);
        });
      }
    }
    if (tok && !out.texts) out.texts = out.newTokens.map((t) => tok.decode(t, { skipSpecialTokens: true }));
    return out;
  }
}
