// What the model files share: config.json field readers (typed, validated, unknown keys kept for
// round-trip), the causal-LM forward contract, and the shifted causal-LM loss.
import { crossEntropy, linear, linearCrossEntropy, narrow } from "../ops/index.js";
import { arange } from "../tensor/create.js";
import { Tensor, formatShape } from "../tensor/tensor.js";
import type { DynamicCache } from "../nn/attention.js";

// ---------------------------------------------------------------------------------------------
// Config fields

export type RawConfig = Record<string, unknown>;

/**
 * Field names read as floats, per model type (filled by ConfigReader.number). savePretrained writes
 * whole-number values of these fields as "1.0", as Python does; transformers 5 rejects an int where
 * its config class declares a float (e.g. T5's initializer_factor).
 */
const FLOAT_FIELDS = new Map<string, Set<string>>();

export function floatFields(modelType: string): ReadonlySet<string> {
  return FLOAT_FIELDS.get(modelType) ?? new Set();
}

/**
 * Reads config.json fields for one model type, naming the type and the field in every error.
 * Fields absent from the JSON take transformers' default for that config class.
 */
export class ConfigReader {
  constructor(
    readonly modelType: string,
    readonly raw: RawConfig,
  ) {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${modelType} config: expected a JSON object, got ${Array.isArray(raw) ? "an array" : typeof raw}`);
  }

  private fail(key: string, want: string): never {
    throw new Error(`${this.modelType} config: "${key}" must be ${want}, got ${JSON.stringify(this.raw[key])}`);
  }

  private get(key: string, aliases: string[]): unknown {
    if (this.raw[key] !== undefined) return this.raw[key];
    for (const a of aliases) if (this.raw[a] !== undefined) return this.raw[a];
    return undefined;
  }

  /** A positive (or >= min) integer. */
  int(key: string, def: number | undefined, opts: { min?: number; aliases?: string[] } = {}): number {
    const v = this.get(key, opts.aliases ?? []) ?? def;
    const min = opts.min ?? 1;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) this.fail(key, `an integer >= ${min}`);
    return v;
  }

  intOrNull(key: string, def: number | null): number | null {
    const v = this.raw[key] === undefined ? def : this.raw[key];
    if (v === null) return null;
    if (typeof v !== "number" || !Number.isInteger(v)) this.fail(key, "an integer or null");
    return v;
  }

  /** Token ids: an integer, a list of integers (eos) or null. */
  tokenId(key: string, def: number | number[] | null): number | number[] | null {
    const v = this.raw[key] === undefined ? def : this.raw[key];
    if (v === null || (typeof v === "number" && Number.isInteger(v))) return v;
    if (Array.isArray(v) && v.every((x) => Number.isInteger(x))) return v as number[];
    this.fail(key, "an integer, a list of integers or null");
  }

  number(key: string, def: number, opts: { min?: number; max?: number } = {}): number {
    let floats = FLOAT_FIELDS.get(this.modelType);
    if (!floats) FLOAT_FIELDS.set(this.modelType, (floats = new Set()));
    floats.add(key);
    const v = this.raw[key] ?? def;
    if (typeof v !== "number" || !Number.isFinite(v) || v < (opts.min ?? -Infinity) || v > (opts.max ?? Infinity)) {
      this.fail(key, `a number${opts.min !== undefined ? ` >= ${opts.min}` : ""}${opts.max !== undefined ? ` <= ${opts.max}` : ""}`);
    }
    return v;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.raw[key] ?? def;
    if (typeof v !== "boolean") this.fail(key, "true or false");
    return v;
  }

  string(key: string, def: string, allowed?: readonly string[]): string {
    const v = this.raw[key] ?? def;
    if (typeof v !== "string") this.fail(key, "a string");
    if (allowed && !allowed.includes(v)) {
      throw new Error(`${this.modelType} config: "${key}" = "${v}" is not supported by tslm (supported: ${allowed.join(", ")})`);
    }
    return v;
  }

  /** Errors when a field that would change the math is set to a value tslm does not implement. */
  unsupported(key: string, ok: (v: unknown) => boolean, why: string): void {
    const v = this.raw[key];
    if (v !== undefined && !ok(v)) throw new Error(`${this.modelType} config: "${key}" = ${JSON.stringify(v)} is not supported by tslm (${why})`);
  }
}

// ---------------------------------------------------------------------------------------------
// The causal-LM contract

export interface CausalLMInput {
  /** Token ids, int32 [B, T]. */
  inputIds: Tensor;
  /** 1 for real tokens, 0 for padding, int32 [B, S] with S = cached + T positions. */
  attentionMask?: Tensor | null;
  /** int32 [B or 1, T]; default past + [0, T). */
  positionIds?: Tensor | null;
  /** int32 [B, T]; the loss predicts labels[:, t + 1] from position t; -100 is ignored. */
  labels?: Tensor | null;
  /** Keys and values of earlier positions; appended to in place and returned. */
  cache?: DynamicCache | null;
  /** Create a cache when none is passed (default false). */
  useCache?: boolean;
  /**
   * Compute logits for the last k positions only (transformers' logits_to_keep; 0 = all). Decoding
   * needs just the last one, which skips most of the [T, C] x [C, V] head GEMM of a prefill.
   * Not allowed together with labels (the loss needs every position).
   */
  logitsToKeep?: number;
  /**
   * Return the loss only (needs labels; not a transformers argument). The [B, T, V] logits are
   * then never materialised: the loss and its gradients come from the fused, row-chunked
   * linearCrossEntropy, which saves the logits' memory (2 x B T V floats with their gradient) and
   * the passes over it. The output has no logits. tslm's trainer sets it.
   */
  lossOnly?: boolean;
}

/** What forward returns with lossOnly: the loss, no logits. */
export interface CausalLMLossOutput {
  logits?: undefined;
  loss: Tensor;
  cache?: DynamicCache;
}

export interface CausalLMOutput {
  /** [B, T, V] */
  logits: Tensor;
  /** The mean cross-entropy over non-ignored shifted labels, 0-d. */
  loss?: Tensor;
  cache?: DynamicCache;
}

/** Checks input shapes shared by causal LMs; returns [B, T, past]. */
export function checkCausalInput(model: string, input: CausalLMInput, past: number): [number, number] {
  const ids = input.inputIds;
  if (!(ids instanceof Tensor) || ids.dtype !== "int32" || ids.ndim !== 2) {
    throw new Error(`${model}.forward: inputIds must be an int32 tensor [B, T], got ${ids instanceof Tensor ? `${ids.dtype} ${formatShape(ids.shape)}` : typeof ids}`);
  }
  const [B, T] = ids.shape;
  const m = input.attentionMask;
  if (m && (m.ndim !== 2 || m.shape[0] !== B || m.shape[1] !== past + T)) {
    throw new Error(`${model}.forward: attentionMask must be [B, cached + T] = [${B}, ${past + T}], got ${formatShape(m.shape)}`);
  }
  const l = input.labels;
  if (l && (l.dtype !== "int32" || l.ndim !== 2 || l.shape[0] !== B || l.shape[1] !== T)) {
    throw new Error(`${model}.forward: labels must be int32 [B, T] = [${B}, ${T}], got ${l.dtype} ${formatShape(l.shape)}`);
  }
  const p = input.positionIds;
  if (p && (p.dtype !== "int32" || p.ndim !== 2 || (p.shape[0] !== B && p.shape[0] !== 1) || p.shape[1] !== T)) {
    throw new Error(`${model}.forward: positionIds must be int32 [B or 1, T] = [${B}, ${T}], got ${p.dtype} ${formatShape(p.shape)}`);
  }
  const k = input.logitsToKeep ?? 0;
  if (!Number.isInteger(k) || k < 0 || k > T) throw new Error(`${model}.forward: logitsToKeep must be an integer in [0, T = ${T}], got ${k}`);
  if (k && l) throw new Error(`${model}.forward: logitsToKeep cannot be combined with labels (the loss needs logits at every position)`);
  return [B, T];
}

/** The hidden states whose logits are wanted: all (k = 0) or the last k positions. (B, T, C) -> (B, k, C) */
export function keepLast(h: Tensor, k: number | undefined): Tensor {
  const T = h.shape[1];
  return k ? narrow(h, 1, T - k, k) : h;
}

/** past + [0, T) as int32 [1, T] (transformers' default position_ids). */
export function defaultPositions(past: number, T: number): Tensor {
  return arange(past, past + T).reshape([1, T]);
}

/**
 * transformers' ForCausalLMLoss: logits at t predict labels at t + 1; labels equal to -100 are
 * ignored; the mean is over the remaining targets. Like transformers, the labels are shifted
 * (padded with -100 at the end) rather than the logits sliced, so the [B, T, V] logits are used
 * in place: no copy of them forward and no scatter of their gradient backward.
 */
export function causalLMLoss(logits: Tensor, labels: Tensor): Tensor {
  return crossEntropy(logits, shiftLabels(labels), { ignoreIndex: -100 });
}

/** labels[:, 1:] followed by -100: the target of each position. (B, T) -> (B, T) */
function shiftLabels(labels: Tensor): Tensor {
  const [B, T] = labels.shape;
  const src = labels.toTypedArray();
  const shifted = new Int32Array(B * T).fill(-100);
  for (let b = 0; b < B; b++) shifted.set(src.subarray(b * T + 1, (b + 1) * T), b * T);
  return new Tensor(shifted, [B, T]);
}

/**
 * The language-model head and loss of a causal LM from its final hidden states h [B, T, C] and
 * head weight [V, C]: logits (of the last logitsToKeep positions, or all) and, with labels, the
 * shifted loss; with lossOnly, the loss alone through the fused linearCrossEntropy (same value and
 * gradients as causalLMLoss on the logits, up to float rounding).
 */
export function causalLMHead(h: Tensor, weight: Tensor, input: CausalLMInput): CausalLMOutput | CausalLMLossOutput {
  if (input.lossOnly && !input.labels) throw new Error("causal LM forward: lossOnly needs labels (it returns the loss only)");
  if (input.lossOnly && input.labels) return { loss: linearCrossEntropy(h, weight, shiftLabels(input.labels), { ignoreIndex: -100 }) };
  const logits = linear(keepLast(h, input.logitsToKeep), weight); // (B, T or logitsToKeep, V)
  const out: CausalLMOutput = { logits };
  if (input.labels) out.loss = causalLMLoss(logits, input.labels);
  return out;
}
