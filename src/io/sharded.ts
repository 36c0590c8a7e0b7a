// Model weight files in a Hugging Face directory: one `model.safetensors`, or shards listed by
// `model.safetensors.index.json`.
//
// Contract:
//   - openCheckpoint(dirOrFile) gives one lazy view over either layout (keys, info, read, close),
//     so a model loader can copy tensors one at a time without holding the whole checkpoint twice.
//     Like transformers (`_get_resolved_checkpoint_files`), `model.safetensors` wins when both exist.
//   - The index is {"metadata": {"total_size": ...}, "weight_map": {key: shard file}}. It is
//     checked strictly: shard names must be plain file names in the same directory; every listed
//     key must be in its shard with the index's name, and a shard must not hold keys the index does
//     not list (a mismatch means the directory is a mix of two saves). Errors name the index file,
//     the key and the shard.
//   - saveCheckpoint(dir, tensors, { maxShardSize }) splits like huggingface_hub's
//     `split_state_dict_into_shards_factory` (used by transformers' save_pretrained): tensors in the
//     given order; one bigger than the limit gets a shard of its own; otherwise a shard is closed when
//     the next tensor would tip it over. One shard -> `model.safetensors` and no index; several ->
//     `model-00001-of-0000N.safetensors` + the index, written as transformers writes it
//     (`json.dumps(index, indent=2, sort_keys=True) + "\n"`, metadata total_parameters + total_size).
//   - Writing is atomic per file and ordered for crash safety: every shard is written under a
//     temporary name first, then all are renamed, then the index is written (atomically) last;
//     finally weight files of an earlier save that the new one does not use are removed, so a
//     directory never mixes two saves once the call returns.
import { existsSync, readdirSync, renameSync, statSync, unlinkSync } from "node:fs";
import { basename, join } from "node:path";
import { Tensor, formatShape } from "../tensor/tensor.js";
import { atomicWriteJSON, tempPathFor } from "./atomic.js";
import { readJSONFile } from "./json.js";
import { openSafetensors, saveSafetensors, storedSize, tensorEntries, type SafetensorsFile, type SaveSafetensorsOptions, type TensorInfo, type TensorMap } from "./safetensors.js";

export const SAFE_WEIGHTS_NAME = "model.safetensors";
export const SAFE_WEIGHTS_INDEX_NAME = "model.safetensors.index.json";
/** huggingface_hub's default max shard size (5 GB, decimal). */
export const DEFAULT_MAX_SHARD_SIZE = 5_000_000_000;

/** A read-only, lazy view of a checkpoint's tensors, whatever its layout. */
export interface TensorSource {
  /** What was opened (a file, or the index file for sharded checkpoints). */
  readonly path: string;
  readonly keys: readonly string[];
  has(key: string): boolean;
  /** dtype, shape and byte range; `file` says which shard holds the key. */
  info(key: string): TensorInfo & { file: string };
  read(key: string): Tensor;
  close(): void;
}

export interface ShardIndex {
  metadata: Record<string, unknown>;
  weight_map: Record<string, string>;
}

/** Reads and checks a `model.safetensors.index.json`. */
export function readShardIndex(indexPath: string): ShardIndex {
  const raw = readJSONFile(indexPath);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${indexPath}: the index must be a JSON object`);
  const idx = raw as Record<string, unknown>;
  const wm = idx.weight_map;
  if (wm === null || typeof wm !== "object" || Array.isArray(wm)) throw new Error(`${indexPath}: "weight_map" must be an object {key: shard file name}`);
  for (const [k, f] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof f !== "string" || f.length === 0) throw new Error(`${indexPath}: weight_map["${k}"] must be a file name, got ${JSON.stringify(f)}`);
    // Shards live beside the index; a path would let a downloaded index read arbitrary files.
    if (f !== basename(f) || f === "." || f === ".." || f.includes("\\")) throw new Error(`${indexPath}: weight_map["${k}"] = "${f}" must be a plain file name in the same directory`);
  }
  const md = idx.metadata ?? {};
  if (md === null || typeof md !== "object" || Array.isArray(md)) throw new Error(`${indexPath}: "metadata" must be an object`);
  return { metadata: md as Record<string, unknown>, weight_map: wm as Record<string, string> };
}

function singleFileSource(f: SafetensorsFile): TensorSource {
  return {
    path: f.path,
    keys: f.keys,
    has: (k) => f.has(k),
    info: (k) => ({ ...f.info(k), file: f.path }),
    read: (k) => f.read(k),
    close: () => f.close(),
  };
}

/** Opens a sharded checkpoint through its index; every shard's header is validated up front. */
export function openShardedCheckpoint(indexPath: string): TensorSource {
  const index = readShardIndex(indexPath);
  const dir = join(indexPath, "..");
  const shardNames = [...new Set(Object.values(index.weight_map))];
  const shards = new Map<string, SafetensorsFile>();
  const closeAll = (): void => {
    for (const s of shards.values()) s.close();
  };
  try {
    for (const name of shardNames) {
      const p = join(dir, name);
      if (!existsSync(p)) throw new Error(`${indexPath}: shard "${name}" (listed for ${Object.keys(index.weight_map).filter((k) => index.weight_map[k] === name).length} tensors) does not exist in ${dir}`);
      shards.set(name, openSafetensors(p));
    }
    for (const [key, name] of Object.entries(index.weight_map)) {
      if (!shards.get(name)!.has(key)) throw new Error(`${indexPath}: tensor "${key}" is mapped to shard "${name}", which does not contain it`);
    }
    for (const [name, s] of shards) {
      for (const key of s.keys) {
        if (index.weight_map[key] !== name) {
          throw new Error(`${indexPath}: shard "${name}" holds tensor "${key}", which the index ${key in index.weight_map ? `maps to "${index.weight_map[key]}"` : "does not list"}`);
        }
      }
    }
    const total = index.metadata.total_size;
    if (typeof total === "number") {
      // transformers does not check total_size; a mismatch only warns about a stale index.
      let sum = 0;
      for (const s of shards.values()) for (const k of s.keys) sum += s.info(k).byteRange[1] - s.info(k).byteRange[0];
      if (sum !== total) process.emitWarning(`${indexPath}: metadata.total_size is ${total} but the shards hold ${sum} bytes of tensor data`);
    }
  } catch (e) {
    closeAll();
    throw e;
  }
  const keys = Object.freeze(Object.keys(index.weight_map));
  const shardOf = (k: string): SafetensorsFile => {
    const name = index.weight_map[k];
    if (name === undefined) throw new Error(`${indexPath}: no tensor "${k}" in the checkpoint (${keys.length} tensors)`);
    return shards.get(name)!;
  };
  return {
    path: indexPath,
    keys,
    has: (k) => Object.prototype.hasOwnProperty.call(index.weight_map, k),
    info: (k) => {
      const s = shardOf(k);
      return { ...s.info(k), file: s.path };
    },
    read: (k) => shardOf(k).read(k),
    close: closeAll,
  };
}

/**
 * Opens the weights of a Hugging Face directory (or a .safetensors file, or an index file).
 * Errors list what was looked for.
 */
export function openCheckpoint(path: string): TensorSource {
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new Error(`${path}: no such file or directory`);
  }
  if (!isDir) return path.endsWith(".json") ? openShardedCheckpoint(path) : singleFileSource(openSafetensors(path));
  const single = join(path, SAFE_WEIGHTS_NAME);
  if (existsSync(single)) return singleFileSource(openSafetensors(single));
  const index = join(path, SAFE_WEIGHTS_INDEX_NAME);
  if (existsSync(index)) return openShardedCheckpoint(index);
  throw new Error(`${path}: no ${SAFE_WEIGHTS_NAME} or ${SAFE_WEIGHTS_INDEX_NAME} in this directory (PyTorch .bin checkpoints are not supported; convert them to safetensors)`);
}

/** Reads every tensor of a checkpoint (single file or sharded) into a Map. */
export function loadCheckpoint(path: string): Map<string, Tensor> {
  const src = openCheckpoint(path);
  try {
    const out = new Map<string, Tensor>();
    for (const k of src.keys) out.set(k, src.read(k));
    return out;
  } finally {
    src.close();
  }
}

/** huggingface_hub's `parse_size_to_int`: "5GB" = 5e9, "5GiB" = 5 * 2^30, or a byte count. */
export function parseSize(size: number | string): number {
  if (typeof size === "number") {
    if (!Number.isSafeInteger(size) || size <= 0) throw new Error(`max shard size must be a positive integer number of bytes, got ${size}`);
    return size;
  }
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B)?\s*$/i.exec(size);
  if (!m) throw new Error(`max shard size "${size}" is not a size like "5GB", "500MB", "2GiB" or a byte count`);
  const units: Record<string, number> = { KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 2 ** 10, MIB: 2 ** 20, GIB: 2 ** 30, TIB: 2 ** 40 };
  const n = Math.floor(Number(m[1]) * (m[2] ? units[m[2].toUpperCase()] : 1));
  if (n <= 0) throw new Error(`max shard size "${size}" must be positive`);
  return n;
}

/** The shard plan for tensors of the given stored sizes (huggingface_hub's algorithm). */
export function planShards(entries: [string, number][], maxShardSize: number): string[][] {
  const shards: string[][] = [];
  let current: string[] = [];
  let currentSize = 0;
  for (const [key, size] of entries) {
    if (size > maxShardSize) {
      shards.push([key]);
      continue;
    }
    if (currentSize + size > maxShardSize) {
      shards.push(current);
      current = [];
      currentSize = 0;
    }
    current.push(key);
    currentSize += size;
  }
  if (current.length > 0) shards.push(current);
  return shards;
}

export interface SaveCheckpointOptions extends SaveSafetensorsOptions {
  /** Bytes per shard (number) or a size string ("5GB", "500MiB"); default 5 GB like HF. */
  maxShardSize?: number | string;
  /** Metadata written into every safetensors file (default {"format": "pt"}, which transformers expects). */
  metadata?: Record<string, string>;
}

export interface SavedCheckpoint {
  /** Weight files written, in shard order. */
  files: string[];
  /** The index written, or null for a single file. */
  index: ShardIndex | null;
}

/** Matches every weight file name a save of ours (or of transformers) may have left. */
const WEIGHT_FILE = /^model(-\d{5}-of-\d{5})?\.safetensors$/;

/** Writes model weights into `dir` as one file or HF-named shards plus index; see the contract. */
export function saveCheckpoint(dir: string, tensors: TensorMap, opts: SaveCheckpointOptions = {}): SavedCheckpoint {
  const pairs = tensorEntries(tensors, `saveCheckpoint ${dir}`);
  const metadata = opts.metadata ?? { format: "pt" };
  const max = parseSize(opts.maxShardSize ?? DEFAULT_MAX_SHARD_SIZE);
  const sizes = pairs.map(([k, t]): [string, number] => [k, storedSize(t, opts)]);
  const plan = planShards(sizes, max);
  const byKey = new Map(pairs);
  if (plan.length <= 1) {
    saveSafetensors(join(dir, SAFE_WEIGHTS_NAME), byKey, metadata, opts);
    removeStale(dir, new Set([SAFE_WEIGHTS_NAME]), true);
    return { files: [SAFE_WEIGHTS_NAME], index: null };
  }
  const n = plan.length;
  const names = plan.map((_, i) => `model-${String(i + 1).padStart(5, "0")}-of-${String(n).padStart(5, "0")}.safetensors`);
  // Phase 1: every shard complete on disk under a temporary name. A failure removes them all.
  const temps: string[] = [];
  try {
    plan.forEach((keys, i) => {
      const tmp = tempPathFor(join(dir, names[i]));
      // saveSafetensors is itself atomic: write to `tmp` through it, leaving no partial file.
      saveSafetensors(tmp, keys.map((k): [string, Tensor] => [k, byKey.get(k)!]), metadata, opts);
      temps.push(tmp);
    });
  } catch (e) {
    for (const t of temps) {
      try {
        unlinkSync(t);
      } catch {
        // Best effort: the error below matters more.
      }
    }
    throw e;
  }
  // Phase 2: renames (each atomic), then the index last, so a reader that trusts the index only
  // ever finds shards that are complete.
  temps.forEach((t, i) => renameSync(t, join(dir, names[i])));
  const weightMap: Record<string, string> = {};
  plan.forEach((keys, i) => keys.forEach((k) => (weightMap[k] = names[i])));
  let totalParams = 0;
  for (const [, t] of pairs) totalParams += t.size;
  const index: ShardIndex = {
    metadata: { total_parameters: totalParams, total_size: sizes.reduce((a, [, s]) => a + s, 0) },
    weight_map: weightMap,
  };
  atomicWriteJSON(join(dir, SAFE_WEIGHTS_INDEX_NAME), index);
  removeStale(dir, new Set(names), false);
  return { files: names, index };
}

/** Removes weight files (and, for a single-file save, the index) that the latest save did not write. */
function removeStale(dir: string, keep: Set<string>, removeIndex: boolean): void {
  for (const name of readdirSync(dir)) {
    if ((WEIGHT_FILE.test(name) && !keep.has(name)) || (removeIndex && name === SAFE_WEIGHTS_INDEX_NAME)) unlinkSync(join(dir, name));
  }
}

/** Shape check helper for loaders: names the key and both shapes. */
export function checkShapeMatches(key: string, expected: readonly number[], got: readonly number[], source: string): void {
  if (expected.length !== got.length || expected.some((d, i) => d !== got[i])) {
    throw new Error(`${source}: tensor "${key}" has shape ${formatShape(got)}, the model expects ${formatShape(expected)}`);
  }
}
