// `tslm classify --model DIR "text" ...`: the label and class probabilities a sequence classifier
// (BertForSequenceClassification / GPT2ForSequenceClassification, plain or base + adapter) gives
// each text. Labels are the model's id2label; texts are cut to --max-length tokens as in training.
import { Command, CommanderError } from "commander";
import { readFileSync } from "node:fs";
import { LabelSet } from "../finetune/data.js";
import { predictProbs, tokenizerIds } from "../finetune/tasks.js";
import { Tokenizer } from "../tokenizers/index.js";
import { loadFinetuned } from "./finetune.js";

function fail(message: string): never {
  process.stderr.write(`tslm classify: ${message}\n`);
  throw new CommanderError(1, "tslm.classify", message);
}

interface ClassifyFlags {
  model: string;
  base?: string;
  file?: string;
  maxLength: number;
  json?: boolean;
}

function run(texts: string[], o: ClassifyFlags): void {
  if (o.file) {
    try {
      texts = [...texts, ...readFileSync(o.file, "utf8").split("\n").filter((l) => l.trim() !== "")];
    } catch {
      fail(`--file ${o.file}: no such file`);
    }
  }
  if (texts.length === 0) fail("give one or more texts (arguments or --file)");
  texts.forEach((t, i) => {
    if (t.trim() === "") fail(`text ${i + 1} is empty`);
  });
  let loaded: ReturnType<typeof loadFinetuned>;
  try {
    loaded = loadFinetuned(o.model, o.base);
  } catch (e) {
    fail(`--model ${o.model}: ${(e as Error).message}`);
  }
  const base = loaded.peft ? loaded.peft.getBaseModel() : loaded.model;
  const cfg = base.config as Record<string, unknown>;
  const arch = Array.isArray(cfg.architectures) ? String(cfg.architectures[0]) : "";
  if (!arch.endsWith("ForSequenceClassification")) fail(`--model ${o.model}: ${arch || cfg.model_type} is not a sequence classifier (fine-tune one with tslm finetune --task classify)`);
  const labels = LabelSet.fromConfig((cfg.id2label ?? {}) as Record<string, string>);
  let tok: Tokenizer;
  try {
    tok = Tokenizer.fromDirectory(loaded.peft && o.base ? o.base : o.model);
  } catch (e) {
    fail(`--model ${o.model}: no usable tokenizer (${(e as Error).message})`);
  }
  const ids = tokenizerIds(tok);
  const padId = ids.pad ?? ids.eos ?? 0;
  const enc = tok.encodeBatch(texts, { truncation: true, maxLength: o.maxLength, padding: false });
  const probs = predictProbs(loaded.model.eval() as never, enc.map((e) => ({ input_ids: e.ids, label: 0 })), padId);
  const rows = texts.map((text, i) => {
    const p = probs[i]!;
    const k = p.indexOf(Math.max(...p));
    return { text, label: labels.names[k]!, probabilities: Object.fromEntries(labels.names.map((n, j) => [n, p[j]!])) };
  });
  if (o.json) process.stdout.write(JSON.stringify(rows.length === 1 ? rows[0] : rows, null, 2) + "\n");
  else
    for (const r of rows) {
      const ps = Object.entries(r.probabilities)
        .map(([n, v]) => `${n} ${v.toFixed(3)}`)
        .join("  ");
      process.stdout.write(`${r.label}\t(${ps})${rows.length > 1 ? `\t${r.text.slice(0, 60)}` : ""}\n`);
    }
}

export function registerClassify(program: Command): void {
  program
    .command("classify")
    .description("label texts with a fine-tuned sequence classifier (prints the label and class probabilities)")
    .argument("[texts...]", "texts to classify")
    .requiredOption("--model <dir>", "classifier directory (tslm finetune's final/), or an adapter directory")
    .option("--base <dir>", "the base model of an adapter directory that does not hold it")
    .option("--file <path>", "also classify each non-empty line of this file")
    .option("--max-length <n>", "tokens per text (default 128)", (v: string) => Number(v), 128)
    .option("--json", "print JSON")
    .action((texts: string[], o: ClassifyFlags) => run(texts, o));
}
