// Sharded checkpoints, config.json helpers and atomic writes: against files written by
// huggingface_hub / transformers (fixtures/io), and failure injection for atomicity.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  atomicWriteFile,
  atomicWriteJSON,
  loadCheckpoint,
  openCheckpoint,
  parseSize,
  readConfig,
  readGenerationConfig,
  saveCheckpoint,
  saveSafetensors,
  stringifyHF,
  writeConfig,
  writeGenerationConfig,
} from "../../src/io/index.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { readJSON, repoRoot } from "../helpers.js";

interface ExpectedTensor {
  shape: number[];
  bits: number[];
}
const expected = readJSON<{ files: Record<string, { tensors: Record<string, ExpectedTensor> }> }>("fixtures/io/expected.json");
const fx = (name: string): string => join(repoRoot, "fixtures/io", name);
const root = mkdtempSync(join(tmpdir(), "tslm-io-ckpt-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};

/** The sharded fixture's tensors, in the order Python saved them (order decides the split). */
function shardedTensors(): Map<string, Tensor> {
  const m = new Map<string, Tensor>();
  for (const [k, e] of Object.entries(expected.files.sharded.tensors)) m.set(k, new Tensor(new Float32Array(Uint32Array.from(e.bits).buffer), e.shape));
  return m;
}

/** A tensor whose storage throws when read: header planning succeeds, the data write fails. */
function failingTensor(): Tensor {
  const t = new Tensor(new Float32Array(4), [4]);
  Object.defineProperty(t, "data", {
    get() {
      throw new Error("injected failure while writing");
    },
  });
  return t;
}

describe("sharded checkpoints", () => {
  it("loads a checkpoint sharded by huggingface_hub", () => {
    const loaded = loadCheckpoint(fx("sharded"));
    const exp = shardedTensors();
    expect([...loaded.keys()].sort()).toEqual([...exp.keys()].sort());
    for (const [k, t] of exp) {
      expect([...loaded.get(k)!.shape], k).toEqual([...t.shape]);
      expect(Array.from(loaded.get(k)!.toTypedArray()), k).toEqual(Array.from(t.toTypedArray()));
    }
    const src = openCheckpoint(fx("sharded"));
    try {
      expect(src.info("lm_head.weight").file).toMatch(/model-00002-of-00002\.safetensors$/);
    } finally {
      src.close();
    }
  });

  it("splits like huggingface_hub, writes the shards byte-identically and the index like transformers", () => {
    const dir = freshDir();
    const res = saveCheckpoint(dir, shardedTensors(), { maxShardSize: 200 });
    expect(res.files).toEqual(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]);
    for (const f of res.files) expect(Buffer.compare(readFileSync(join(dir, f)), readFileSync(fx(`sharded/${f}`))), f).toBe(0);
    expect(readFileSync(join(dir, "model.safetensors.index.json"), "utf8")).toBe(readFileSync(fx("transformers_index.json"), "utf8"));
    expect(readdirSync(dir).sort()).toEqual([...res.files, "model.safetensors.index.json"]);
  });

  it("one shard means model.safetensors without an index; stale files of an earlier save are removed", () => {
    const dir = freshDir();
    saveCheckpoint(dir, shardedTensors(), { maxShardSize: 200 });
    const res = saveCheckpoint(dir, shardedTensors());
    expect(res).toEqual({ files: ["model.safetensors"], index: null });
    expect(readdirSync(dir)).toEqual(["model.safetensors"]);
    saveCheckpoint(dir, shardedTensors(), { maxShardSize: "0.1KB" });
    const files = readdirSync(dir).sort();
    expect(files).not.toContain("model.safetensors");
    expect(files[files.length - 1]).toBe("model.safetensors.index.json");
    // 100-byte shards: the 128-byte tensors get shards of their own, the 64-byte ones one each.
    expect(files.length).toBe(5);
    expect(loadCheckpoint(dir).size).toBe(4);
  });

  it("parses HF size strings", () => {
    expect(parseSize("5GB")).toBe(5e9);
    expect(parseSize("2GiB")).toBe(2 ** 31);
    expect(parseSize("500MB")).toBe(5e8);
    expect(parseSize(123)).toBe(123);
    expect(() => parseSize("5 parsecs")).toThrow(/not a size/);
  });

  it("refuses inconsistent indexes, naming the index, key and shard", () => {
    const make = (mutate: (index: { weight_map: Record<string, string> }) => void): string => {
      const dir = freshDir();
      cpSync(fx("sharded"), dir, { recursive: true });
      const p = join(dir, "model.safetensors.index.json");
      const index = JSON.parse(readFileSync(p, "utf8"));
      mutate(index);
      writeFileSync(p, JSON.stringify(index));
      return dir;
    };
    expect(() => openCheckpoint(make((i) => (i.weight_map["lm_head.weight"] = "model-00001-of-00002.safetensors")))).toThrow(
      /index\.json: tensor "lm_head\.weight" is mapped to shard "model-00001-of-00002\.safetensors", which does not contain it/,
    );
    expect(() => openCheckpoint(make((i) => delete i.weight_map["lm_head.weight"]))).toThrow(/shard "model-00002-of-00002\.safetensors" holds tensor "lm_head\.weight", which the index does not list/);
    expect(() => openCheckpoint(make((i) => (i.weight_map["x"] = "model-00009-of-00009.safetensors")))).toThrow(/shard "model-00009-of-00009\.safetensors" .* does not exist/);
    expect(() => openCheckpoint(make((i) => (i.weight_map["x"] = "../evil.safetensors")))).toThrow(/must be a plain file name/);
    const bad = freshDir();
    writeFileSync(join(bad, "model.safetensors.index.json"), '{"weight_map": {\n  "a": "x.safetensors",\n}}');
    expect(() => openCheckpoint(bad)).toThrow(/model\.safetensors\.index\.json: malformed JSON at line 3, column 1 \(offset \d+\): expected a string key/);
    expect(() => openCheckpoint(freshDir())).toThrow(/no model\.safetensors or model\.safetensors\.index\.json/);
  });

  it("a failing shard write leaves no shard, index or temporary file", () => {
    const dir = freshDir();
    const t = shardedTensors();
    t.set("model.layers.1.weight", failingTensor());
    expect(() => saveCheckpoint(dir, t, { maxShardSize: 100 })).toThrow(/injected failure/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("atomic writes", () => {
  it("a write that throws midway leaves no file at the target and no temporary files", () => {
    const dir = freshDir();
    const target = join(dir, "model.safetensors");
    const good = new Tensor(new Float32Array(1000).fill(1), [1000]);
    // "a" sorts first and is written; "b" throws after the header and a's bytes are on disk.
    expect(() => saveSafetensors(target, { a: good, b: failingTensor() })).toThrow(/injected failure/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a failed rewrite leaves the previous file intact", () => {
    const dir = freshDir();
    const target = join(dir, "model.safetensors");
    saveSafetensors(target, { a: new Tensor(new Float32Array([1, 2]), [2]) });
    const before = readFileSync(target);
    expect(() => saveSafetensors(target, { a: new Tensor(new Float32Array([3, 4]), [2]), b: failingTensor() })).toThrow(/injected/);
    expect(Buffer.compare(readFileSync(target), before)).toBe(0);
    expect(readdirSync(dir)).toEqual(["model.safetensors"]);
  });

  it("atomicWriteFile / atomicWriteJSON replace content and leave no temporaries", () => {
    const dir = freshDir();
    const p = join(dir, "x.txt");
    atomicWriteFile(p, "one");
    atomicWriteFile(p, new Uint8Array([116, 119, 111]));
    expect(readFileSync(p, "utf8")).toBe("two");
    atomicWriteJSON(join(dir, "o.json"), { b: 1, a: [1, 2] }, { style: "insertion" });
    expect(readFileSync(join(dir, "o.json"), "utf8")).toBe('{\n  "b": 1,\n  "a": [\n    1,\n    2\n  ]\n}\n');
    expect(() => atomicWriteJSON(join(dir, "nan.json"), { a: { b: NaN } })).toThrow(/a\.b is NaN/);
    expect(readdirSync(dir).sort()).toEqual(["o.json", "x.txt"]);
    expect(() => atomicWriteFile(join(dir, "missing", "x"), "y")).toThrow(/missing\/x: cannot create \(ENOENT: directory .*missing does not exist\)/);
  });
});

describe("config.json", () => {
  it("writes text identical to transformers' json.dumps(indent=2, sort_keys=True)", () => {
    const text = readFileSync(fx("config_transformers.json"), "utf8");
    expect(stringifyHF(JSON.parse(text))).toBe(text);
    const dir = freshDir();
    writeConfig(dir, JSON.parse(text));
    expect(readFileSync(join(dir, "config.json"), "utf8")).toBe(text);
    expect(readConfig(dir)).toEqual(JSON.parse(text));
  });

  it("generation_config.json round-trips", () => {
    const dir = freshDir();
    writeGenerationConfig(dir, { eos_token_id: 2, bos_token_id: 1, temperature: 0.7 });
    expect(readFileSync(join(dir, "generation_config.json"), "utf8")).toBe('{\n  "bos_token_id": 1,\n  "eos_token_id": 2,\n  "temperature": 0.7\n}\n');
    expect(readGenerationConfig(join(dir, "generation_config.json"))).toEqual({ eos_token_id: 2, bos_token_id: 1, temperature: 0.7 });
  });

  it("malformed config.json names the file, line, column and offset", () => {
    const dir = freshDir();
    writeFileSync(join(dir, "config.json"), '{\n  "model_type": "gpt2",\n  "n_embd": 64 64\n}\n');
    expect(() => readConfig(dir)).toThrow(/config\.json: malformed JSON at line 3, column 16 \(offset 41\): expected ',' or '\}' \(found "6"\)/);
    writeFileSync(join(dir, "config.json"), '{"a": "unterminated');
    expect(() => readConfig(dir)).toThrow(/line 1, column 20 \(offset 19\): unterminated string/);
    writeFileSync(join(dir, "config.json"), "[1]");
    expect(() => readConfig(dir)).toThrow(/config\.json: expected a JSON object, got an array/);
    expect(() => readConfig(join(dir, "nope"))).toThrow(/nope: cannot read \(ENOENT\)/);
    expect(existsSync(join(dir, "config.json"))).toBe(true);
  });
});
