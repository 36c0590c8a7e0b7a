// `tslm info DIR` on the tiny fixture models: type, class, parameter count (from the safetensors
// headers, tied copies not counted; equal to the loaded model's numParameters()), tokenizer, config
// summary; --json; one-line errors naming the directory or file.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fromPretrained } from "../../src/io/index.js";
import { repoRoot } from "../helpers.js";
import { expectOneLineError, tslm } from "./info_cli_helpers.js";

const ENC = join(repoRoot, "fixtures", "models_encdec");

describe("tslm info", () => {
  for (const [dir, type, arch] of [
    [join(ENC, "bert_mlm"), "bert", "BertForMaskedLM"],
    [join(ENC, "bert_cls"), "bert", "BertForSequenceClassification"],
    [join(ENC, "t5_v1_1"), "t5", "T5ForConditionalGeneration"],
    [join(ENC, "transformer_base"), "transformer", "TransformerForConditionalGeneration"],
    [join(repoRoot, "fixtures", "models", "gpt2_tiny"), "gpt2", "GPT2LMHeadModel"],
    [join(repoRoot, "fixtures", "models", "llama_gqa"), "llama", "LlamaForCausalLM"],
  ] as const) {
    it(`${arch}: --json gives the type, class and the model's parameter count`, async () => {
      const r = await tslm("info", dir, "--json");
      expect(r.code, r.stderr).toBe(0);
      const info = JSON.parse(r.stdout);
      expect(info.model_type).toBe(type);
      expect(info.architecture).toBe(arch);
      expect(info.parameters).toBe(fromPretrained(dir).numParameters());
      expect(info.weight_files).toEqual(["model.safetensors"]);
      expect(info.dtypes).toHaveProperty("F32");
      expect(Object.keys(info.config).length).toBeGreaterThan(4);
    });
  }

  it("text output: the summary lines and the tokenizer", async () => {
    const r = await tslm("info", join(ENC, "bert_mlm"));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^model_type\s+bert$/m);
    expect(r.stdout).toMatch(/^parameters\s+24\.5K \(24476\)$/m);
    expect(r.stdout).toMatch(/^tokenizer\s+tokenizer\.json, 124 tokens$/m);
    expect(r.stdout).toMatch(/^\s+hidden_size\s+32$/m);
  });

  it("errors: missing directory, no config.json, unknown model_type (one line, exit 1)", async () => {
    expectOneLineError(await tslm("info", "/nonexistent/dir"), /^tslm info: \/nonexistent\/dir: no such directory$/);
    const d = mkdtempSync(join(tmpdir(), "tslm-info-"));
    expectOneLineError(await tslm("info", d), /no config\.json/);
    writeFileSync(join(d, "config.json"), JSON.stringify({ model_type: "mamba" }));
    expectOneLineError(await tslm("info", d), /config\.json: unsupported model_type "mamba" \(supported: .*bert.*t5.*transformer/);
  });
});
