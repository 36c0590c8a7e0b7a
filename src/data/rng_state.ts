// Generator states in JSON form. Generator.getState() holds NaN for "no cached normal sample", and
// NaN is not JSON (JSON.stringify writes null, strict writers throw): states saved with checkpoints
// use null there and come back as NaN.
import type { Generator } from "../tensor/rng.js";

export type GeneratorStateJSON = Array<number | null>;

export function saveGeneratorState(g: Generator): GeneratorStateJSON {
  return g.getState().map((x) => (Number.isNaN(x) ? null : x));
}

export function loadGeneratorState(g: Generator, s: GeneratorStateJSON, what: string): void {
  if (!Array.isArray(s) || s.some((x) => x !== null && typeof x !== "number")) throw new Error(`${what}: the saved generator state must be an array of numbers (and null)`);
  g.setState(s.map((x) => (x === null ? NaN : x)));
}
