// Test helpers: kernel-set selection and closeness assertions that name what failed.
import { readFileSync } from "node:fs";
import type { Readable } from "node:stream";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tensor } from "../src/tensor/tensor.js";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The kernel sets every numeric test runs on. Native must load: CI builds it. */
export const KERNEL_SETS = ["ref", "native"] as const;

/** Calls fn with each complete line of a child's output, parsed as JSON (`tslm ... --json` events). */
export function onJsonLines(stream: Readable, fn: (event: Record<string, unknown>) => void): void {
  let buf = "";
  stream.on("data", (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split("\n");
    buf = lines.pop()!;
    for (const line of lines) if (line.trim()) fn(JSON.parse(line) as Record<string, unknown>);
  });
}

export function readJSON<T = unknown>(relPath: string): T {
  return JSON.parse(readFileSync(join(repoRoot, relPath), "utf8")) as T;
}

/** Parses fixture floats ("inf", "-inf", "nan" as strings) into a Float32Array. */
export function fixtureF32(data: (number | string | boolean)[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    out[i] = v === "inf" ? Infinity : v === "-inf" ? -Infinity : v === "nan" ? NaN : Number(v);
  }
  return out;
}

export interface CloseOptions {
  atol: number;
  rtol: number;
}

/**
 * Asserts |actual - expected| <= atol + rtol * |expected| elementwise (NaN matches NaN, infinities
 * must match exactly); the error names the quantity, the max difference and the first mismatches.
 */
export function assertClose(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: CloseOptions): void {
  if (actual.length !== expected.length) throw new Error(`${name}: length ${actual.length} != expected ${expected.length}`);
  let maxDiff = 0;
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    let ok: boolean;
    if (Number.isNaN(e)) ok = Number.isNaN(a);
    else if (!Number.isFinite(e)) ok = a === e;
    else {
      const d = Math.abs(a - e);
      if (d > maxDiff || Number.isNaN(d)) maxDiff = Number.isNaN(d) ? Infinity : d;
      ok = d <= tol.atol + tol.rtol * Math.abs(e);
    }
    if (!ok && bad.length < 5) bad.push(`[${i}] got ${a}, expected ${e}`);
    else if (!ok) bad.push("");
  }
  if (bad.length) {
    throw new Error(`${name}: ${bad.length} of ${expected.length} elements differ (max |diff| ${maxDiff.toExponential(3)}, atol ${tol.atol}, rtol ${tol.rtol}): ${bad.filter(Boolean).join("; ")}`);
  }
}

export function assertTensorClose(name: string, actual: Tensor, expectedShape: readonly number[], expected: ArrayLike<number>, tol: CloseOptions): void {
  if (actual.shape.length !== expectedShape.length || actual.shape.some((d, i) => d !== expectedShape[i])) {
    throw new Error(`${name}: shape [${actual.shape.join(", ")}] != expected [${expectedShape.join(", ")}]`);
  }
  assertClose(name, actual.toTypedArray(), expected, tol);
}
