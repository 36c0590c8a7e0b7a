// Padding id sequences into a rectangle: the shared step of every collator.
//
// Glossary: B sequences in the batch, T padded length.
// T is the longest sequence ("longest", Hugging Face's default for collators) or `maxLength`
// ("max_length"; a longer sequence is an error: collators do not truncate silently), then rounded
// up to a multiple of `padToMultipleOf`. attention_mask is 1 on real tokens, 0 on padding.
import { tensor } from "../../tensor/create.js";
import type { Tensor } from "../../tensor/tensor.js";

export type PaddingSide = "left" | "right";

export interface PaddingOptions {
  /** Which side receives the padding (default "right"). */
  paddingSide?: PaddingSide;
  /** "longest" (default) or "max_length" (needs maxLength). */
  padding?: "longest" | "max_length";
  maxLength?: number;
  padToMultipleOf?: number;
}

export const PADDING_OPTION_KEYS = ["paddingSide", "padding", "maxLength", "padToMultipleOf"] as const;

export interface Padded {
  /** (B, T) row-major. */
  data: Int32Array;
  /** (B, T) 1 = real token. */
  mask: Int32Array;
  B: number;
  T: number;
  /** Where row b's real tokens start (0 for right padding). */
  starts: number[];
}

/** The padded length for sequences of these lengths. */
export function paddedLength(lengths: number[], opts: PaddingOptions, what: string): number {
  const longest = lengths.reduce((m, l) => Math.max(m, l), 0);
  let T = longest;
  if (opts.padding === "max_length") {
    if (!(Number.isInteger(opts.maxLength) && opts.maxLength! >= 1)) throw new Error(`${what}: padding "max_length" needs a positive integer maxLength`);
    if (longest > opts.maxLength!) throw new Error(`${what}: a sequence has ${longest} tokens, more than maxLength ${opts.maxLength}`);
    T = opts.maxLength!;
  } else if (opts.padding !== undefined && opts.padding !== "longest") throw new Error(`${what}: padding must be "longest" or "max_length", got ${JSON.stringify(opts.padding)}`);
  const m = opts.padToMultipleOf;
  if (m !== undefined) {
    if (!(Number.isInteger(m) && m >= 1)) throw new Error(`${what}: padToMultipleOf must be a positive integer, got ${m}`);
    T = Math.ceil(T / m) * m;
  }
  return T;
}

/** Pads `seqs` with `value` to a common length. */
export function padSequences(seqs: ReadonlyArray<ArrayLike<number>>, value: number, opts: PaddingOptions, what: string): Padded {
  if (seqs.length === 0) throw new Error(`${what}: empty batch`);
  const side = opts.paddingSide ?? "right";
  if (side !== "left" && side !== "right") throw new Error(`${what}: paddingSide must be "left" or "right", got ${JSON.stringify(side)}`);
  const B = seqs.length;
  const T = paddedLength(seqs.map((s) => s.length), opts, what);
  const data = new Int32Array(B * T).fill(value);
  const mask = new Int32Array(B * T);
  const starts: number[] = [];
  for (let b = 0; b < B; b++) {
    const s = seqs[b]!;
    const start = side === "left" ? T - s.length : 0;
    starts.push(start);
    for (let i = 0; i < s.length; i++) {
      data[b * T + start + i] = s[i]!;
      mask[b * T + start + i] = 1;
    }
  }
  return { data, mask, B, T, starts };
}

export function int2d(data: Int32Array, B: number, T: number): Tensor {
  return tensor(data, [B, T], { dtype: "int32" });
}

export function checkKeys(opts: object, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(opts)) if (!allowed.includes(k)) throw new Error(`${what}: unknown option "${k}"`);
}

export function checkId(v: unknown, name: string, what: string): number {
  if (!(typeof v === "number" && Number.isInteger(v) && v >= 0)) throw new Error(`${what}: ${name} must be a non-negative integer id, got ${String(v)}`);
  return v;
}

export function checkProb(v: number, name: string, what: string): number {
  if (!(typeof v === "number" && v >= 0 && v <= 1)) throw new Error(`${what}: ${name} must be in [0, 1], got ${v}`);
  return v;
}
