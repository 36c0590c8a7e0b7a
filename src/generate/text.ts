// Text in, text out: tokenize a prompt (or render a chat), run generate(), decode the result.
// This is what the CLI, the server and most library users call; generate() stays ids-only.
//
// Prompts are encoded with the tokenizer's special tokens (HF's text-generation pipeline does the
// same: LLaMA's post-processor adds BOS). Chats are rendered with the tokenizer_config.json chat
// template and encoded without special tokens, as HF's apply_chat_template(tokenize=True) does,
// because the template already writes them. Outputs are decoded without special tokens and cut at
// the first stop string.
import type { Tokenizer } from "../tokenizers/index.js";
import { ChatTemplate, type ChatMessage, type ChatTemplateOptions } from "../prompting/chat_template.js";
import { GenerationConfig, type GenerationOptions } from "./config.js";
import { generate, type CausalLM, type FinishReason, type GenerateOptions } from "./generate.js";
import { StopStringFilter, TextStreamer } from "./streamer.js";

export interface TextGenerateOptions extends Omit<GenerateOptions, "tokenizer" | "streamer" | "attentionMask"> {
  /** Called with each piece of completed text as it is generated (one prompt, no beam search). */
  onText?: (text: string) => void;
  /** Maximum prompt length in tokens; a longer prompt is an error, or is cut from the left with truncate. */
  maxPromptTokens?: number;
  /** Keep the last maxPromptTokens tokens of a longer prompt instead of failing. */
  truncate?: boolean;
}

export interface TextGenerateResult {
  /** Generated text per returned sequence (B * num_return_sequences), without the prompt. */
  texts: string[];
  /** Generated token ids per returned sequence. */
  tokens: number[][];
  finishReasons: FinishReason[];
  /** Prompt length in tokens per prompt. */
  promptTokens: number[];
  sequenceScores?: number[];
}

function eosFromTokenizer(tok: Tokenizer): number | null {
  const t = tok.config.eosToken;
  return t ? (tok.tokenToId(t) ?? null) : null;
}

/** Defaults a config's eos/pad ids from the tokenizer when the model's generation config has none. */
function withTokenizerIds(cfg: GenerationConfig, tok: Tokenizer): GenerationConfig {
  const extra: Record<string, unknown> = {};
  if (cfg.eos_token_id === null) {
    const eos = eosFromTokenizer(tok);
    if (eos !== null) extra["eos_token_id"] = eos;
  }
  if (cfg.pad_token_id === null && tok.config.padToken) {
    const pad = tok.tokenToId(tok.config.padToken);
    if (pad !== undefined) extra["pad_token_id"] = pad;
  }
  return Object.keys(extra).length > 0 ? cfg.with(extra, "fields") : cfg;
}

function checkLength(ids: number[], opts: TextGenerateOptions, i: number): number[] {
  const max = opts.maxPromptTokens;
  if (max === undefined || ids.length <= max) return ids;
  if (opts.truncate) return ids.slice(ids.length - max);
  throw new Error(`prompt ${i} has ${ids.length} tokens, more than the limit of ${max} (pass truncate to keep the last ${max})`);
}

function run(model: CausalLM, tok: Tokenizer, idsList: number[][], config: GenerationConfig | GenerationOptions, opts: TextGenerateOptions): TextGenerateResult {
  const cfg = withTokenizerIds(config instanceof GenerationConfig ? config : GenerationConfig.fromOptions(config), tok);
  const ids = idsList.map((r, i) => checkLength(r, opts, i));
  const { onText, maxPromptTokens: _m, truncate: _t, ...rest } = opts;
  let streamer: TextStreamer | undefined;
  let filter: StopStringFilter | null = null;
  if (onText) {
    // Stop strings must not leak into the stream: text that may begin one is held back.
    filter = cfg.stop_strings ? new StopStringFilter(cfg.stop_strings) : null;
    streamer = new TextStreamer(tok, {
      skipPrompt: true,
      onText: (t) => {
        const out = filter ? filter.push(t) : t;
        if (out) onText(out);
      },
    });
  }
  const out = generate(model, ids, cfg, { ...rest, tokenizer: tok, streamer });
  if (onText && filter) {
    const tail = filter.end();
    if (tail) onText(tail);
  }
  return {
    texts: out.texts ?? out.newTokens.map((t) => tok.decode(t, { skipSpecialTokens: true })),
    tokens: out.newTokens,
    finishReasons: out.finishReasons,
    promptTokens: ids.map((r) => r.length),
    sequenceScores: out.sequenceScores,
  };
}

/** Continues one prompt or several (left-padded as a batch). */
export function generateText(
  model: CausalLM,
  tokenizer: Tokenizer,
  prompt: string | string[],
  config: GenerationConfig | GenerationOptions = {},
  opts: TextGenerateOptions = {},
): TextGenerateResult {
  const prompts = typeof prompt === "string" ? [prompt] : prompt;
  return run(model, tokenizer, prompts.map((p) => tokenizer.encode(p).ids), config, opts);
}

/** Renders `messages` with the tokenizer's chat template (addGenerationPrompt on) and generates the reply. */
export function generateChat(
  model: CausalLM,
  tokenizer: Tokenizer,
  messages: ChatMessage[],
  config: GenerationConfig | GenerationOptions = {},
  opts: TextGenerateOptions & { template?: ChatTemplate; templateOptions?: ChatTemplateOptions } = {},
): TextGenerateResult & { prompt: string } {
  const raw = tokenizer.config.raw;
  let template = opts.template ?? null;
  if (!template && raw && raw["chat_template"] !== undefined) template = ChatTemplate.fromTokenizerConfig(raw);
  if (!template && tokenizer.config.chatTemplate) {
    // A template read from chat_template.jinja (no chat_template in the JSON): special tokens from the config.
    template = new ChatTemplate(tokenizer.config.chatTemplate, raw ? ChatTemplate.fromTokenizerConfig({ ...raw, chat_template: "x" }).specialTokens : {});
  }
  if (!template) throw new Error("generateChat: the tokenizer has no chat template (tokenizer_config.json chat_template or chat_template.jinja); pass opts.template");
  const { template: _tpl, templateOptions, ...rest } = opts;
  const prompt = template.render(messages, { addGenerationPrompt: true, ...templateOptions });
  const ids = tokenizer.encode(prompt, { addSpecialTokens: false }).ids;
  return { prompt, ...run(model, tokenizer, [ids], config, rest) };
}
