// PEFT adapter files: adapter_config.json + adapter_model.safetensors in Hugging Face peft's layout
// (peft 0.21 save_pretrained / from_pretrained). src/peft holds the math and the in-memory adapter
// state; this file does the reading and writing, so that layers below io do no I/O (DESIGN.md).
//
//   savePeftModel(peft, dir)           every adapter: the default one in dir, others in dir/<name>/
//   loadPeftModel(base, dir, opts)     peft's PeftModel.from_pretrained
//   loadPeftAdapter(peft, dir, name)   peft's load_adapter
//   readAdapterConfig(dir)             the parsed adapter_config.json (unknown peft fields kept)
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parsePeftConfig, type PeftConfig } from "../peft/config.js";
import { ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME, PeftModel, type PeftBaseModel, type PeftOptions } from "../peft/model.js";
import { atomicWriteJSON } from "./atomic.js";
import { parseJSONText } from "./json.js";
import { loadSafetensors, saveSafetensors } from "./safetensors.js";

/** Parses <dir>/adapter_config.json (keeping unknown fields peft may add). */
export function readAdapterConfig(dir: string): PeftConfig {
  const path = join(dir, ADAPTER_CONFIG_NAME);
  if (!existsSync(path)) throw new Error(`peft: ${dir} has no ${ADAPTER_CONFIG_NAME}`);
  let raw: unknown;
  try {
    raw = parseJSONText(readFileSync(path, "utf8"), path);
  } catch (e) {
    throw new Error(`peft: cannot read ${path}: ${(e as Error).message}`);
  }
  return parsePeftConfig(raw as Record<string, unknown>, { fromFile: true });
}

function readAdapterTensors(dir: string) {
  const file = join(dir, ADAPTER_WEIGHTS_NAME);
  if (!existsSync(file)) throw new Error(`peft: ${dir} has no ${ADAPTER_WEIGHTS_NAME}`);
  return loadSafetensors(file);
}

/** Writes every adapter of `peft` (or those named) as peft's save_pretrained does. */
export function savePeftModel(peft: PeftModel, dir: string, opts: { adapters?: string[] } = {}): void {
  for (const name of opts.adapters ?? peft.adapterNames()) {
    const d = name === "default" ? dir : join(dir, name);
    mkdirSync(d, { recursive: true });
    const { config, tensors } = peft.adapterFiles(name);
    atomicWriteJSON(join(d, ADAPTER_CONFIG_NAME), config);
    saveSafetensors(join(d, ADAPTER_WEIGHTS_NAME), tensors, { format: "pt" });
  }
}

/**
 * `base` with the adapter saved in `dir` (peft's PeftModel.from_pretrained). With `isTrainable` the
 * adapter's parameters require grad, otherwise the model is in eval mode.
 */
export function loadPeftModel(base: PeftBaseModel, dir: string, opts: PeftOptions & { isTrainable?: boolean } = {}): PeftModel {
  return PeftModel.fromAdapter(base, readAdapterConfig(dir), readAdapterTensors(dir), { ...opts, origin: dir });
}

/** Adds the adapter saved in `dir` to `peft` under `name` (peft's load_adapter). */
export function loadPeftAdapter(peft: PeftModel, dir: string, name: string, opts: PeftOptions & { isTrainable?: boolean } = {}): void {
  peft.loadAdapterTensors(name, readAdapterConfig(dir), readAdapterTensors(dir), { ...opts, origin: dir });
}
