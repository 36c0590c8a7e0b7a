// Round-trip helper for tools/golden/models_encdec.py (`roundtrip` step): loads each Hugging Face
// fixture of fixtures/models_encdec/ with tslm's fromPretrained and writes it back with
// savePretrained under the directory given as the only argument; Python transformers then loads
// the written directories and compares logits. Run: npx tsx tools/golden/models_encdec_save.ts OUT
import { join } from "node:path";
import { fromPretrained, savePretrained } from "../../src/io/index.js";

const out = process.argv[2];
if (!out) {
  console.error("usage: tsx tools/golden/models_encdec_save.ts OUT_DIR");
  process.exit(1);
}
const root = join(import.meta.dirname, "..", "..", "fixtures", "models_encdec");
for (const name of ["bert_mlm", "bert_cls", "t5_v1_0", "t5_v1_1"]) {
  const model = fromPretrained(join(root, name));
  const saved = savePretrained(model, join(out, name));
  console.log(`${name}: wrote ${saved.written.join(", ")}`);
}
