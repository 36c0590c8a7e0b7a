// config.json and generation_config.json of a Hugging Face model directory.
//
// Contract:
//   - readConfig(pathOrDir) returns the parsed object with Hugging Face field names untouched
//     (DESIGN.md: model configs mirror config.json). The models layer validates fields per
//     model_type; here we only check that the file exists, is JSON (errors give file, line, column,
//     offset) and holds an object.
//   - writeConfig / writeGenerationConfig write atomically in transformers' format
//     (`json.dumps(d, indent=2, sort_keys=True) + "\n"`, see json.ts), so a directory written by
//     tslm diffs cleanly against one written by Python.
import { statSync } from "node:fs";
import { join } from "node:path";
import { atomicWriteJSON } from "./atomic.js";
import { readJSONFile } from "./json.js";

export const CONFIG_NAME = "config.json";
export const GENERATION_CONFIG_NAME = "generation_config.json";

/** A config.json object: Hugging Face field names, values as in the file. */
export type ConfigDict = Record<string, unknown>;

function resolve(pathOrDir: string, fileName: string): string {
  try {
    if (statSync(pathOrDir).isDirectory()) return join(pathOrDir, fileName);
  } catch {
    // Not there: report below with the path as given.
  }
  return pathOrDir;
}

/** Reads a JSON file that must contain an object. */
export function readJSONObject(path: string): ConfigDict {
  const v = readJSONFile(path);
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new Error(`${path}: expected a JSON object, got ${v === null ? "null" : Array.isArray(v) ? "an array" : typeof v}`);
  }
  return v as ConfigDict;
}

/** Reads `config.json` (a directory or the file itself). */
export function readConfig(pathOrDir: string): ConfigDict {
  return readJSONObject(resolve(pathOrDir, CONFIG_NAME));
}

/** Writes `config.json` atomically in transformers' format (a directory or the file path). */
export function writeConfig(pathOrDir: string, config: ConfigDict, opts: { floatKeys?: ReadonlySet<string> } = {}): void {
  atomicWriteJSON(resolve(pathOrDir, CONFIG_NAME), config, { floatKeys: opts.floatKeys });
}

/** Reads `generation_config.json` (a directory or the file itself). */
export function readGenerationConfig(pathOrDir: string): ConfigDict {
  return readJSONObject(resolve(pathOrDir, GENERATION_CONFIG_NAME));
}

/** Writes `generation_config.json` atomically in transformers' format. */
export function writeGenerationConfig(pathOrDir: string, config: ConfigDict): void {
  atomicWriteJSON(resolve(pathOrDir, GENERATION_CONFIG_NAME), config);
}
