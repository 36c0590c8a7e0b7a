// `tslm fill-mask` on the tiny random BERT (fixtures/models_encdec/bert_mlm) against transformers'
// pipeline("fill-mask") output recorded by tools/golden/models_encdec.py (fill_mask.json): the same
// top-k token ids in the same order, token_str and sequence equal, scores within 1e-4 absolute.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers.js";
import { expectOneLineError, tslm } from "./info_cli_helpers.js";

const ENC = join(repoRoot, "fixtures", "models_encdec");
const MODEL = join(ENC, "bert_mlm");
const golden = JSON.parse(readFileSync(join(ENC, "fill_mask.json"), "utf8")) as {
  cases: { text: string; top_k: number; results: { score: number; token: number; token_str: string; sequence: string }[] }[];
};

describe("tslm fill-mask", () => {
  for (const c of golden.cases) {
    it(`${JSON.stringify(c.text)}: HF pipeline's top-${c.top_k}`, async () => {
      const r = await tslm("fill-mask", "--model", MODEL, "--top-k", String(c.top_k), "--json", c.text);
      expect(r.code, r.stderr).toBe(0);
      const got = JSON.parse(r.stdout) as typeof c.results;
      expect(got.map((x) => x.token)).toEqual(c.results.map((x) => x.token));
      expect(got.map((x) => x.token_str)).toEqual(c.results.map((x) => x.token_str));
      expect(got.map((x) => x.sequence)).toEqual(c.results.map((x) => x.sequence));
      const d = Math.max(...got.map((x, i) => Math.abs(x.score - c.results[i].score)));
      expect(d, "score max |diff|").toBeLessThanOrEqual(1e-4);
    });
  }

  it("text output, default --top-k 5, and two masks give one list per mask", async () => {
    const r = await tslm("fill-mask", "--model", MODEL, golden.cases[0].text);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(5);
    expect(lines[0]).toContain(golden.cases[0].results[0].sequence);
    const two = await tslm("fill-mask", "--model", MODEL, "--top-k", "3", "--json", "the [MASK] sat on the [MASK] .");
    expect(two.code, two.stderr).toBe(0);
    const lists = JSON.parse(two.stdout);
    expect(lists).toHaveLength(2);
    expect(lists[0]).toHaveLength(3);
    expect(lists[0][0].sequence).toContain("[MASK]"); // the other mask stays, as in the pipeline
  });

  it("errors: no mask, not a masked LM, bad --top-k (one line, exit 1)", async () => {
    expectOneLineError(await tslm("fill-mask", "--model", MODEL, "no mask here"), /has no \[MASK\] token/);
    expectOneLineError(await tslm("fill-mask", "--model", join(ENC, "bert_cls"), "a [MASK]"), /needs a masked language model .* BertForSequenceClassification/);
    expectOneLineError(await tslm("fill-mask", "--model", "/no/model", "a [MASK]"), /^tslm fill-mask: --model \/no\/model: /);
    expectOneLineError(await tslm("fill-mask", "--model", MODEL, "--top-k", "500", "a [MASK]"), /--top-k 500 exceeds the vocabulary size 124/);
    const bad = await tslm("fill-mask", "--model", MODEL, "--top-k", "x", "a [MASK]");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--top-k must be a positive integer/);
  });
});
