// OpenAI request fields -> GenerationConfig, for `tslm serve` (/v1/completions, /v1/chat/completions)
// and anything else that speaks OpenAI's sampling parameters.
//
// Mapping (https://platform.openai.com/docs/api-reference/chat/create):
//   max_tokens / max_completion_tokens -> max_new_tokens      n -> num_return_sequences
//   temperature (0 = greedy)           -> do_sample, temperature
//   top_p, presence_penalty, frequency_penalty, logit_bias, seed -> same names
//   stop (a string or up to 4)         -> stop_strings
// Extensions accepted by vLLM and llama.cpp servers: top_k, min_p, repetition_penalty.
// OpenAI samples without a top-k cut, so HF's implicit top_k = 50 is switched off; a top_k set
// explicitly in the model's generation_config.json (or in the request) still applies, as in vLLM.
// Invalid values raise OpenAIParamError naming the parameter, for a 400 response with OpenAI's
// error body ({"error": {"message", "type": "invalid_request_error", "param", "code"}}).
import { GenerationConfig } from "./config.js";

export class OpenAIParamError extends Error {
  constructor(readonly param: string, message: string) {
    super(message);
    this.name = "OpenAIParamError";
  }
  /** OpenAI's error body for this error. */
  toBody(): { error: { message: string; type: string; param: string; code: null } } {
    return { error: { message: this.message, type: "invalid_request_error", param: this.param, code: null } };
  }
}

/** The request fields this mapping reads; a server handles the rest (model, messages, stream, ...). */
export const OPENAI_SAMPLING_FIELDS = [
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "n",
  "stop",
  "presence_penalty",
  "frequency_penalty",
  "logit_bias",
  "seed",
  "top_k",
  "min_p",
  "repetition_penalty",
] as const;

function num(body: Record<string, unknown>, key: string, lo: number, hi: number, opts: { int?: boolean; loOpen?: boolean } = {}): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  const inRange = typeof v === "number" && (opts.loOpen ? v > lo : v >= lo) && v <= hi;
  if (typeof v !== "number" || !Number.isFinite(v) || !inRange || (opts.int && !Number.isInteger(v))) {
    const range = `${opts.loOpen ? "(" : "["}${lo}, ${hi === Infinity ? "inf" : hi}]`;
    throw new OpenAIParamError(key, `Invalid value for '${key}': expected ${opts.int ? "an integer" : "a number"} in ${range}, got ${JSON.stringify(v)}.`);
  }
  return v;
}

/**
 * A GenerationConfig for an OpenAI-style request, on top of `base` (the model's generation
 * config). `defaultMaxTokens` applies when the request sets no max_tokens. `n` is the number of
 * choices to return: the config generates n sequences when sampling, one when greedy (repeat it).
 */
export function configFromOpenAI(
  body: Record<string, unknown>,
  base: GenerationConfig = new GenerationConfig(),
  opts: { defaultMaxTokens?: number } = {},
): { config: GenerationConfig; n: number } {
  const f: Record<string, unknown> = { ...base.toJSON() };
  const maxTokens = num(body, "max_completion_tokens", 1, Infinity, { int: true }) ?? num(body, "max_tokens", 1, Infinity, { int: true }) ?? opts.defaultMaxTokens;
  if (maxTokens !== undefined) {
    f["max_new_tokens"] = maxTokens;
    delete f["max_length"];
  }
  // The effective temperature decides between sampling and greedy (0 is OpenAI's greedy), as in
  // vLLM: the request's, else the model config's explicit one, else OpenAI's default 1.
  const temperature = num(body, "temperature", 0, 2) ?? (typeof f["temperature"] === "number" ? (f["temperature"] as number) : 1);
  f["do_sample"] = temperature > 0;
  if (temperature > 0) f["temperature"] = temperature;
  else delete f["temperature"];
  const topP = num(body, "top_p", 0, 1, { loOpen: true });
  if (topP !== undefined) f["top_p"] = topP;
  const topK = num(body, "top_k", -1, Infinity, { int: true });
  if (topK !== undefined) f["top_k"] = topK === -1 ? 0 : topK; // vLLM: -1 = off
  else if (f["top_k"] === undefined) f["top_k"] = 0;
  const minP = num(body, "min_p", 0, 1);
  if (minP !== undefined) f["min_p"] = minP;
  const rep = num(body, "repetition_penalty", 0, Infinity, { loOpen: true });
  if (rep !== undefined) f["repetition_penalty"] = rep;
  for (const k of ["presence_penalty", "frequency_penalty"] as const) {
    const v = num(body, k, -2, 2);
    if (v !== undefined) f[k] = v;
  }
  const n = num(body, "n", 1, 128, { int: true }) ?? 1;
  // Greedy decoding gives n identical choices: generate one and repeat it (HF refuses
  // num_return_sequences > 1 without sampling).
  f["num_return_sequences"] = f["do_sample"] === true ? n : 1;
  const seed = body["seed"];
  if (seed !== undefined && seed !== null) {
    if (typeof seed !== "number" || !Number.isSafeInteger(seed)) throw new OpenAIParamError("seed", `Invalid value for 'seed': expected an integer, got ${JSON.stringify(seed)}.`);
    f["seed"] = seed;
  }
  const stop = body["stop"];
  if (stop !== undefined && stop !== null) {
    const list = typeof stop === "string" ? [stop] : stop;
    if (!Array.isArray(list) || list.length > 4 || list.some((s) => typeof s !== "string" || s === "")) {
      throw new OpenAIParamError("stop", `Invalid value for 'stop': expected a non-empty string or a list of up to 4 non-empty strings, got ${JSON.stringify(stop)}.`);
    }
    if (list.length > 0) f["stop_strings"] = list;
  }
  const lb = body["logit_bias"];
  if (lb !== undefined && lb !== null) f["logit_bias"] = lb;
  try {
    return { config: new GenerationConfig(f, "request"), n };
  } catch (e) {
    const msg = (e as Error).message.replace(/^request: /, "");
    const field = /^([a-z_]+)/.exec(msg)?.[1] ?? "";
    const param = field === "max_new_tokens" ? "max_tokens" : field === "num_return_sequences" ? "n" : field === "stop_strings" ? "stop" : field;
    throw new OpenAIParamError(param, msg);
  }
}
