// `tslm generate --model DIR [options] "prompt"`: text from a model directory or a `tslm train`
// run (its latest checkpoint). Every generation option is a flag over the model's
// generation_config.json defaults; encoder-decoder models (t5, transformer) generate from the
// input text. `--stream` prints complete UTF-8 text as it is generated; `--json` prints one JSON
// object with the generated ids, texts, finish reasons and timings.
//
// Sampling flags (--temperature, --top-k, --top-p, --min-p) switch sampling on, as a user who
// sets a temperature means it (HF would warn and stay greedy); `--greedy` switches it off and
// conflicts with them. Contradictions (--stream with beams or several sequences, --greedy with a
// temperature, ...) are one-line errors before the model loads.
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { readFileSync } from "node:fs";
import type { GenerationConfig } from "../generate/index.js";
import { RowTexts, encodePrompt, loadModel, startDecoding, type LoadedModel } from "../server/model.js";

function fail(message: string): never {
  process.stderr.write(`tslm generate: ${message}\n`);
  throw new CommanderError(1, "tslm.generate", message);
}

export function intArg(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

export function numArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
    return n;
  };
}

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

export interface GenerationFlags {
  maxNewTokens?: number;
  minNewTokens?: number;
  greedy?: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repetitionPenalty?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  repeatNgramSize?: string | boolean;
  numBeams?: number;
  lengthPenalty?: number;
  earlyStopping?: string;
  numReturnSequences?: number;
  stop?: string[];
  seed?: number;
}

/** Adds the generation option flags (shared by generate and chat). */
export function addGenerationFlags(cmd: Command, opts: { beams?: boolean } = {}): Command {
  cmd
    .option("--max-new-tokens <n>", "tokens to generate at most (default: generation_config.json, else 20 for generate, 256 for chat)", intArg("--max-new-tokens", 1))
    .option("--min-new-tokens <n>", "tokens to generate before EOS may end the text", intArg("--min-new-tokens", 0))
    .option("--greedy", "always take the most likely token (no sampling)")
    .option("--temperature <t>", "sampling temperature (> 0); turns sampling on", numArg("--temperature"))
    .option("--top-k <k>", "sample among the k most likely tokens (0 = off); turns sampling on", intArg("--top-k", 0))
    .option("--top-p <p>", "nucleus sampling: the smallest set with probability >= p, in (0, 1]; turns sampling on", numArg("--top-p"))
    .option("--min-p <p>", "drop tokens below p x the top probability, in [0, 1]; turns sampling on", numArg("--min-p"))
    .option("--repetition-penalty <x>", "divide the logits of tokens already present by x (> 0, 1 = off)", numArg("--repetition-penalty"))
    .option("--frequency-penalty <x>", "OpenAI frequency penalty in [-2, 2]", numArg("--frequency-penalty"))
    .option("--presence-penalty <x>", "OpenAI presence penalty in [-2, 2]", numArg("--presence-penalty"))
    .option("--no-repeat-ngram-size <n>", "never repeat an n-gram (0 = off)")
    .option("--stop <string>", "stop when the text contains this string (repeatable)", collect)
    .option("--seed <n>", "random seed for sampling (reproducible output)", intArg("--seed", 0));
  if (opts.beams ?? true) {
    cmd
      .option("--num-beams <n>", "beam search with n beams (1 = off)", intArg("--num-beams", 1))
      .option("--length-penalty <x>", "beam search: exponent on the length in the score", numArg("--length-penalty"))
      .option("--early-stopping <when>", "beam search: true | false | never", (v: string) => {
        if (!["true", "false", "never"].includes(v)) throw new InvalidArgumentError("--early-stopping must be true, false or never");
        return v;
      })
      .option("--num-return-sequences <n>", "sequences to return (sampling, or <= --num-beams)", intArg("--num-return-sequences", 1));
  }
  return cmd;
}

/** The model's generation config with the flags laid over it; contradictions are errors. */
export function configFromFlags(base: GenerationConfig, f: GenerationFlags, defaultMaxNewTokens: number): GenerationConfig {
  const over: Record<string, unknown> = {};
  const sampling = (["temperature", "topK", "topP", "minP"] as const).filter((k) => f[k] !== undefined);
  if (f.greedy && sampling.length > 0) throw new Error(`--greedy conflicts with --${sampling[0].replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())} (a sampling option)`);
  if (f.greedy) over["do_sample"] = false;
  else if (sampling.length > 0) over["do_sample"] = true;
  if (f.temperature !== undefined) over["temperature"] = f.temperature;
  if (f.topK !== undefined) over["top_k"] = f.topK;
  if (f.topP !== undefined) over["top_p"] = f.topP;
  if (f.minP !== undefined) over["min_p"] = f.minP;
  if (f.maxNewTokens !== undefined) over["max_new_tokens"] = f.maxNewTokens;
  else if (base.max_new_tokens === null && !("max_length" in base.toJSON())) over["max_new_tokens"] = defaultMaxNewTokens;
  if (f.minNewTokens !== undefined) over["min_new_tokens"] = f.minNewTokens;
  if (f.repetitionPenalty !== undefined) over["repetition_penalty"] = f.repetitionPenalty;
  if (f.frequencyPenalty !== undefined) over["frequency_penalty"] = f.frequencyPenalty;
  if (f.presencePenalty !== undefined) over["presence_penalty"] = f.presencePenalty;
  if (typeof f.repeatNgramSize === "string") {
    const n = Number(f.repeatNgramSize);
    if (!Number.isInteger(n) || n < 0) throw new Error("--no-repeat-ngram-size must be an integer >= 0");
    over["no_repeat_ngram_size"] = n;
  }
  if (f.numBeams !== undefined) over["num_beams"] = f.numBeams;
  if (f.lengthPenalty !== undefined) over["length_penalty"] = f.lengthPenalty;
  if (f.earlyStopping !== undefined) over["early_stopping"] = f.earlyStopping === "never" ? "never" : f.earlyStopping === "true";
  if (f.numReturnSequences !== undefined) over["num_return_sequences"] = f.numReturnSequences;
  if (f.stop !== undefined) {
    if (f.stop.some((s) => s === "")) throw new Error("--stop must not be empty");
    over["stop_strings"] = f.stop;
  }
  if (f.seed !== undefined) over["seed"] = f.seed;
  return base.with(over, "fields");
}

interface GenerateCliOptions extends GenerationFlags {
  model: string;
  stream?: boolean;
  json?: boolean;
  promptFile?: string;
  truncate?: boolean;
}

export interface GenerateJson {
  model: string;
  prompt: string;
  prompt_tokens: number;
  sequences: Array<{ text: string; token_ids: number[]; finish_reason: string; score?: number }>;
  timing: { load_ms: number; first_token_ms: number; total_ms: number; new_tokens: number; decode_tokens_per_s: number };
}

/** Runs one prompt; `onText` receives streamed text (one sequence, no beams). */
export function runGeneration(lm: LoadedModel, prompt: string, config: GenerationConfig, onText?: (t: string) => void, truncate = false): Omit<GenerateJson, "model" | "timing"> & { timing: Omit<GenerateJson["timing"], "load_ms"> } {
  return runIds(lm, prompt, encodePrompt(lm, prompt), config, onText, truncate);
}

/** runGeneration for prompt ids already encoded (chat renders and encodes without special tokens). */
export function runIds(lm: LoadedModel, prompt: string, ids: number[], config: GenerationConfig, onText?: (t: string) => void, truncate = false): Omit<GenerateJson, "model" | "timing"> & { timing: Omit<GenerateJson["timing"], "load_ms"> } {
  if (ids.length === 0) {
    const start = config.bos_token_id ?? config.eosTokenIds()[0];
    if (start === undefined || start === null) throw new Error("the prompt is empty and the model has no BOS token to start from");
    ids.push(start);
  }
  const ctx = lm.contextLength;
  if (ctx !== null) {
    const maxNew = config.maxLengthFor(ids.length) - ids.length;
    if (ids.length + maxNew > ctx) {
      if (!truncate || maxNew >= ctx) {
        throw new Error(`the prompt has ${ids.length} tokens and up to ${maxNew} new tokens are asked for, beyond the model's context of ${ctx} (shorten the prompt, lower --max-new-tokens, or pass --truncate to keep the prompt's last ${Math.max(0, ctx - maxNew)} tokens)`);
      }
      ids = ids.slice(ids.length - (ctx - maxNew));
    }
  }
  const t0 = performance.now();
  const d = startDecoding(lm, ids, config);
  const texts = onText ? new RowTexts(lm.tokenizer, d.rows.length, config.stop_strings) : null;
  let first = 0;
  while (!d.done) {
    const u = d.step();
    if (first === 0) first = performance.now();
    if (texts) {
      const t = texts.push(u.tokens, u.finished)[0];
      if (t) onText!(t);
    }
  }
  const end = performance.now();
  const out = d.result();
  const newTokens = out.newTokens.reduce((s, t) => s + t.length, 0);
  const decodeSteps = Math.max(...out.newTokens.map((t) => t.length)) - 1;
  return {
    prompt,
    prompt_tokens: ids.length,
    sequences: out.newTokens.map((t, i) => ({
      text: out.texts?.[i] ?? lm.tokenizer.decode(t, { skipSpecialTokens: true }),
      token_ids: t,
      finish_reason: out.finishReasons[i],
      ...(out.sequenceScores ? { score: out.sequenceScores[i] } : {}),
    })),
    timing: {
      first_token_ms: round(first - t0),
      total_ms: round(end - t0),
      new_tokens: newTokens,
      decode_tokens_per_s: decodeSteps > 0 && end > first ? round((decodeSteps * out.newTokens.length) / ((end - first) / 1000)) : 0,
    },
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

export function registerGenerate(program: Command): void {
  const cmd = program
    .command("generate")
    .description("generate text from a prompt with a model directory or a tslm run")
    .argument("[prompt]", "the prompt text (or --prompt-file)")
    .requiredOption("--model <dir>", "model directory (config.json, model.safetensors, tokenizer.json) or a tslm run directory (its latest checkpoint)")
    .option("--prompt-file <file>", "read the prompt from a file")
    .option("--stream", "print the text as it is generated")
    .option("--json", "print one JSON object: token ids, texts, finish reasons, timings")
    .option("--truncate", "keep the prompt's last tokens when prompt + new tokens exceed the context (default: an error)");
  addGenerationFlags(cmd);
  cmd.action((promptArg: string | undefined, o: GenerateCliOptions) => {
    if (promptArg !== undefined && o.promptFile) fail("give the prompt either as an argument or with --prompt-file, not both");
    let prompt: string;
    if (o.promptFile) {
      try {
        prompt = readFileSync(o.promptFile, "utf8");
      } catch (e) {
        fail(`cannot read --prompt-file: ${(e as Error).message}`);
      }
    } else if (promptArg !== undefined) prompt = promptArg;
    else fail('missing the prompt: tslm generate --model DIR "prompt"');
    if (o.stream && o.json) fail("--stream and --json cannot be combined (--json prints one object at the end)");
    if (o.stream && (o.numBeams ?? 1) > 1) fail("--stream cannot be used with --num-beams > 1 (beam search reorders its hypotheses every step; the text is only known at the end)");
    if (o.stream && (o.numReturnSequences ?? 1) > 1) fail("--stream prints one sequence; drop --num-return-sequences or --stream");
    const t0 = performance.now();
    let lm: LoadedModel;
    let config: GenerationConfig;
    try {
      lm = loadModel(o.model);
      config = configFromFlags(lm.generationConfig, o, 20);
    } catch (e) {
      fail((e as Error).message);
    }
    const loadMs = round(performance.now() - t0);
    if (o.stream && (config.num_beams > 1 || config.num_return_sequences > 1)) fail("--stream needs one sequence without beam search, but the model's generation_config.json sets num_beams / num_return_sequences; override with --num-beams 1 --num-return-sequences 1");
    let r: ReturnType<typeof runGeneration>;
    try {
      r = runGeneration(lm, prompt, config, o.stream ? (t) => process.stdout.write(t) : undefined, o.truncate);
    } catch (e) {
      if (o.stream) process.stdout.write("\n");
      fail((e as Error).message);
    }
    if (o.json) {
      const out: GenerateJson = { model: lm.dir, ...r, timing: { load_ms: loadMs, ...r.timing } };
      process.stdout.write(JSON.stringify(out) + "\n");
    } else if (o.stream) {
      process.stdout.write("\n");
    } else if (r.sequences.length === 1) {
      process.stdout.write(r.sequences[0].text + "\n");
    } else {
      r.sequences.forEach((s, i) => process.stdout.write(`--- sequence ${i + 1} (${s.finish_reason}${s.score !== undefined ? `, score ${s.score.toFixed(4)}` : ""}) ---\n${s.text}\n`));
    }
  });
}
