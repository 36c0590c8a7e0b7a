// `tslm fill-mask --model DIR [--top-k 5] "text with [MASK]"`: the masked-LM's most probable tokens
// for each mask, as transformers' fill-mask pipeline reports them: for every candidate its
// probability (`score`, softmax over the vocabulary at the mask), the id (`token`), the decoded
// token (`token_str`) and the input with the mask replaced (`sequence`, special tokens and padding
// removed; with several masks the other masks are kept, as the pipeline does). `--json` prints that
// list (a list of lists when the text has several masks).
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { noGrad } from "../autograd/index.js";
import { fromPretrained, resolveModelDir } from "../io/index.js";
import { BertForMaskedLM } from "../models/bert.js";
import { softmax } from "../ops/index.js";
import { Tensor } from "../tensor/tensor.js";
import { Tokenizer } from "../tokenizers/index.js";

function fail(message: string): never {
  process.stderr.write(`tslm fill-mask: ${message}\n`);
  throw new CommanderError(1, "tslm.fill-mask", message);
}

export interface FillMaskCandidate {
  score: number;
  token: number;
  token_str: string;
  sequence: string;
}

/** Candidates per mask position of `text` (one list per [MASK], in order). */
export function fillMask(model: BertForMaskedLM, tok: Tokenizer, text: string, topK: number): FillMaskCandidate[][] {
  const maskToken = tok.config.maskToken ?? "[MASK]";
  const maskId = tok.tokenToId(maskToken);
  if (maskId === undefined) throw new Error(`the tokenizer has no mask token ${maskToken}`);
  const enc = tok.encode(text);
  const ids = enc.ids;
  const positions = ids.flatMap((id, i) => (id === maskId ? [i] : []));
  if (positions.length === 0) throw new Error(`the text has no ${maskToken} token: ${JSON.stringify(text)}`);
  const T = ids.length;
  const V = model.config.vocab_size;
  if (topK > V) throw new Error(`--top-k ${topK} exceeds the vocabulary size ${V}`);
  const probs = noGrad(() => {
    const out = model.eval().forward({ inputIds: new Tensor(Int32Array.from(ids), [1, T]), tokenTypeIds: new Tensor(Int32Array.from(enc.typeIds), [1, T]) });
    return softmax(out.logits, -1).toTypedArray(); // (1, T, V)
  });
  const single = positions.length === 1;
  const pad = model.config.pad_token_id;
  return positions.map((pos) => {
    const row = probs.subarray(pos * V, (pos + 1) * V);
    // Top k by probability; ties keep the lower id first (torch.topk's order on CPU for equal values).
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => row[b] - row[a] || a - b).slice(0, topK);
    return order.map((p) => {
      const filled = ids.map((id, i) => (i === pos ? p : id)).filter((id) => id !== pad);
      return {
        score: row[p],
        token: p,
        token_str: tok.decode([p], { skipSpecialTokens: false }),
        sequence: tok.decode(filled, { skipSpecialTokens: single }),
      };
    });
  });
}

interface FillMaskOpts {
  model: string;
  topK: number;
  json?: boolean;
}

function run(text: string, o: FillMaskOpts): void {
  let model;
  try {
    model = fromPretrained(o.model);
  } catch (e) {
    fail(`--model ${o.model}: ${(e as Error).message}`);
  }
  if (!(model instanceof BertForMaskedLM)) {
    const arch = (model.constructor as { architecture?: string }).architecture ?? model.constructor.name;
    fail(`--model ${o.model}: fill-mask needs a masked language model (BertForMaskedLM), the directory holds ${arch}`);
  }
  let tok: Tokenizer;
  try {
    tok = Tokenizer.fromDirectory(resolveModelDir(o.model));
  } catch (e) {
    fail(`--model ${o.model}: no usable tokenizer (${(e as Error).message})`);
  }
  let result: FillMaskCandidate[][];
  try {
    result = fillMask(model, tok, text, o.topK);
  } catch (e) {
    fail((e as Error).message);
  }
  if (o.json) {
    process.stdout.write(JSON.stringify(result.length === 1 ? result[0] : result, null, 2) + "\n");
    return;
  }
  result.forEach((cands, m) => {
    if (result.length > 1) process.stdout.write(`mask ${m + 1}\n`);
    for (const c of cands) process.stdout.write(`${c.score.toFixed(4)}  ${c.token_str.padEnd(12)} ${c.sequence}\n`);
  });
}

export function registerFillMask(program: Command): void {
  program
    .command("fill-mask")
    .description("most probable tokens for each [MASK] of a text (BERT masked LM)")
    .argument("<text>", 'text with one or more mask tokens, e.g. "paris is the [MASK] of france."')
    .requiredOption("--model <dir>", "BertForMaskedLM directory with config.json, weights and tokenizer.json")
    .option(
      "--top-k <n>",
      "candidates per mask",
      (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("--top-k must be a positive integer");
        return n;
      },
      5,
    )
    .option("--json", "print the candidates as JSON (score, token, token_str, sequence)")
    .action((text: string, o: FillMaskOpts) => run(text, o));
}
