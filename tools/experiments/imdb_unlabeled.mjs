#!/usr/bin/env node
// Unlabeled in-domain pretraining text for the IMDB paradigm experiment (README, "Fine-tuning: the
// paradigm on real data"): the texts of the reviews in DIR/train.jsonl with their labels dropped,
// minus every review whose text (whitespace-normalised, lower-cased) also occurs in
// DIR/validation.jsonl or DIR/test.jsonl (IMDB has a few hundred exact duplicates), minus
// duplicates within the train part. Writes {"text"} JSONL for `tslm train --data X --jsonl-field text`.
//
//   node tools/experiments/imdb_unlabeled.mjs data/imdb-all imdb_unlabeled.jsonl
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  console.error("usage: imdb_unlabeled.mjs DATA_DIR OUT.jsonl");
  process.exit(2);
}
const read = (split) =>
  readFileSync(join(dir, `${split}.jsonl`), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l).text);
const key = (t) => t.replace(/\s+/g, " ").trim().toLowerCase();
const heldOut = new Set([...read("validation"), ...read("test")].map(key));
const seen = new Set();
let dropped = 0;
let dup = 0;
const lines = [];
for (const text of read("train")) {
  const k = key(text);
  if (heldOut.has(k)) dropped++;
  else if (seen.has(k)) dup++;
  else {
    seen.add(k);
    lines.push(JSON.stringify({ text }));
  }
}
writeFileSync(out, lines.join("\n") + "\n");
const chars = lines.reduce((n, l) => n + l.length, 0);
console.log(`${lines.length} reviews (${(chars / 1e6).toFixed(1)} M chars) -> ${out}; ${dropped} dropped as copies of validation/test reviews, ${dup} duplicates within train`);
