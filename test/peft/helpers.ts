// Shared by the peft tests: loading a golden base model, max |a - b|.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadSafetensors } from "../../src/io/index.js";
import { loadModel } from "../../src/index.js";
import type { PeftBaseModel } from "../../src/peft/index.js";

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A base model from a Hugging Face directory (config.json + model.safetensors), in eval mode. */
export function loadBase(dir: string): PeftBaseModel {
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  return loadModel(config, loadSafetensors(join(dir, "model.safetensors")), { origin: dir }).eval() as PeftBaseModel;
}
