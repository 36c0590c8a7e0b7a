// The OpenAI-compatible endpoints over one loaded model: request validation, the mapping to
// src/generate (configFromOpenAI, Decoding) and the response and stream chunk shapes of
// https://platform.openai.com/docs/api-reference (chat/create, completions/create,
// embeddings/create, models/list).
//
// Field policy: a field tslm implements is used; a field OpenAI accepts that tslm does not
// implement is accepted only at its "off" value (logprobs false, tools absent or empty,
// response_format text, ...) and is a 400 naming it otherwise; a field OpenAI does not know is a
// 400 too ("Unrecognized request argument supplied"), as OpenAI answers. Nothing is silently
// ignored except pure metadata (user, metadata, store: false).
//
// Limits (ServeLimits): request body bytes (413), prompt tokens and prompt + max_tokens against
// the model's context (400, code context_length_exceeded), n choices, prompts per request, inputs
// per embeddings request, and the scheduler's slots and queue (429).
import { randomUUID } from "node:crypto";
import { OPENAI_SAMPLING_FIELDS, OpenAIParamError, configFromOpenAI, type FinishReason, type GenerationConfig } from "../generate/index.js";
import type { ChatMessage } from "../prompting/index.js";
import { ApiError, badRequest } from "./errors.js";
import { RowTexts, embed, encodePrompt, startDecoding, type LoadedModel } from "./model.js";
import { BatchMember, type BatchableLM } from "./batch.js";
import type { Scheduler, Task } from "./scheduler.js";

export interface ServeLimits {
  /** Largest request body in bytes (default 1 MiB). */
  maxBodyBytes: number;
  /** Longest prompt in tokens (default: the model's context, else 4096). */
  maxPromptTokens: number;
  /** max_tokens when a chat request sets none (bounded by the context left; default 256). */
  defaultMaxTokens: number;
  /** Largest n (default 8). */
  maxN: number;
  /** Most prompts in one /v1/completions request (default 16). */
  maxPrompts: number;
  /** Most inputs in one /v1/embeddings request (default 256). */
  maxEmbeddingInputs: number;
}

export function defaultLimits(lm: LoadedModel, over: Partial<ServeLimits> = {}): ServeLimits {
  return {
    maxBodyBytes: 1 << 20,
    maxPromptTokens: lm.contextLength ?? 4096,
    defaultMaxTokens: 256,
    maxN: 8,
    maxPrompts: 16,
    maxEmbeddingInputs: 256,
    ...over,
  };
}

/** Fields that must be absent or hold one of these values (OpenAI features tslm does not implement). */
const OFF_VALUES: Record<string, unknown[]> = {
  logprobs: [null, false],
  top_logprobs: [null, 0],
  tools: [null, []],
  tool_choice: [null, "none"],
  parallel_tool_calls: [null],
  functions: [null, []],
  function_call: [null, "none"],
  response_format: [null, { type: "text" }],
  store: [null, false],
  service_tier: [null, "auto", "default"],
  modalities: [null, ["text"]],
  audio: [null],
  prediction: [null],
  reasoning_effort: [null],
  web_search_options: [null],
  suffix: [null, ""],
  best_of: [null, 1],
  echo: [null, false],
};
const METADATA = ["user", "metadata"];
// truncate_prompt_tokens is vLLM's extension: keep only the last k prompt tokens.
const CHAT_FIELDS = new Set(["model", "messages", "stream", "stream_options", "truncate_prompt_tokens", ...METADATA, ...OPENAI_SAMPLING_FIELDS]);
const COMPLETION_FIELDS = new Set(["model", "prompt", "stream", "stream_options", "truncate_prompt_tokens", ...METADATA, ...OPENAI_SAMPLING_FIELDS]);
const CHAT_OFF = ["logprobs", "top_logprobs", "tools", "tool_choice", "parallel_tool_calls", "functions", "function_call", "response_format", "store", "service_tier", "modalities", "audio", "prediction", "reasoning_effort", "web_search_options"];
const COMPLETION_OFF = ["logprobs", "suffix", "best_of", "echo"];

function sameJSON(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Checks every field name of a request body against the endpoint's policy (see the header). */
function checkFields(body: Record<string, unknown>, allowed: Set<string>, off: string[]): void {
  for (const [k, v] of Object.entries(body)) {
    if (allowed.has(k)) continue;
    if (off.includes(k)) {
      if (v === undefined || OFF_VALUES[k].some((o) => sameJSON(o, v))) continue;
      throw badRequest(`'${k}' is not supported by this server (tslm): it accepts only ${OFF_VALUES[k].map((o) => JSON.stringify(o)).join(" or ")}, got ${JSON.stringify(v)?.slice(0, 200)}.`, k, "unsupported_parameter");
    }
    throw badRequest(`Unrecognized request argument supplied: ${k.slice(0, 200)}`, k.slice(0, 200), "unknown_parameter");
  }
}

function checkModel(body: Record<string, unknown>, lm: LoadedModel): void {
  const m = body["model"];
  if (m === undefined || m === null) throw badRequest("you must provide a model parameter", "model", "missing_required_parameter");
  if (typeof m !== "string") throw badRequest(`Invalid type for 'model': expected a string, got ${typeof m}.`, "model", "invalid_type");
  if (m !== lm.id) throw new ApiError(404, `The model \`${m.slice(0, 200)}\` does not exist (this server serves \`${lm.id}\`).`, "invalid_request_error", "model", "model_not_found");
}

interface StreamFlags {
  stream: boolean;
  includeUsage: boolean;
}

function streamFlags(body: Record<string, unknown>): StreamFlags {
  const s = body["stream"];
  if (s !== undefined && s !== null && typeof s !== "boolean") throw badRequest(`Invalid type for 'stream': expected a boolean, got ${JSON.stringify(s)?.slice(0, 100)}.`, "stream", "invalid_type");
  const stream = s === true;
  const so = body["stream_options"];
  let includeUsage = false;
  if (so !== undefined && so !== null) {
    if (!stream) throw badRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options", "invalid_value");
    if (!isObject(so)) throw badRequest("Invalid type for 'stream_options': expected an object.", "stream_options", "invalid_type");
    for (const [k, v] of Object.entries(so)) {
      if (k === "include_usage") {
        if (typeof v !== "boolean") throw badRequest("Invalid type for 'stream_options.include_usage': expected a boolean.", "stream_options.include_usage", "invalid_type");
        includeUsage = v;
      } else if (!(k === "include_obfuscation" && v === false)) {
        throw badRequest(`Unrecognized stream_options argument: ${k.slice(0, 100)}`, `stream_options.${k.slice(0, 100)}`, "unknown_parameter");
      }
    }
  }
  return { stream, includeUsage };
}

/** Messages as the chat template expects them; only text content (strings or text parts). */
function checkMessages(v: unknown): ChatMessage[] {
  if (!Array.isArray(v)) throw badRequest("Invalid type for 'messages': expected an array of message objects.", "messages", "invalid_type");
  if (v.length === 0) throw badRequest("'messages' must contain at least one message.", "messages", "empty_array");
  return v.map((m, i) => {
    const p = `messages[${i}]`;
    if (!isObject(m)) throw badRequest(`Invalid type for '${p}': expected an object.`, p, "invalid_type");
    for (const k of Object.keys(m)) {
      if (!["role", "content", "name"].includes(k)) throw badRequest(`'${p}.${k.slice(0, 100)}' is not supported by this server (text messages only: role, content, name).`, `${p}.${k.slice(0, 100)}`, "unsupported_parameter");
    }
    const role = m["role"];
    if (typeof role !== "string" || !["system", "developer", "user", "assistant"].includes(role)) {
      throw badRequest(`Invalid value for '${p}.role': expected one of system, developer, user, assistant, got ${JSON.stringify(role)?.slice(0, 100)}.`, `${p}.role`, "invalid_value");
    }
    const c = m["content"];
    let content: string;
    if (typeof c === "string") content = c;
    else if (Array.isArray(c)) {
      content = c
        .map((part, j) => {
          const pp = `${p}.content[${j}]`;
          if (!isObject(part) || part["type"] !== "text" || typeof part["text"] !== "string") throw badRequest(`'${pp}' must be a text part {"type": "text", "text": "..."} (this server handles text only).`, pp, "invalid_value");
          return part["text"];
        })
        .join("");
    } else throw badRequest(`Invalid type for '${p}.content': expected a string or an array of text parts.`, `${p}.content`, "invalid_type");
    const name = m["name"];
    if (name !== undefined && typeof name !== "string") throw badRequest(`Invalid type for '${p}.name': expected a string.`, `${p}.name`, "invalid_type");
    // developer is OpenAI's newer name for system; templates know system.
    return { role: role === "developer" ? "system" : role, content };
  });
}

export interface Choice {
  index: number;
  text: string;
  finishReason: FinishReason;
  tokens: number;
}

/** What one generation request resolved to, for the response and the usage block. */
export interface Generated {
  choices: Choice[];
  promptTokens: number;
  completionTokens: number;
}

/** Events of a streaming request: text per choice index, then each choice's finish. */
export interface StreamSink {
  text(index: number, text: string): void;
  finish(index: number, reason: FinishReason): void;
}

const VALID_BIAS = /^(0|[1-9][0-9]*)$/;

export class OpenAIService {
  constructor(
    readonly lm: LoadedModel,
    readonly scheduler: Scheduler,
    readonly limits: ServeLimits,
    /** Continuous batching for decoder-only requests (the scheduler must have a batch). */
    readonly batching = false,
  ) {}

  /** Token ids the model's embedding accepts (config vocab_size; the tokenizer's size otherwise). */
  private vocab(): number {
    const v = (this.lm.model.config as Record<string, unknown>)["vocab_size"];
    return typeof v === "number" ? v : this.lm.tokenizer.vocabSize;
  }

  models(): unknown {
    return { object: "list", data: [this.modelCard()] };
  }

  modelCard(): unknown {
    return { id: this.lm.id, object: "model", created: this.lm.created, owned_by: "tslm" };
  }

  model(id: string): unknown {
    if (id !== this.lm.id) throw new ApiError(404, `The model \`${id.slice(0, 200)}\` does not exist`, "invalid_request_error", "model", "model_not_found");
    return this.modelCard();
  }

  /** The prompt's token ids with the limit checks; `param` names the field in errors. */
  /** vLLM's truncate_prompt_tokens: the last k tokens of a longer prompt (left truncation). */
  private truncate(ids: number[], body: Record<string, unknown>): number[] {
    const k = body["truncate_prompt_tokens"];
    if (k === undefined || k === null) return ids;
    if (typeof k !== "number" || !Number.isInteger(k) || k < 1) {
      throw badRequest(`Invalid value for 'truncate_prompt_tokens': expected an integer >= 1, got ${JSON.stringify(k)?.slice(0, 50)}.`, "truncate_prompt_tokens", "invalid_value");
    }
    return ids.length > k ? ids.slice(ids.length - k) : ids;
  }

  private checkPrompt(ids: number[], param: string): number[] {
    if (ids.length === 0) {
      // An empty prompt starts from BOS (or EOS, GPT-2's document separator), as OpenAI's models do.
      const start = this.lm.generationConfig.bos_token_id ?? this.lm.generationConfig.eosTokenIds()[0];
      if (start === undefined || start === null) throw badRequest(`'${param}' is empty and the model has no BOS token to start from.`, param, "invalid_value");
      return [start];
    }
    if (ids.length > this.limits.maxPromptTokens) {
      throw badRequest(`This model's maximum context length is ${this.limits.maxPromptTokens} tokens, but the prompt has ${ids.length} tokens.`, param, "context_length_exceeded");
    }
    return ids;
  }

  /** configFromOpenAI plus the server's checks: n, logit_bias ids, and the context budget. */
  private config(body: Record<string, unknown>, promptTokens: number, defaultMax: number): { config: GenerationConfig; n: number } {
    const promptParam = body["messages"] !== undefined ? "messages" : "prompt";
    const ctx = this.lm.contextLength;
    const room = ctx === null ? Infinity : ctx - promptTokens;
    if (room < 1) throw badRequest(`This model's maximum context length is ${ctx} tokens, and the prompt has ${promptTokens}: no room for a completion.`, promptParam, "context_length_exceeded");
    const lb = body["logit_bias"];
    if (isObject(lb)) {
      const V = this.vocab();
      for (const k of Object.keys(lb)) {
        if (!VALID_BIAS.test(k) || Number(k) >= V) throw badRequest(`Invalid key in 'logit_bias': ${JSON.stringify(k.slice(0, 50))} is not a token id of this model (0..${V - 1}).`, "logit_bias", "invalid_value");
      }
    }
    let r: { config: GenerationConfig; n: number };
    try {
      r = configFromOpenAI(body, this.lm.generationConfig, { defaultMaxTokens: Math.min(defaultMax, room) });
    } catch (e) {
      if (e instanceof OpenAIParamError) throw badRequest(e.message, e.param, "invalid_value");
      throw badRequest((e as Error).message);
    }
    if (r.n > this.limits.maxN) throw badRequest(`Invalid value for 'n': this server returns at most ${this.limits.maxN} choices, got ${r.n}.`, "n", "invalid_value");
    const maxNew = r.config.max_new_tokens ?? 0;
    if (maxNew > room) {
      throw badRequest(
        `This model's maximum context length is ${ctx} tokens. However, you requested ${promptTokens + maxNew} tokens (${promptTokens} in the prompt, ${maxNew} for the completion). Please reduce the prompt or max_tokens.`,
        body["max_completion_tokens"] !== undefined ? "max_completion_tokens" : "max_tokens",
        "context_length_exceeded",
      );
    }
    return r;
  }

  /**
   * Runs one prompt through the scheduler. Greedy requests with n > 1 decode once and repeat the
   * choice (configFromOpenAI's contract). Choice indexes start at `base`.
   */
  private async generateOne(ids: number[], config: GenerationConfig, n: number, base: number, sink: StreamSink | null, signal: AbortSignal): Promise<Choice[]> {
    let decoding: Task;
    try {
      // Decoder-only sampling / greedy joins the continuous batch; the rest steps alone.
      decoding = this.batching && config.num_beams === 1 ? new BatchMember(this.lm.model as unknown as BatchableLM, ids, config, this.lm.tokenizer) : startDecoding(this.lm, ids, config);
    } catch (e) {
      throw badRequest((e as Error).message);
    }
    const rows = decoding instanceof BatchMember ? decoding.rows : decoding.rows.length;
    // Greedy: one sequence stands for n identical choices. Beam search (a model whose
    // generation_config.json sets num_beams; never streamed) returns num_return_sequences.
    const returned = config.num_beams > 1 ? config.num_return_sequences : rows;
    const repeat = returned === 1 ? n : 1;
    const texts = new RowTexts(this.lm.tokenizer, rows, config.stop_strings);
    const out = await this.scheduler.run(
      decoding,
      (u) => {
        if (!sink) return;
        const pieces = texts.push(u.tokens, u.finished);
        pieces.forEach((t, r) => {
          if (t) for (let k = 0; k < repeat; k++) sink.text(base + r * repeat + k, t);
        });
      },
      signal,
    );
    // Finish reasons are known once the decoding resolves (the last row's step resolves it at once).
    if (sink) out.finishReasons.forEach((reason, r) => {
      for (let k = 0; k < repeat; k++) sink.finish(base + r * repeat + k, reason);
    });
    const choices: Choice[] = [];
    out.newTokens.forEach((toks, r) => {
      const text = out.texts?.[r] ?? this.lm.tokenizer.decode(toks, { skipSpecialTokens: true });
      for (let k = 0; k < repeat; k++) choices.push({ index: base + r * repeat + k, text, finishReason: out.finishReasons[r], tokens: toks.length });
    });
    return choices;
  }

  private async run(prompts: number[][], body: Record<string, unknown>, defaultMax: number, sink: StreamSink | null, signal: AbortSignal): Promise<Generated> {
    // Validate every prompt's config before anything starts, so a bad request costs no compute.
    const plans = prompts.map((ids) => ({ ids, ...this.config(body, ids.length, defaultMax) }));
    // One prompt failing (e.g. 429 for a later one) cancels the request's other prompts.
    const ac = new AbortController();
    const relay = () => ac.abort();
    signal.addEventListener("abort", relay, { once: true });
    let results: Choice[][];
    try {
      results = await Promise.all(
        plans.map((p, i) =>
          this.generateOne(p.ids, p.config, p.n, i * p.n, sink, ac.signal).catch((e) => {
            ac.abort();
            throw e;
          }),
        ),
      );
    } finally {
      signal.removeEventListener("abort", relay);
    }
    const choices = results.flat().sort((a, b) => a.index - b.index);
    const promptTokens = prompts.reduce((s, p) => s + p.length, 0);
    return { choices, promptTokens, completionTokens: choices.reduce((s, c) => s + c.tokens, 0) };
  }

  /** Beam search (from the model's generation_config.json) cannot stream: its hypotheses change every step. */
  private noBeamStream(config: GenerationConfig, flags: StreamFlags): void {
    if (flags.stream && config.num_beams > 1) {
      throw badRequest(`The model's generation_config.json sets num_beams=${config.num_beams} (beam search), whose text is only known at the end; send "stream": false.`, "stream", "unsupported_parameter");
    }
  }

  /** Validates a chat request; returns the prompt ids and a runner. */
  prepareChat(body: Record<string, unknown>): { flags: StreamFlags; ids: number[]; run: (sink: StreamSink | null, signal: AbortSignal) => Promise<Generated> } {
    checkFields(body, CHAT_FIELDS, CHAT_OFF);
    checkModel(body, this.lm);
    const flags = streamFlags(body);
    const messages = checkMessages(body["messages"]);
    const tpl = this.lm.chatTemplate;
    if (!tpl) throw badRequest(`The model \`${this.lm.id}\` has no chat template (tokenizer_config.json chat_template); use /v1/completions, or start tslm serve with --template FILE.`, "messages", "no_chat_template");
    let prompt: string;
    try {
      prompt = tpl.render(messages, { addGenerationPrompt: true });
    } catch (e) {
      throw badRequest(`the chat template rejected the messages: ${(e as Error).message}`, "messages", "invalid_value");
    }
    const ids = this.checkPrompt(this.truncate(encodePrompt(this.lm, prompt, { chat: true }), body), "messages");
    // Validate sampling fields now (before a stream's 200 header goes out).
    this.noBeamStream(this.config(body, ids.length, this.limits.defaultMaxTokens).config, flags);
    return { flags, ids, run: (sink, signal) => this.run([ids], body, this.limits.defaultMaxTokens, sink, signal) };
  }

  /** Validates a completions request. */
  prepareCompletion(body: Record<string, unknown>): { flags: StreamFlags; prompts: number[][]; run: (sink: StreamSink | null, signal: AbortSignal) => Promise<Generated> } {
    checkFields(body, COMPLETION_FIELDS, COMPLETION_OFF);
    checkModel(body, this.lm);
    const flags = streamFlags(body);
    const prompts = this.inputs(body["prompt"], "prompt", this.limits.maxPrompts, true).map((ids) => this.checkPrompt(this.truncate(ids, body), "prompt"));
    for (const ids of prompts) this.noBeamStream(this.config(body, ids.length, 16).config, flags);
    // OpenAI's default max_tokens for completions is 16.
    return { flags, prompts, run: (sink, signal) => this.run(prompts, body, 16, sink, signal) };
  }

  /**
   * A string, a list of strings, a list of token ids, or a list of lists of token ids (OpenAI's
   * prompt / input forms) as token id lists.
   */
  private inputs(v: unknown, param: string, max: number, allowEmpty: boolean): number[][] {
    const V = this.vocab();
    const bad = (): never => {
      throw badRequest(`Invalid type for '${param}': expected a string, an array of strings, an array of token ids or an array of arrays of token ids.`, param, "invalid_type");
    };
    const tokenIds = (a: unknown[], p: string): number[] => {
      a.forEach((x, i) => {
        if (typeof x !== "number" || !Number.isInteger(x) || x < 0 || x >= V) throw badRequest(`Invalid value for '${p}[${i}]': expected a token id in [0, ${V - 1}], got ${JSON.stringify(x)?.slice(0, 50)}.`, p, "invalid_value");
      });
      return a as number[];
    };
    const text = (s: string) => encodePrompt(this.lm, s);
    let list: number[][];
    if (typeof v === "string") list = [text(v)];
    else if (Array.isArray(v)) {
      if (v.length === 0) throw badRequest(`'${param}' must not be an empty array.`, param, "empty_array");
      if (v.every((x) => typeof x === "number")) list = [tokenIds(v, param)];
      else if (v.every((x) => typeof x === "string")) {
        if (v.length > max) throw badRequest(`'${param}' has ${v.length} entries; this server accepts at most ${max} per request.`, param, "too_many_inputs");
        list = (v as string[]).map(text);
      } else if (v.every((x) => Array.isArray(x))) {
        if (v.length > max) throw badRequest(`'${param}' has ${v.length} entries; this server accepts at most ${max} per request.`, param, "too_many_inputs");
        list = (v as unknown[][]).map((a, i) => tokenIds(a, `${param}[${i}]`));
      } else bad();
    } else if (v === undefined || v === null) throw badRequest(`you must provide a '${param}' parameter`, param, "missing_required_parameter");
    else bad();
    if (!allowEmpty && list!.some((ids) => ids.length === 0)) throw badRequest(`'${param}' must not contain empty inputs.`, param, "invalid_value");
    return list!;
  }

  /** /v1/embeddings: see embed() for the pooling. Runs between scheduler steps, one input at a time. */
  async embeddings(body: Record<string, unknown>): Promise<unknown> {
    checkFields(body, new Set(["model", "input", "encoding_format", "dimensions", ...METADATA]), []);
    checkModel(body, this.lm);
    const fmt = body["encoding_format"] ?? "float";
    if (fmt !== "float" && fmt !== "base64") throw badRequest(`Invalid value for 'encoding_format': expected "float" or "base64", got ${JSON.stringify(fmt)?.slice(0, 50)}.`, "encoding_format", "invalid_value");
    const dims = body["dimensions"];
    if (dims !== undefined && dims !== null && dims !== this.lm.hiddenSize) {
      throw badRequest(`Invalid value for 'dimensions': this model's embeddings have ${this.lm.hiddenSize} dimensions and cannot be shortened, got ${JSON.stringify(dims)?.slice(0, 50)}.`, "dimensions", "invalid_value");
    }
    const inputs = this.inputs(body["input"], "input", this.limits.maxEmbeddingInputs, false).map((ids) => {
      if (ids.length > this.limits.maxPromptTokens) throw badRequest(`This model's maximum context length is ${this.limits.maxPromptTokens} tokens, but an input has ${ids.length} tokens.`, "input", "context_length_exceeded");
      return ids;
    });
    const data: unknown[] = [];
    let tokens = 0;
    for (let i = 0; i < inputs.length; i++) {
      const v = embed(this.lm, inputs[i]);
      tokens += inputs[i].length;
      const embedding = fmt === "float" ? Array.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
      data.push({ object: "embedding", index: i, embedding });
      // Let generation steps and other requests run between inputs.
      await new Promise<void>((r) => setImmediate(r));
    }
    return { object: "list", data, model: this.lm.id, usage: { prompt_tokens: tokens, total_tokens: tokens } };
  }
}

export function newId(prefix: string): string {
  return `${prefix}-${randomUUID().replace(/-/g, "").slice(0, 24)}`;
}
