// `tslm eval` against Hugging Face's sliding-window perplexity (transformers' docs recipe), recorded
// by tools/golden/models_encdec.py for a tiny GPT-2 with its byte-level BPE tokenizer
// (fixtures/models_encdec/gpt2_eval, eval_text.txt, eval.json): same token ids, same number of
// windows and predictions, and loss within 1e-5 absolute (perplexity within 1e-5 relative).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Tokenizer } from "../../src/tokenizers/index.js";
import { repoRoot } from "../helpers.js";
import { expectOneLineError, tslm } from "./info_cli_helpers.js";

const ENC = join(repoRoot, "fixtures", "models_encdec");
const MODEL = join(ENC, "gpt2_eval");
const TEXT = join(ENC, "eval_text.txt");
const golden = JSON.parse(readFileSync(join(ENC, "eval.json"), "utf8")) as {
  input_ids: number[];
  runs: { seq_len: number; stride: number; tokens: number; windows: number; predicted: number; loss: number; perplexity: number }[];
};

describe("tslm eval", () => {
  it("tokenizes the text as Hugging Face did", () => {
    expect(Tokenizer.fromDirectory(MODEL).encode(readFileSync(TEXT, "utf8")).ids).toEqual(golden.input_ids);
  });

  for (const run of golden.runs) {
    it(`--seq-len ${run.seq_len} --stride ${run.stride}: HF's loss and perplexity`, async () => {
      const r = await tslm("eval", "--model", MODEL, "--text", TEXT, "--seq-len", String(run.seq_len), "--stride", String(run.stride), "--json");
      expect(r.code, r.stderr).toBe(0);
      const got = JSON.parse(r.stdout);
      expect({ tokens: got.tokens, windows: got.windows, predicted: got.predicted }).toEqual({ tokens: run.tokens, windows: run.windows, predicted: run.predicted });
      expect(Math.abs(got.loss - run.loss), `loss ${got.loss} vs HF ${run.loss}`).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(got.perplexity / run.perplexity - 1)).toBeLessThanOrEqual(1e-5);
    });
  }

  it("defaults: --seq-len = n_positions, --stride = --seq-len; text output", async () => {
    const r = await tslm("eval", "--model", MODEL, "--text", TEXT);
    expect(r.code, r.stderr).toBe(0);
    const want = golden.runs.find((x) => x.seq_len === 32 && x.stride === 32)!;
    expect(r.stdout).toContain(`perplexity ${want.perplexity.toFixed(3)}`);
    expect(r.stdout).toMatch(/266 tokens, 9 windows of 32 with stride 32/);
  });

  it("errors name the file or argument (one line, exit 1)", async () => {
    expectOneLineError(await tslm("eval", "--model", MODEL, "--text", "/no/such.txt"), /^tslm eval: --text \/no\/such\.txt: no such file$/);
    expectOneLineError(await tslm("eval", "--model", "/no/model", "--text", TEXT), /^tslm eval: --model \/no\/model: /);
    expectOneLineError(await tslm("eval", "--model", join(ENC, "bert_mlm"), "--text", TEXT), /not a causal language model/);
    expectOneLineError(await tslm("eval", "--model", MODEL, "--text", TEXT, "--seq-len", "64"), /--seq-len 64 exceeds the model's context length 32/);
    expectOneLineError(await tslm("eval", "--model", MODEL, "--text", TEXT, "--seq-len", "16", "--stride", "20"), /--stride \(20\) must not exceed --seq-len \(16\)/);
    const d = mkdtempSync(join(tmpdir(), "tslm-eval-"));
    writeFileSync(join(d, "one.txt"), "a");
    expectOneLineError(await tslm("eval", "--model", MODEL, "--text", join(d, "one.txt")), /at least 2 are needed/);
    const bad = await tslm("eval", "--model", MODEL, "--text", TEXT, "--stride", "0");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--stride must be a positive integer/);
  });
});
