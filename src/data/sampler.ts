// Batch sampling from a flat token stream, with exact resumption.
//
// Glossary: B batch size, T block size (tokens a model sees per row), N tokens in the stream.
//
// Windows. With `shifted: true` (the default, nanoGPT's layout) every row is a window of T + 1
// consecutive tokens: inputs = window[0 .. T), targets = window[1 .. T] (the model does not shift).
// With `shifted: false` (Hugging Face's layout, where the model shifts labels itself) a row is T
// tokens and causalLM() gives input_ids = labels.
//
// Orders.
//   "random"      every batch draws B window starts uniformly from all N - L + 1 valid starts
//                 (L = window length), independently, like nanoGPT's get_batch; it never ends.
//   "sequential"  non-overlapping windows in stream order: starts 0, T, 2T, ... (with shifted
//                 windows consecutive rows share one token, so every token after the first is a
//                 target exactly once); for evaluation. next() returns null at the end of the
//                 stream; the last batch may have fewer rows unless dropLast.
//
// Resumption. getState() returns plain JSON (order, seed, generator state, position, epoch, sizes);
// setState() on a sampler built with the same options and stream continues with exactly the batches
// an uninterrupted sampler would have produced. The state names the stream length so that resuming
// on a different corpus is an error rather than silently different data.
import { Generator } from "../tensor/rng.js";
import { tensor } from "../tensor/create.js";
import type { Tensor } from "../tensor/tensor.js";
import type { TokenStream } from "./tokens.js";
import { loadGeneratorState, saveGeneratorState, type GeneratorStateJSON } from "./rng_state.js";

export type SampleOrder = "random" | "sequential";

export interface BatchSamplerOptions {
  batchSize: number;
  blockSize: number;
  order?: SampleOrder;
  /** Windows of T + 1 tokens (true, default) or T tokens (false). */
  shifted?: boolean;
  seed?: number;
  /** Sequential order: skip a last batch with fewer than B rows (default false). */
  dropLast?: boolean;
}

export interface SamplerState {
  order: SampleOrder;
  seed: number;
  generator: GeneratorStateJSON;
  /** Batches drawn in this epoch (random order: since the start). */
  position: number;
  epoch: number;
  batchSize: number;
  blockSize: number;
  shifted: boolean;
  streamLength: number;
}

/** B windows of L tokens, row-major, with where each window starts in the stream. */
export class TokenBatch {
  constructor(
    readonly windows: Int32Array,
    readonly rows: number,
    readonly windowLength: number,
    readonly shifted: boolean,
    readonly offsets: number[],
  ) {}

  private columns(from: number, count: number): Tensor {
    const L = this.windowLength;
    const out = new Int32Array(this.rows * count);
    for (let b = 0; b < this.rows; b++) out.set(this.windows.subarray(b * L + from, b * L + from + count), b * count);
    return tensor(out, [this.rows, count], { dtype: "int32" });
  }

  /** Each window as its own array (views, no copy): the input of MLM and span collators. */
  rowArrays(): Int32Array[] {
    const L = this.windowLength;
    return Array.from({ length: this.rows }, (_, b) => this.windows.subarray(b * L, (b + 1) * L));
  }

  /** (B, T) model inputs. */
  inputs(): Tensor {
    return this.columns(0, this.shifted ? this.windowLength - 1 : this.windowLength);
  }

  /** (B, T) next-token targets (shifted windows only). */
  targets(): Tensor {
    if (!this.shifted) throw new Error("TokenBatch.targets: windows are not shifted (shifted: false); use causalLM(), whose labels the model shifts");
    return this.columns(1, this.windowLength - 1);
  }

  /** Hugging Face causal-LM inputs: input_ids = labels (B, T), attention_mask of ones (unshifted windows). */
  causalLM(): { input_ids: Tensor; labels: Tensor; attention_mask: Tensor } {
    if (this.shifted) throw new Error("TokenBatch.causalLM: windows have T + 1 tokens (shifted: true); build the sampler with shifted: false for models that shift labels");
    const ids = this.columns(0, this.windowLength);
    const mask = new Int32Array(ids.size).fill(1);
    return { input_ids: ids, labels: this.columns(0, this.windowLength), attention_mask: tensor(mask, [this.rows, this.windowLength], { dtype: "int32" }) };
  }
}

function positiveInt(v: unknown, name: string): number {
  if (!(typeof v === "number" && Number.isInteger(v) && v >= 1)) throw new Error(`BatchSampler: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

export class BatchSampler {
  readonly batchSize: number;
  readonly blockSize: number;
  readonly order: SampleOrder;
  readonly shifted: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly windowLength: number;
  private readonly generator: Generator;
  private position = 0;
  private epoch = 0;

  constructor(readonly stream: TokenStream, opts: BatchSamplerOptions) {
    for (const k of Object.keys(opts)) {
      if (!["batchSize", "blockSize", "order", "shifted", "seed", "dropLast"].includes(k)) throw new Error(`BatchSampler: unknown option "${k}"`);
    }
    this.batchSize = positiveInt(opts.batchSize, "batchSize");
    this.blockSize = positiveInt(opts.blockSize, "blockSize");
    this.order = opts.order ?? "random";
    if (this.order !== "random" && this.order !== "sequential") throw new Error(`BatchSampler: order must be "random" or "sequential", got ${JSON.stringify(this.order)}`);
    this.shifted = opts.shifted ?? true;
    this.seed = opts.seed ?? 0;
    this.dropLast = opts.dropLast ?? false;
    this.windowLength = this.blockSize + (this.shifted ? 1 : 0);
    if (stream.length < this.windowLength) {
      throw new Error(`BatchSampler: the stream has ${stream.length} tokens, fewer than one window of ${this.windowLength} (block size ${this.blockSize}${this.shifted ? " + 1" : ""})`);
    }
    this.generator = new Generator(this.seed);
  }

  /** Windows per pass in sequential order. */
  get windowsPerEpoch(): number {
    return Math.floor((this.stream.length - this.windowLength) / this.blockSize) + 1;
  }

  /** Batches per pass in sequential order (the last may be partial unless dropLast). */
  get batchesPerEpoch(): number {
    const w = this.windowsPerEpoch;
    return this.dropLast ? Math.floor(w / this.batchSize) : Math.ceil(w / this.batchSize);
  }

  /** The next batch, or null at the end of a sequential pass (then call reset() for another). */
  next(): TokenBatch | null {
    const L = this.windowLength;
    let offsets: number[];
    if (this.order === "random") {
      const starts = this.stream.length - L + 1;
      offsets = Array.from({ length: this.batchSize }, () => this.generator.randint(starts));
    } else {
      if (this.position >= this.batchesPerEpoch) return null;
      const first = this.position * this.batchSize;
      const rows = Math.min(this.batchSize, this.windowsPerEpoch - first);
      offsets = Array.from({ length: rows }, (_, i) => (first + i) * this.blockSize);
    }
    this.position++;
    const windows = new Int32Array(offsets.length * L);
    offsets.forEach((o, b) => this.stream.read(o, L, windows, b * L));
    return new TokenBatch(windows, offsets.length, L, this.shifted, offsets);
  }

  /** Sequential order: start the next pass. */
  reset(): void {
    this.position = 0;
    this.epoch++;
  }

  /** All remaining batches of the current sequential pass. */
  *batches(): IterableIterator<TokenBatch> {
    for (let b = this.next(); b !== null; b = this.next()) yield b;
  }

  getState(): SamplerState {
    return {
      order: this.order,
      seed: this.seed,
      generator: saveGeneratorState(this.generator),
      position: this.position,
      epoch: this.epoch,
      batchSize: this.batchSize,
      blockSize: this.blockSize,
      shifted: this.shifted,
      streamLength: this.stream.length,
    };
  }

  setState(s: SamplerState): void {
    const mine = this.getState();
    for (const k of ["order", "seed", "batchSize", "blockSize", "shifted", "streamLength"] as const) {
      if (s[k] !== mine[k]) throw new Error(`BatchSampler.setState: the saved ${k} is ${JSON.stringify(s[k])}, this sampler has ${JSON.stringify(mine[k])}`);
    }
    loadGeneratorState(this.generator, s.generator, "BatchSampler.setState");
    this.position = s.position;
    this.epoch = s.epoch;
  }
}
