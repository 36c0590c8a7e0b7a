// Continuous batching for decoder-only models (gpt2, llama): the rows of every running request are
// decoded by ONE forward per step, sharing a batched KV cache, while requests join and leave
// between steps. Decode is memory-bound (each step streams all the weights for a few rows of
// arithmetic), so one [R, 1] forward costs little more than a [1, 1] one and the server's
// aggregate rate grows with the number of running requests instead of being split between them.
//
// Glossary: R running rows (all requests), S cached positions, V vocabulary, P a prompt's length.
//
// How requests share a cache of one length S: rows are left-padded. Each row keeps `real`, the
// number of its real (cached) tokens; its mask is S - real zeros then ones, and the position of
// its next token is `real` (HF's cumsum(mask) - 1 with left padding). A joining request is
// prefilled alone ([n, P] with its own cache; it samples its first token there), then its cache
// is left-padded (or the batch's is) to the longer of the two and appended along the batch dim.
// Newcomers that arrive together are prefilled together: left-padded into one forward.
// Rows of requests that finish leave the cache by a gather; padding columns that no remaining row
// needs are cut from the left. Rows of a request that finished early while its siblings (n > 1)
// continue keep receiving the pad id, as in HF and in src/generate's Decoding.
//
// Per request, the parts are src/generate's: buildLogitsProcessors on the request's own rows
// (prompt included, no padding), argmaxRow / sampleRow with the request's seeded generator, and
// the same stopping criteria and finish reasons as Decoding's sampling loop; so a request's tokens
// are those of Decoding on the same config up to float summation order in the batched GEMMs.
import { noGrad } from "../autograd/engine.js";
import {
  EosTokenCriteria,
  MaxLengthCriteria,
  MaxTimeCriteria,
  StopStringCriteria,
  StoppingCriteriaList,
  argmaxRow,
  buildLogitsProcessors,
  sampleRow,
  type FinishReason,
  type GenerateOutput,
  type GenerationConfig,
  type LogitsProcessorList,
} from "../generate/index.js";
import type { CausalLMInput, CausalLMOutput } from "../models/common.js";
import { DynamicCache } from "../nn/attention.js";
import { Generator, defaultGenerator } from "../tensor/rng.js";
import { Tensor } from "../tensor/tensor.js";
import type { Tokenizer } from "../tokenizers/index.js";
import type { StepUpdate } from "./scheduler.js";

/** What batching needs of a model: a causal-LM forward with masks, positions and a DynamicCache. */
export interface BatchableLM {
  forward(input: CausalLMInput): CausalLMOutput;
  newCache(): DynamicCache;
  config: Record<string, unknown>;
}

function int2d(rows: number[][]): Tensor {
  const T = rows[0].length;
  const data = new Int32Array(rows.length * T);
  rows.forEach((r, i) => data.set(r, i * T));
  return new Tensor(data, [rows.length, T]);
}

/** Last-position logits of [R, T, V] as a flat [R, V] array. */
function lastLogits(logits: Tensor): { flat: Float32Array; V: number } {
  const [, T, V] = logits.shape;
  return { flat: logits.narrow(1, T - 1, 1).toTypedArray() as Float32Array, V };
}

/** One request's rows in the batch: its own processors, sampler state and stopping. */
export class BatchMember {
  readonly config: GenerationConfig;
  readonly promptLength: number;
  readonly maxLength: number;
  readonly seqs: number[][];
  /** Cached real tokens per row (valid once prefilled). */
  real: number[];
  prefilled = false;
  /** Called after each of this request's steps. */
  onStep: (u: StepUpdate) => void = () => {};
  private readonly unfinished: boolean[];
  private readonly reasons: FinishReason[];
  private readonly genLen: number[];
  private readonly processors: LogitsProcessorList;
  private readonly stopping: StoppingCriteriaList;
  private readonly stopStrings: StopStringCriteria | null = null;
  private readonly eos: Set<number>;
  private readonly pad: number;
  private readonly generator: Generator;
  private finished = false;

  constructor(model: BatchableLM, prompt: number[], config: GenerationConfig, tokenizer: Tokenizer) {
    if (config.num_beams > 1) throw new Error("continuous batching does not do beam search (num_beams > 1)");
    if (prompt.length === 0) throw new Error("generate: empty prompt");
    const P = prompt.length;
    this.config = config;
    this.promptLength = P;
    this.maxLength = config.maxLengthFor(P);
    if (this.maxLength <= P) throw new Error(`generate: the prompt has ${P} tokens but max_length is ${this.maxLength}; set max_new_tokens`);
    const ctx = model.config["n_positions"];
    if (typeof ctx === "number" && this.maxLength > ctx) {
      throw new Error(`generate: the prompt (${P} tokens) plus up to ${this.maxLength - P} new tokens exceeds the model's context of ${ctx} positions (n_positions)`);
    }
    if (config.stop_strings !== null && config.stop_strings.length > 0) this.stopStrings = new StopStringCriteria(tokenizer, config.stop_strings, P);
    const eos = config.eosTokenIds();
    this.eos = new Set(eos);
    this.pad = config.pad_token_id ?? (eos.length > 0 ? eos[0] : 0);
    const n = config.num_return_sequences;
    this.seqs = Array.from({ length: n }, () => [...prompt]);
    this.real = new Array<number>(n).fill(0);
    this.unfinished = new Array<boolean>(n).fill(true);
    this.reasons = new Array<FinishReason>(n).fill("length");
    this.genLen = new Array<number>(n).fill(0);
    this.processors = buildLogitsProcessors(config, { promptLength: P, maxLength: this.maxLength });
    this.generator = config.seed !== null ? new Generator(config.seed) : defaultGenerator;
    this.stopping = new StoppingCriteriaList([new MaxLengthCriteria(this.maxLength)]);
    if (config.max_time !== null) this.stopping.push(new MaxTimeCriteria(config.max_time));
    if (this.stopStrings) this.stopping.push(this.stopStrings);
    if (eos.length > 0) this.stopping.push(new EosTokenCriteria(eos));
  }

  get rows(): number {
    return this.seqs.length;
  }

  get done(): boolean {
    return this.finished;
  }

  abort(): void {
    if (this.finished) return;
    this.unfinished.forEach((u, r) => {
      if (u) {
        this.unfinished[r] = false;
        this.reasons[r] = "abort";
      }
    });
    this.finished = true;
  }

  /** One step's logits for this request's rows ([rows, V] flat): pick, append, stop, report. */
  consume(logits: Float32Array, V: number): void {
    const seqs = this.seqs;
    const scores = this.processors.apply(seqs, logits);
    const tokens: Array<number | null> = new Array<number | null>(seqs.length).fill(null);
    for (let r = 0; r < seqs.length; r++) {
      let tok = this.pad;
      if (this.unfinished[r]) {
        tok = this.config.do_sample ? sampleRow(scores, V, r, this.generator) : argmaxRow(scores, V, r);
        this.genLen[r]++;
        tokens[r] = tok;
      }
      seqs[r].push(tok);
    }
    const done = this.stopping.isDone(seqs);
    const finished = new Array<boolean>(seqs.length).fill(false);
    for (let r = 0; r < seqs.length; r++) {
      if (this.unfinished[r] && done[r]) {
        this.unfinished[r] = false;
        finished[r] = true;
        const last = seqs[r][seqs[r].length - 1];
        this.reasons[r] = this.eos.has(last) || (this.stopStrings !== null && this.stopStrings.matched(r) !== null) ? "stop" : "length";
      }
    }
    if (!this.unfinished.some((u) => u)) this.finished = true;
    this.onStep({ tokens, finished });
  }

  result(): GenerateOutput {
    const P = this.promptLength;
    const out: GenerateOutput = { sequences: this.seqs, newTokens: this.seqs.map((s, r) => s.slice(P, P + this.genLen[r])), finishReasons: this.reasons };
    const stop = this.stopStrings;
    if (stop) out.texts = this.seqs.map((_, r) => stop.trimmedText(r));
    return out;
  }
}

/** Rows of a [R, H, S, D] tensor picked by `rows`, each left-padded with zeros to S + `pad`. */
function regather(t: Tensor, rows: number[], pad: number, cut: number): Tensor {
  const [, H, S, D] = t.shape;
  const src = t.toTypedArray() as Float32Array;
  const S2 = S - cut + pad;
  const out = new Float32Array(rows.length * H * S2 * D);
  const keep = (S - cut) * D;
  for (let i = 0; i < rows.length; i++) {
    for (let h = 0; h < H; h++) {
      const from = (rows[i] * H + h) * S * D + cut * D;
      const to = (i * H + h) * S2 * D + pad * D;
      out.set(src.subarray(from, from + keep), to);
    }
  }
  return new Tensor(out, [rows.length, H, S2, D]);
}

/** Concatenates two [*, H, S, D] tensors of equal S along the batch dim. */
function catRows(a: Tensor, b: Tensor): Tensor {
  const x = a.toTypedArray() as Float32Array;
  const y = b.toTypedArray() as Float32Array;
  const out = new Float32Array(x.length + y.length);
  out.set(x);
  out.set(y, x.length);
  return new Tensor(out, [a.shape[0] + b.shape[0], ...a.shape.slice(1)]);
}

/** Re-lays every layer of `cache`: keep `rows`, left-pad by `pad`, drop the first `cut` columns. */
function relayCache(cache: DynamicCache, rows: number[], pad: number, cut: number): void {
  for (const layer of cache.layers) {
    if (!layer.keys || !layer.values) continue;
    layer.keys = regather(layer.keys, rows, pad, cut);
    layer.values = regather(layer.values, rows, pad, cut);
  }
}

/**
 * The batch: members in join order, their rows contiguous in the cache in that order. prefill()
 * admits one member; step() decodes one token for every row of every prefilled member.
 */
export class ContinuousBatch {
  private members: BatchMember[] = [];
  private cache: DynamicCache | null = null;

  constructor(private readonly model: BatchableLM) {}

  get size(): number {
    return this.members.length;
  }

  get rows(): number {
    return this.members.reduce((s, m) => s + m.rows, 0);
  }

  /** Prefills one member: prefillMany([m]). */
  prefill(m: BatchMember): void {
    this.prefillMany([m]);
  }

  /**
   * Prefills newcomers together: their prompts left-padded into one [N, Pmax] forward with its own
   * cache (each samples its first token there), then that cache joins the batch's, the shorter of
   * the two left-padded to the longer. Members that finished at once leave at the next prune.
   */
  prefillMany(ms: BatchMember[]): void {
    if (ms.length === 0) return;
    const Pmax = Math.max(...ms.map((m) => m.promptLength));
    const ids: number[][] = [];
    const mask: number[][] = [];
    const positions: number[][] = [];
    for (const m of ms) {
      const pad = Pmax - m.promptLength;
      for (const row of m.seqs) {
        // Pads take any id (masked out) and position 0; real tokens count from 0 after them.
        ids.push([...new Array<number>(pad).fill(0), ...row]);
        mask.push([...new Array<number>(pad).fill(0), ...new Array<number>(m.promptLength).fill(1)]);
        positions.push([...new Array<number>(pad).fill(0), ...Array.from({ length: m.promptLength }, (_, i) => i)]);
      }
    }
    const padded = ms.some((m) => m.promptLength < Pmax);
    const own = this.model.newCache();
    const out = noGrad(() =>
      this.model.forward({ inputIds: int2d(ids), positionIds: int2d(positions), attentionMask: padded ? int2d(mask) : null, cache: own, logitsToKeep: 1 }),
    );
    const { flat, V } = lastLogits(out.logits); // (N rows, V)
    let row = 0;
    for (const m of ms) {
      m.prefilled = true;
      m.real = m.seqs.map(() => m.promptLength);
      m.consume(flat.subarray(row * V, (row + m.rows) * V), V);
      row += m.rows;
    }
    if (!this.cache || this.members.length === 0) {
      this.cache = own;
      this.members = [...ms];
      return;
    }
    const S = this.cache.length;
    const all = (n: number) => Array.from({ length: n }, (_, i) => i);
    // Bring both caches to the longer length by left padding, then stack the rows.
    if (Pmax > S) relayCache(this.cache, all(this.rows), Pmax - S, 0);
    else if (S > Pmax) relayCache(own, all(row), S - Pmax, 0);
    this.cache.layers.forEach((layer, i) => {
      layer.keys = catRows(layer.keys!, own.layers[i].keys!);
      layer.values = catRows(layer.values!, own.layers[i].values!);
    });
    this.members.push(...ms);
  }

  /** Ends every member (after a failed forward the cache is in an unknown state). */
  clear(): BatchMember[] {
    const all = this.members;
    for (const m of all) m.abort();
    this.members = [];
    this.cache = null;
    return all;
  }

  /** Drops members that are done (finished or aborted) from the batch and its cache. */
  prune(): void {
    if (!this.cache || this.members.every((m) => !m.done)) return;
    const keepRows: number[] = [];
    let row = 0;
    const kept: BatchMember[] = [];
    for (const m of this.members) {
      if (!m.done) {
        for (let r = 0; r < m.rows; r++) keepRows.push(row + r);
        kept.push(m);
      }
      row += m.rows;
    }
    this.members = kept;
    if (kept.length === 0) {
      this.cache = null;
      return;
    }
    // Columns that are padding for every remaining row go too.
    const S = this.cache.length;
    const cut = Math.min(...kept.flatMap((m) => m.real.map((r) => S - r)));
    relayCache(this.cache, keepRows, 0, cut);
  }

  /** One token for every row: a single [R, 1] forward over the shared cache. */
  step(): void {
    this.prune();
    if (!this.cache || this.members.length === 0) return;
    const S = this.cache.length;
    const members = this.members;
    const last: number[][] = [];
    const pos: number[][] = [];
    const mask: number[][] = [];
    let padded = false;
    for (const m of members) {
      for (let r = 0; r < m.rows; r++) {
        const real = m.real[r];
        last.push([m.seqs[r][m.seqs[r].length - 1]]);
        pos.push([real]);
        const row = new Array<number>(S + 1).fill(1);
        for (let j = 0; j < S - real; j++) row[j] = 0;
        if (real < S) padded = true;
        mask.push(row);
      }
    }
    const out = noGrad(() => this.model.forward({ inputIds: int2d(last), positionIds: int2d(pos), attentionMask: padded ? int2d(mask) : null, cache: this.cache }));
    const { flat, V } = lastLogits(out.logits); // (R, V)
    let row = 0;
    for (const m of members) {
      for (let r = 0; r < m.rows; r++) m.real[r]++;
      if (!m.done) m.consume(flat.subarray(row * V, (row + m.rows) * V), V);
      row += m.rows;
    }
  }
}
