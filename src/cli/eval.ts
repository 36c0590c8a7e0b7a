// `tslm eval --model DIR --text FILE`: the loss and perplexity of a causal LM (gpt2, llama) on a
// text file, tokenized with the tokenizer in DIR.
//
// Texts longer than the context are scored with the sliding-window recipe of transformers' docs
// ("Perplexity of fixed-length models"): windows of --seq-len tokens start every --stride tokens;
// each window scores only the tokens that the previous window did not reach (the rest is context,
// label -100), and the window's mean loss is weighted by (scored labels - 1), exactly as that recipe
// does, so that the numbers equal Hugging Face's (tests compare with values recorded from it).
// perplexity = exp(sum of weighted losses / sum of weights). --stride defaults to --seq-len
// (disjoint windows); --seq-len defaults to the model's context length.
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { readFileSync, statSync } from "node:fs";
import { noGrad } from "../autograd/index.js";
import { fromPretrained, resolveModelDir } from "../io/index.js";
import type { PretrainedModel } from "../models/registry.js";
import { Tensor } from "../tensor/tensor.js";
import { Tokenizer } from "../tokenizers/index.js";
import { runLabeledEval } from "./eval_labeled.js";

function fail(message: string): never {
  process.stderr.write(`tslm eval: ${message}\n`);
  throw new CommanderError(1, "tslm.eval", message);
}

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

export interface EvalResult {
  model: string;
  text: string;
  tokens: number;
  seq_len: number;
  stride: number;
  windows: number;
  /** Sum of the recipe's per-window weights (tokens predicted, less one per window). */
  predicted: number;
  loss: number;
  perplexity: number;
}

/** The model's context length from its config (n_positions or max_position_embeddings). */
export function contextLength(model: PretrainedModel): number {
  const c = model.config as Record<string, unknown>;
  const n = c.n_positions ?? c.max_position_embeddings;
  if (typeof n !== "number") throw new Error(`${String(c.model_type)} config has no n_positions / max_position_embeddings`);
  return n;
}

/** Sliding-window perplexity of `ids` (see the file header). */
export function slidingWindowPerplexity(model: PretrainedModel, ids: readonly number[], seqLen: number, stride: number): Omit<EvalResult, "model" | "text"> {
  if (ids.length < 2) throw new Error(`the text has ${ids.length} token(s); at least 2 are needed to score a prediction`);
  if (stride > seqLen) throw new Error(`--stride (${stride}) must not exceed --seq-len (${seqLen}): tokens between windows would never be scored`);
  let nll = 0;
  let count = 0;
  let prevEnd = 0;
  let windows = 0;
  noGrad(() => {
    for (let begin = 0; begin < ids.length; begin += stride) {
      const end = Math.min(begin + seqLen, ids.length);
      const trgLen = end - prevEnd; // tokens not scored by an earlier window
      const T = end - begin;
      const input = new Tensor(Int32Array.from(ids.slice(begin, end)), [1, T]);
      const labels = Int32Array.from(ids.slice(begin, end));
      labels.fill(-100, 0, Math.max(0, T - trgLen));
      const valid = Math.min(trgLen, T);
      windows++;
      prevEnd = end;
      // The recipe weights each window by (valid labels - batch size): the labels shift inside the model.
      const weight = valid - 1;
      if (weight > 0) {
        const loss = model.forward({ inputIds: input, labels: new Tensor(labels, [1, T]) }).loss!.item();
        nll += loss * weight;
        count += weight;
      }
      if (end === ids.length) break;
    }
  });
  const loss = nll / count;
  return { tokens: ids.length, seq_len: seqLen, stride, windows, predicted: count, loss, perplexity: Math.exp(loss) };
}

interface EvalOpts {
  model: string;
  text: string;
  json?: boolean;
  seqLen?: number;
  stride?: number;
}

function run(o: EvalOpts): void {
  let text: string;
  try {
    if (!statSync(o.text).isFile()) fail(`--text ${o.text}: not a file`);
    text = readFileSync(o.text, "utf8");
  } catch (e) {
    if (e instanceof CommanderError) throw e;
    fail(`--text ${o.text}: no such file`);
  }
  let model: PretrainedModel;
  try {
    model = fromPretrained(o.model);
  } catch (e) {
    fail(`--model ${o.model}: ${(e as Error).message}`);
  }
  const cfg = model.config as Record<string, unknown>;
  if (cfg.is_encoder_decoder === true || cfg.model_type === "bert") {
    fail(`--model ${o.model}: ${String(cfg.model_type)} is not a causal language model (eval scores gpt2 / llama models)`);
  }
  let tok: Tokenizer;
  try {
    tok = Tokenizer.fromDirectory(resolveModelDir(o.model));
  } catch (e) {
    fail(`--model ${o.model}: no usable tokenizer (${(e as Error).message})`);
  }
  const seqLen = o.seqLen ?? contextLength(model);
  if (seqLen > contextLength(model)) fail(`--seq-len ${seqLen} exceeds the model's context length ${contextLength(model)}`);
  const stride = o.stride ?? seqLen;
  const ids = tok.encode(text).ids;
  let r: Omit<EvalResult, "model" | "text">;
  try {
    r = slidingWindowPerplexity(model.eval(), ids, seqLen, stride);
  } catch (e) {
    fail(`${o.text}: ${(e as Error).message}`);
  }
  const result: EvalResult = { model: o.model, text: o.text, ...r };
  if (o.json) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
  else {
    process.stdout.write(`loss ${r.loss.toFixed(4)}  perplexity ${r.perplexity.toFixed(3)}\n`);
    process.stdout.write(`(${r.tokens} tokens, ${r.windows} windows of ${r.seq_len} with stride ${r.stride}, ${r.predicted} predictions)\n`);
  }
}

export function registerEval(program: Command): void {
  program
    .command("eval")
    .description("loss and perplexity of a causal LM on a text file (sliding windows)")
    .requiredOption("--model <dir>", "model directory with config.json, weights and tokenizer.json")
    .option("--text <file>", "UTF-8 text file to score")
    .option("--seq-len <n>", "window length in tokens (default: the model's context length)", positiveInt("--seq-len"))
    .option("--stride <n>", "tokens between window starts (default: --seq-len)", positiveInt("--stride"))
    .option("--json", "print one JSON object")
    // Labeled sets (src/cli/eval_labeled.ts): classification / seq2seq / SFT metrics.
    .option("--data <path>", "a labeled set (file or tslm data prepare folder) to score instead of --text")
    .option("--task <task>", "with --data: classify, seq2seq or sft")
    .option("--base <dir>", "with --data: the base model of an adapter directory")
    .option("--max-length <n>", "with --data: tokens per input (default 128)", positiveInt("--max-length"))
    .option("--limit <n>", "with --data: score the first N records only", positiveInt("--limit"))
    .action((o: EvalOpts & { data?: string; task?: string; base?: string; maxLength?: number; limit?: number }) => {
      if (o.data) return runLabeledEval(o as EvalOpts & { data: string });
      if (!o.text) fail("--text <file> (a causal LM's perplexity) or --data <file> --task <task> (a labeled set) is required");
      return run(o);
    });
}
