// `tslm finetune` / `tslm classify` / `tslm eval --data` end to end on a tiny GPT-2 and the committed
// synthetic sentiment set (fixtures/finetune/sentiment_tiny.jsonl): full fine-tuning reaches clearly
// above-chance accuracy; the output classifies texts; LoRA trains only the adapter and the head and
// writes peft files plus a merged model; bad input fails before the first step, naming the problem.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers.js";
import { SENTIMENT, sentimentTexts, tinyGpt2Dir } from "../finetune/helpers.js";

const cli = join(repoRoot, "test", "e2e", "run_cli.mjs");
function tslm(...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { cwd: repoRoot, encoding: "utf8", env: { ...process.env } });
}

describe("tslm finetune --task classify", () => {
  const tmp = mkdtempSync(join(tmpdir(), "tslm-ft-e2e-"));
  const { dir: model } = tinyGpt2Dir(join(tmp, "model"), sentimentTexts());
  const common = ["--task", "classify", "--model", model, "--data", SENTIMENT, "--validation", "80", "--batch-size", "16", "--seed", "1", "--no-progress"];

  it("full fine-tuning: a run directory, final/ and clearly above-chance accuracy; tslm classify and tslm eval read final/", () => {
    const out = join(tmp, "full");
    const r = tslm("finetune", ...common, "--steps", "100", "--lr", "3e-3", "--out", out, "--json");
    expect(r.status, r.stderr).toBe(0);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({ event: "start", method: "full", labels: ["neg", "pos"] });
    const done = events.at(-1);
    expect(done.event).toBe("done");
    console.log(`full fine-tuning: validation accuracy ${done.results.validation.accuracy}`);
    expect(done.results.validation.accuracy).toBeGreaterThan(0.75);
    for (const f of ["train_config.json", "log.jsonl", "loss.svg", "latest", "eval_results.json", "final/config.json", "final/model.safetensors", "final/tokenizer.json"]) expect(existsSync(join(out, f)), f).toBe(true);
    const cfg = JSON.parse(readFileSync(join(out, "final", "config.json"), "utf8"));
    expect(cfg).toMatchObject({ architectures: ["GPT2ForSequenceClassification"], id2label: { "0": "neg", "1": "pos" }, label2id: { neg: 0, pos: 1 } });

    const c = tslm("classify", "--model", join(out, "final"), "--json", "the movie was wonderful and the cast felt superb", "the story was awful and the ending felt tedious");
    expect(c.status, c.stderr).toBe(0);
    const rows = JSON.parse(c.stdout);
    expect(rows.map((x: { label: string }) => x.label)).toEqual(["pos", "neg"]);
    expect(rows[0].probabilities.pos + rows[0].probabilities.neg).toBeCloseTo(1, 5);
    const plain = tslm("classify", "--model", join(out, "final"), "the music was charming");
    expect(plain.stdout).toMatch(/^(pos|neg)\t\(neg 0\.\d{3}  pos 0\.\d{3}\)\n$/);

    const e = tslm("eval", "--model", join(out, "final"), "--data", SENTIMENT, "--task", "classify", "--json");
    expect(e.status, e.stderr).toBe(0);
    const ev = JSON.parse(e.stdout);
    expect(ev.n).toBe(320);
    expect(ev.accuracy).toBeGreaterThan(0.75);
    expect(ev.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(320);
  });

  it("LoRA: only the adapter and the head train; final/ holds peft files, merged/ a plain model", () => {
    const out = join(tmp, "lora");
    const r = tslm("finetune", ...common, "--steps", "20", "--lora", "r=4,alpha=8,targets=c_attn", "--out", out, "--json");
    expect(r.status, r.stderr).toBe(0);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const start = events[0];
    // c_attn [32, 96] per layer: A 4x32 + B 96x4 = 512, x2 layers; score 2x32 = 64.
    expect(start).toMatchObject({ method: "LORA", trainable: 2 * 512 + 64 });
    const ac = JSON.parse(readFileSync(join(out, "final", "adapter_config.json"), "utf8"));
    expect(ac).toMatchObject({ peft_type: "LORA", r: 4, lora_alpha: 8, target_modules: ["c_attn"], task_type: "SEQ_CLS" });
    // peft (and src/peft) add the SEQ_CLS heads "classifier" and "score" to modules_to_save themselves.
    expect(ac.modules_to_save).toContain("score");
    for (const f of ["final/adapter_model.safetensors", "final/model.safetensors", "merged/model.safetensors", "merged/config.json"]) expect(existsSync(join(out, f)), f).toBe(true);
    // The adapter directory and the merged model give the same labels.
    const text = "the acting was dull and the script felt weak";
    const a = JSON.parse(tslm("classify", "--model", join(out, "final"), "--json", text).stdout);
    const m = JSON.parse(tslm("classify", "--model", join(out, "merged"), "--json", text).stdout);
    expect(a.probabilities.pos).toBeCloseTo(m.probabilities.pos, 4);

    // An adapter on a base model of another size: an error naming the module and both shapes.
    const other = join(tmp, "other");
    tinyGpt2Dir(other, sentimentTexts());
    const cfgPath = join(other, "config.json");
    const cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, n_embd: 16, architectures: ["GPT2ForSequenceClassification"], id2label: { "0": "neg", "1": "pos" }, label2id: { neg: 0, pos: 1 }, pad_token_id: cfg.eos_token_id }));
    const bad = tslm("classify", "--model", join(out, "final"), "--base", other, text);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/tslm classify: --model .*(module "transformer\.h\.0\.attn\.c_attn".*shape|n_embd|shape)/);
  });

  it("--resume from a mid-run checkpoint ends bit-identical to an uninterrupted run (full and LoRA)", () => {
    for (const method of [[], ["--lora", "r=2,targets=c_attn"]]) {
      const a = join(tmp, `res-a${method.length}`);
      const b = join(tmp, `res-b${method.length}`);
      const args = [...common, ...method, "--steps", "6", "--save-every", "3", "--keep-checkpoints", "5", "--lr", "3e-3", "--eval-limit", "8"];
      expect(tslm("finetune", ...args, "--out", a).status).toBe(0);
      // b: the same run as it stood after its step-3 checkpoint (as if killed there), then resumed.
      cpSync(a, b, { recursive: true });
      rmSync(join(b, "checkpoint-6"), { recursive: true });
      rmSync(join(b, "final"), { recursive: true });
      writeFileSync(join(b, "latest"), "checkpoint-3\n");
      const r = tslm("finetune", "--resume", b, "--no-progress");
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/resuming .* from .*checkpoint-3 \(step 3\)/);
      for (const f of method.length ? ["adapter_model.safetensors", "model.safetensors"] : ["model.safetensors"]) {
        expect(readFileSync(join(b, "final", f)).equals(readFileSync(join(a, "final", f))), f).toBe(true);
      }
    }
  });

  it("sft with prompt tuning: inputs cut to the context less the virtual tokens; tslm eval scores the responses", () => {
    const data = join(tmp, "sft.jsonl");
    const lines = readFileSync(SENTIMENT, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { text: string; label: string });
    writeFileSync(data, lines.map((r) => JSON.stringify({ prompt: `Is this review positive or negative? ${r.text}`, response: r.label })).join("\n") + "\n");
    const out = join(tmp, "sft");
    const r = tslm("finetune", "--task", "sft", "--model", model, "--data", data, "--steps", "6", "--batch-size", "8", "--prompt-tuning", "4", "--eval-limit", "16", "--out", out, "--no-progress", "--json");
    expect(r.status, r.stderr).toBe(0);
    const done = r.stdout.trim().split("\n").map((l) => JSON.parse(l)).at(-1);
    expect(done.results).toMatchObject({ method: "PROMPT_TUNING", trainable: 4 * 32 });
    expect(done.results.validation.tokens).toBeGreaterThan(0);
    const e = tslm("eval", "--model", join(out, "final"), "--data", data, "--task", "sft", "--limit", "16", "--json");
    expect(e.status, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).perplexity).toBeGreaterThan(1);
  });

  it("bad input fails before training, naming the line, field or module", () => {
    const d = join(tmp, "bad");
    mkdirSync(d);
    writeFileSync(join(d, "train.jsonl"), '{"text":"the movie was great","label":"pos"}\n{"text":"the movie was dull","label":"neg"}\n');
    writeFileSync(join(d, "validation.jsonl"), '{"text":"fine","label":"pos"}\n{"text":"meh","label":"neutral"}\n');
    const base = ["finetune", "--task", "classify", "--model", model, "--steps", "2", "--no-progress", "--out", join(tmp, "never")];
    const r1 = tslm(...base, "--data", d);
    expect(r1.status).toBe(1);
    expect(r1.stderr).toMatch(/validation\.jsonl:2: label "neutral" is not in the label set \("neg", "pos"\)/);
    writeFileSync(join(d, "empty.jsonl"), '{"text":"","label":"pos"}\n');
    expect(tslm(...base, "--data", join(d, "empty.jsonl")).stderr).toMatch(/empty\.jsonl:1: field "text" is empty/);
    expect(tslm(...base, "--data", SENTIMENT, "--lora", "r=0,targets=c_attn").stderr).toMatch(/--lora: r must be a positive integer, got "0"/);
    const t = tslm(...base, "--data", SENTIMENT, "--lora", "r=4,targets=q_proj,v_proj");
    expect(t.stderr).toMatch(/target_modules \["q_proj","v_proj"\] match no module.*c_attn/);
    expect(tslm(...base, "--data", SENTIMENT, "--prompt-tuning", "8").stderr).toMatch(/--prompt-tuning is available for --task sft only/);
    expect(tslm(...base, "--data", SENTIMENT, "--truncation-side", "middle").stderr).toMatch(/--truncation-side.*Allowed choices are left, right/);
    expect(tslm(...base.map((a) => (a === "classify" ? "sft" : a)), "--data", SENTIMENT, "--truncation-side", "left").stderr).toMatch(/--truncation-side left: only --task classify/);
    expect(existsSync(join(tmp, "never"))).toBe(false);
  });
});
