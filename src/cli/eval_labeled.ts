// `tslm eval --model DIR --data FILE --task classify|seq2seq|sft`: a fine-tuned model on a labeled
// set (the eval command dispatches here when --data is given; its --text mode is unchanged).
//   classify  accuracy, macro-F1 and the confusion matrix (labels from the model's id2label; a
//             record whose label is not among them is an error naming the line)
//   seq2seq   corpus BLEU (sacrebleu 13a, or zh for Chinese targets) and chrF2 of greedy outputs, and
//             the mean target-token loss
//   sft       loss and perplexity on the response tokens only
// --data may be a file or a `tslm data prepare` folder (its test split, else validation).
import { CommanderError } from "commander";
import { LabelSet, loadRecords, resolveDataSplits, TASKS, type ClassifyRecord, type SFTRecord, type Seq2SeqRecord, type Task } from "../finetune/data.js";
import { formatConfusion } from "../finetune/metrics.js";
import { chatTemplateFor, encodeClassify, encodeSFT, encodeSeq2Seq, evaluateClassify, evaluateSFT, evaluateSeq2Seq, tokenizerIds } from "../finetune/tasks.js";
import { Tokenizer } from "../tokenizers/index.js";
import { autoBleuTokenizer, loadFinetuned } from "./finetune.js";

export interface LabeledEvalOptions {
  model: string;
  data: string;
  task?: string;
  base?: string;
  maxLength?: number;
  limit?: number;
  maxNewTokens?: number;
  json?: boolean;
}

function fail(message: string): never {
  process.stderr.write(`tslm eval: ${message}\n`);
  throw new CommanderError(1, "tslm.eval", message);
}

export function runLabeledEval(o: LabeledEvalOptions): void {
  if (!o.task || !(TASKS as readonly string[]).includes(o.task)) fail(`--data needs --task ${TASKS.join("|")}`);
  const task = o.task as Task;
  let file: string;
  try {
    const s = resolveDataSplits(o.data);
    file = s.single ?? s.test ?? s.validation ?? s.train!;
  } catch (e) {
    fail(`--data: ${(e as Error).message}`);
  }
  let records;
  try {
    records = loadRecords(task, file);
  } catch (e) {
    fail(`--data: ${(e as Error).message}`);
  }
  if (o.limit && o.limit > 0) records = records.slice(0, o.limit);
  let loaded: ReturnType<typeof loadFinetuned>;
  try {
    loaded = loadFinetuned(o.model, o.base);
  } catch (e) {
    fail(`--model ${o.model}: ${(e as Error).message}`);
  }
  let tok: Tokenizer;
  try {
    tok = Tokenizer.fromDirectory(loaded.peft && o.base ? o.base : o.model);
  } catch (e) {
    fail(`--model ${o.model}: no usable tokenizer (${(e as Error).message})`);
  }
  const base = loaded.peft ? loaded.peft.getBaseModel() : loaded.model;
  const cfg = base.config as Record<string, unknown>;
  const model = loaded.model.eval();
  const ids = tokenizerIds(tok);
  const padId = ids.pad ?? ids.eos ?? 0;
  // As in training: inputs fit the context, less the virtual tokens of prompt learning.
  const pc = loaded.peft?.peftConfig.get(loaded.peft.activeAdapter) as { peft_type?: string; num_virtual_tokens?: number } | undefined;
  const virtual = pc && (pc.peft_type === "PREFIX_TUNING" || pc.peft_type === "PROMPT_TUNING") ? (pc.num_virtual_tokens ?? 0) : 0;
  const ctxRaw = cfg.n_positions ?? cfg.max_position_embeddings;
  const maxLength = Math.min(o.maxLength ?? 128, typeof ctxRaw === "number" ? ctxRaw - virtual : Infinity);
  let result: Record<string, unknown>;
  try {
    if (task === "classify") {
      const arch = Array.isArray(cfg.architectures) ? String(cfg.architectures[0]) : "";
      if (!arch.endsWith("ForSequenceClassification")) fail(`--model ${o.model}: ${arch || String(cfg.model_type)} is not a sequence classifier`);
      const labels = LabelSet.fromConfig((cfg.id2label ?? {}) as Record<string, string>);
      const ex = encodeClassify(tok, records as ClassifyRecord[], labels, maxLength);
      const r = evaluateClassify(model as never, ex, labels, padId);
      result = { task, data: file, n: r.n, accuracy: r.accuracy, macroF1: r.macroF1, confusion: r.confusion, labels: r.labels, perClass: r.perClass };
      if (!o.json) process.stdout.write(`accuracy ${(100 * r.accuracy).toFixed(2)}%  macro-F1 ${(100 * r.macroF1).toFixed(2)}  (${r.n} examples)\n${formatConfusion(r)}\n`);
    } else if (task === "seq2seq") {
      if (ids.eos === null) fail(`--model ${o.model}: the tokenizer has no EOS token`);
      const recs = records as Seq2SeqRecord[];
      const ex = encodeSeq2Seq(tok, recs, maxLength, maxLength, ids.eos);
      const decoderStart = typeof cfg.decoder_start_token_id === "number" ? cfg.decoder_start_token_id : padId;
      const bt = autoBleuTokenizer(recs.map((r) => r.target));
      const r = evaluateSeq2Seq(model, tok, recs, ex, { padId, decoderStart, eos: ids.eos, maxNewTokens: o.maxNewTokens ?? 64, bleuTokenizer: bt });
      result = { task, data: file, ...r };
      if (!o.json) process.stdout.write(`BLEU ${r.bleu.toFixed(2)} (tokenize ${r.tokenizer})  chrF2 ${r.chrf.toFixed(2)}  loss ${r.loss.toFixed(4)}  (${r.n} examples)\n`);
    } else {
      const t = chatTemplateFor(loaded.peft && o.base ? o.base : o.model);
      const ex = encodeSFT(tok, records as SFTRecord[], t.template);
      const r = evaluateSFT(model as never, ex, { padId, eos: t.isDefault ? ids.eos : null, maxLength });
      result = { task, data: file, ...r };
      if (!o.json) process.stdout.write(`response loss ${r.loss.toFixed(4)}  perplexity ${r.perplexity.toFixed(3)}  (${r.tokens} response tokens in ${r.n} examples)\n`);
    }
  } catch (e) {
    if (e instanceof CommanderError) throw e;
    fail(`${file}: ${(e as Error).message}`);
  }
  if (o.json) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
}
