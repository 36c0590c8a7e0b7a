// savePretrained of bert / t5 writes directories that Python transformers loads with identical
// logits. The Python side ran in tools/golden/models_encdec.py `roundtrip` (it calls
// tools/golden/models_encdec_save.ts, then loads each written dir with transformers and compares
// against the Hugging Face-written fixture under the same loader); its outcome is
// fixtures/models_encdec/roundtrip.json, asserted here. The tslm-side test re-runs the save and
// checks that what it writes still equals what was checked: the same tensor keys as transformers'
// own save, bit-identical tensors, and a config that reloads to the same model.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fromPretrained, loadSafetensors, savePretrained } from "../../src/io/index.js";
import { noGrad } from "../../src/index.js";
import { ENCDEC_DIR, fixture } from "./transformer_family_helpers.js";

const CASES = ["bert_mlm", "bert_cls", "t5_v1_0", "t5_v1_1"];
const outcome = JSON.parse(readFileSync(join(ENCDEC_DIR, "roundtrip.json"), "utf8")) as { cases: Record<string, { identical: boolean; weights_identical: boolean; logits_max_abs_diff_vs_hf_dir: number }> };

describe("savePretrained -> transformers (recorded by the golden tool)", () => {
  for (const name of CASES) {
    it(`${name}: transformers loaded the tslm-written directory with identical weights and logits`, () => {
      const c = outcome.cases[name];
      expect(c, `roundtrip.json has no case ${name}`).toBeDefined();
      expect(c.weights_identical).toBe(true);
      expect(c.logits_max_abs_diff_vs_hf_dir).toBe(0);
      expect(c.identical).toBe(true);
    });
  }
});

describe("savePretrained writes what the golden tool checked", () => {
  // transformer_base too: transformers does not know model_type "transformer", so only tslm reloads it.
  for (const name of [...CASES, "transformer_base"]) {
    it(`${name}: same keys and bit-identical tensors as transformers' save; reloads to the same logits`, () => {
      const { dir, weights, ref } = fixture(name);
      const model = fromPretrained(dir);
      const out = join(mkdtempSync(join(tmpdir(), "tslm-encdec-")), name);
      savePretrained(model, out);
      const written = loadSafetensors(join(out, "model.safetensors"));
      expect([...written.keys()].sort()).toEqual([...weights.keys()].sort());
      for (const [k, t] of weights) expect(Buffer.from((written.get(k)!.toTypedArray() as Float32Array).buffer).equals(Buffer.from((t.toTypedArray() as Float32Array).buffer)), k).toBe(true);
      const cfg = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
      expect(cfg.architectures).toEqual(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).architectures);
      expect(cfg.model_type).toBe(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).model_type);
      const again = fromPretrained(out).eval();
      const input = name.startsWith("bert")
        ? { inputIds: ref.get("input_ids")!, attentionMask: ref.get("attention_mask")!, tokenTypeIds: ref.get("token_type_ids")! }
        : { inputIds: ref.get("input_ids")!, attentionMask: ref.get("attention_mask")!, decoderInputIds: ref.get("decoder_input_ids")! };
      noGrad(() => {
        const a = model.eval().forward(input as never).logits.toTypedArray();
        const b = again.forward(input as never).logits.toTypedArray();
        expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
      });
    });
  }
});
