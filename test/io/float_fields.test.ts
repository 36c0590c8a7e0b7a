// config.json float fields keep their float form: transformers 5's typed configs reject T5's
// `"initializer_factor": 1` (an int) where Python itself writes 1.0.
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { savePretrained } from "../../src/io/index.js";
import { createModel } from "../../src/models/registry.js";
import { ParamSource } from "../../src/nn/module.js";

describe("savePretrained config floats", () => {
  it("writes whole-number float fields as 1.0 and ints as ints", () => {
    const dir = mkdtempSync(join(tmpdir(), "tslm-cfg-"));
    const m = createModel(
      { model_type: "t5", d_model: 16, d_kv: 4, d_ff: 32, num_layers: 1, num_heads: 4, vocab_size: 40, feed_forward_proj: "relu", initializer_factor: 1, dropout_rate: 0 },
      ParamSource.init({ seed: 0 }),
    );
    savePretrained(m, dir);
    const text = readFileSync(join(dir, "config.json"), "utf8");
    expect(text).toContain('"initializer_factor": 1.0,');
    expect(text).toContain('"dropout_rate": 0.0,');
    expect(text).toContain('"layer_norm_epsilon": 1e-06,');
    expect(text).toContain('"d_model": 16,');
    expect(text).toContain('"vocab_size": 40\n');
  });
});
