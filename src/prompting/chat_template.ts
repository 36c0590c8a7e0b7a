// Chat templates: render a conversation into the prompt text a chat model was trained on, from the
// Jinja template in its tokenizer_config.json, as Hugging Face's `apply_chat_template` does.
//
// Reference: transformers.utils.chat_template_utils.render_jinja_template and
// PreTrainedTokenizerBase.apply_chat_template (transformers 5.x). Rendering uses @huggingface/jinja,
// the JavaScript Jinja subset written for chat templates (trim_blocks and lstrip_blocks on, as
// HF's environment). The variables are HF's: `messages`, `tools`, `documents`,
// `add_generation_prompt`, the named special tokens (`bos_token`, `eos_token`, `unk_token`,
// `sep_token`, `pad_token`, `cls_token`, `mask_token`, when set), then any extra template kwargs
// (e.g. Qwen3's `enable_thinking`), which override special tokens of the same name. The template's
// `raise_exception(msg)` throws a ChatTemplateError carrying msg, like jinja2's TemplateError.
// `continueFinalMessage` leaves the last message open for the model to continue (HF's tag trick).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Environment, Interpreter, Template, parse, tokenize } from "@huggingface/jinja";

/** One chat message; content may be a string or HF's list of typed blocks ({type: "text", text}). */
export interface ChatMessage {
  role: string;
  content?: string | Array<Record<string, unknown>> | null;
  [key: string]: unknown;
}

export interface ChatTemplateOptions {
  /** Append the header that starts the assistant's turn (HF add_generation_prompt). */
  addGenerationPrompt?: boolean;
  /** Tool JSON schemas (HF tools); left undefined in the template when not given. */
  tools?: Array<Record<string, unknown>> | null;
  /** Retrieval documents (HF documents): dicts, usually {title, text}. */
  documents?: Array<Record<string, unknown>> | null;
  /** End the prompt inside the final message so the model continues it (HF continue_final_message). */
  continueFinalMessage?: boolean;
  /** Extra template variables (HF's **kwargs), e.g. { enable_thinking: false }. */
  extra?: Record<string, unknown>;
}

/** The special tokens a template may read (strings from tokenizer_config.json). */
export interface SpecialTokens {
  bos_token?: string | null;
  eos_token?: string | null;
  unk_token?: string | null;
  sep_token?: string | null;
  pad_token?: string | null;
  cls_token?: string | null;
  mask_token?: string | null;
}

/** Thrown by a template's raise_exception(...) and for misuse; the message is the template's. */
export class ChatTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChatTemplateError";
  }
}

const SPECIAL_NAMES = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"] as const;
const CONTINUE_TAG = "CONTINUE_FINAL_MESSAGE_TAG ";

/** A compiled chat template plus the special tokens it may use. */
export class ChatTemplate {
  private readonly compiled: Template;
  readonly specialTokens: SpecialTokens;

  constructor(readonly source: string, specialTokens: SpecialTokens = {}) {
    if (typeof source !== "string" || source.length === 0) throw new ChatTemplateError("the chat template is empty");
    patchStripWithChars();
    try {
      this.compiled = new Template(source);
    } catch (e) {
      throw new ChatTemplateError(`the chat template does not parse: ${(e as Error).message}`);
    }
    this.specialTokens = { ...specialTokens };
  }

  /**
   * Builds a template from a parsed tokenizer_config.json: `chat_template` is a string or HF's list
   * of named templates ({name, template}); `name` picks one ("default" otherwise).
   */
  static fromTokenizerConfig(config: Record<string, unknown>, name?: string): ChatTemplate {
    const ct = config["chat_template"];
    let source: string | undefined;
    if (typeof ct === "string") {
      if (name !== undefined && name !== "default") throw new ChatTemplateError(`tokenizer_config.json has a single chat template, not one named "${name}"`);
      source = ct;
    } else if (Array.isArray(ct)) {
      const want = name ?? "default";
      const found = ct.find((t) => t && typeof t === "object" && (t as Record<string, unknown>)["name"] === want) as Record<string, unknown> | undefined;
      if (!found || typeof found["template"] !== "string") {
        const names = ct.map((t) => (t as Record<string, unknown>)?.["name"]).join(", ");
        throw new ChatTemplateError(`no chat template named "${want}" in tokenizer_config.json (it has: ${names})`);
      }
      source = found["template"] as string;
    }
    if (source === undefined) throw new ChatTemplateError("tokenizer_config.json has no chat_template; pass one explicitly");
    const special: SpecialTokens = {};
    for (const k of SPECIAL_NAMES) {
      const v = tokenString(config[k]);
      if (v !== null) special[k] = v;
    }
    return new ChatTemplate(source, special);
  }

  /**
   * The chat template of a Hugging Face model directory: chat_template.jinja when present (where
   * transformers >= 4.43 saves it), else tokenizer_config.json's chat_template; the special tokens
   * come from tokenizer_config.json.
   */
  static fromDirectory(dir: string, name?: string): ChatTemplate {
    const cfgPath = join(dir, "tokenizer_config.json");
    let config: Record<string, unknown> = {};
    if (existsSync(cfgPath)) {
      try {
        config = JSON.parse(readFileSync(cfgPath, "utf8")) as Record<string, unknown>;
      } catch (e) {
        throw new ChatTemplateError(`${cfgPath}: ${(e as Error).message}`);
      }
    }
    const jinjaPath = join(dir, "chat_template.jinja");
    if (existsSync(jinjaPath) && (name === undefined || name === "default")) {
      const special = ChatTemplate.fromTokenizerConfig({ ...config, chat_template: "x" }).specialTokens;
      return new ChatTemplate(readFileSync(jinjaPath, "utf8"), special);
    }
    if (!existsSync(cfgPath)) throw new ChatTemplateError(`${dir}: no chat_template.jinja and no tokenizer_config.json`);
    try {
      return ChatTemplate.fromTokenizerConfig(config, name);
    } catch (e) {
      throw new ChatTemplateError(`${cfgPath}: ${(e as Error).message}`);
    }
  }

  /** Renders a conversation to prompt text (HF apply_chat_template with tokenize=False). */
  render(messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): string {
    if (!Array.isArray(messages)) throw new ChatTemplateError("messages must be a list of {role, content} objects");
    messages.forEach((m, i) => {
      if (m === null || typeof m !== "object" || typeof m.role !== "string") throw new ChatTemplateError(`messages[${i}] must be an object with a string "role"`);
    });
    if (opts.continueFinalMessage && opts.addGenerationPrompt) {
      throw new ChatTemplateError("continueFinalMessage and addGenerationPrompt cannot both be set: the first continues the last message, the second starts a new one");
    }
    let chat: ChatMessage[] = messages as ChatMessage[];
    let finalText = "";
    if (opts.continueFinalMessage) {
      if (messages.length === 0) throw new ChatTemplateError("continueFinalMessage needs at least one message");
      chat = structuredClone(messages) as ChatMessage[];
      const last = chat[chat.length - 1];
      if (last.content == null) throw new ChatTemplateError('continueFinalMessage is set but the final message has no "content" to continue');
      if (Array.isArray(last.content)) {
        const block = [...last.content].reverse().find((b) => typeof b["text"] === "string");
        if (!block) throw new ChatTemplateError("continueFinalMessage is set but the final message has no text block to continue");
        finalText = block["text"] as string;
        block["text"] = finalText + CONTINUE_TAG;
      } else {
        finalText = last.content;
        last.content = last.content + CONTINUE_TAG;
      }
    }
    const vars: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.specialTokens)) if (v != null) vars[k] = v;
    Object.assign(vars, opts.extra ?? {});
    vars["messages"] = chat;
    vars["add_generation_prompt"] = opts.addGenerationPrompt ?? false;
    // HF passes tools=None / documents=None when absent; jinja's `if tools` is false for both.
    vars["tools"] = opts.tools ?? null;
    vars["documents"] = opts.documents ?? null;
    let out: string;
    try {
      // Template.render would install its own raise_exception (a plain Error); this environment
      // carries the same globals with HF's behaviour instead.
      const env = globalsEnvironment();
      for (const [k, v] of Object.entries(vars)) env.set(k, v);
      out = new Interpreter(env).run(this.compiled.parsed).value as string;
    } catch (e) {
      if (e instanceof ChatTemplateError) throw e;
      throw new ChatTemplateError(`chat template failed: ${(e as Error).message}`);
    }
    if (opts.continueFinalMessage) {
      const tag = CONTINUE_TAG.trim();
      if (!out.includes(finalText.trim()) || !out.includes(tag)) {
        throw new ChatTemplateError("continueFinalMessage is set but the final message does not appear in the rendered chat (the template changed it)");
      }
      const at = out.lastIndexOf(tag);
      out = out.startsWith(CONTINUE_TAG, at) ? out.slice(0, at) : out.slice(0, at).trimEnd();
    }
    return out;
  }
}

/** Renders `messages` with the chat template of a parsed tokenizer_config.json. */
export function applyChatTemplate(tokenizerConfig: Record<string, unknown>, messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): string {
  return ChatTemplate.fromTokenizerConfig(tokenizerConfig).render(messages, opts);
}

function tokenString(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as Record<string, unknown>)["content"] === "string") return (v as Record<string, string>)["content"];
  return null;
}

// @huggingface/jinja 0.5.11 ignores the argument of str.strip / lstrip / rstrip and always strips
// whitespace, while Python strips the given characters: Qwen3's template writes
// `content.lstrip('\n')`, which must keep leading spaces. Its string methods come from a `builtins`
// getter on the string value's prototype, so tslm wraps that getter once to give the three
// methods Python's meaning. A probe skips the patch when the library already does it right.
let stripPatched = false;
function patchStripWithChars(): void {
  if (stripPatched) return;
  stripPatched = true;
  if (new Template("{{ 'xxa x'.lstrip('x') }}").render({}) === "a x") return;
  const probe = new Interpreter(new Environment()).run(parse(tokenize("{{ 'a' }}", { lstrip_blocks: true, trim_blocks: true })));
  const proto = Object.getPrototypeOf(probe) as object;
  const desc = Object.getOwnPropertyDescriptor(proto, "builtins");
  if (!desc?.get) return;
  const original = desc.get;
  type Fn = { new (fn: (args: Array<{ value: unknown }>) => unknown): unknown };
  const StringValue = probe.constructor as { new (v: string): unknown };
  const upper = (original.call(probe) as Map<string, unknown>).get("upper") as { constructor: Fn } | undefined;
  if (!upper) return;
  const FunctionValue = upper.constructor;
  const patched = new WeakSet<object>();
  const strip = (s: string, chars: unknown, left: boolean, right: boolean): string => {
    if (chars === undefined || chars === null) return left && right ? s.trim() : left ? s.trimStart() : s.trimEnd();
    const set = new Set(Array.from(String(chars)));
    const cps = Array.from(s);
    let a = 0;
    let b = cps.length;
    if (left) while (a < b && set.has(cps[a])) a++;
    if (right) while (b > a && set.has(cps[b - 1])) b--;
    return cps.slice(a, b).join("");
  };
  Object.defineProperty(proto, "builtins", {
    configurable: true,
    get(this: { value: string }) {
      const map = original.call(this) as Map<string, unknown>;
      if (!patched.has(map)) {
        patched.add(map);
        for (const [name, l, r] of [["strip", true, true], ["lstrip", true, false], ["rstrip", false, true]] as const) {
          map.set(name, new FunctionValue((args) => new StringValue(strip(this.value, args[0]?.value, l, r))));
        }
      }
      return map;
    },
  });
}

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** Python's datetime.now().strftime for the codes chat templates use (C locale names); others are errors. */
export function strftime(date: Date, format: string): string {
  const p2 = (n: number) => String(n).padStart(2, "0");
  return format.replace(/%./g, (code) => {
    switch (code) {
      case "%Y": return String(date.getFullYear());
      case "%y": return p2(date.getFullYear() % 100);
      case "%m": return p2(date.getMonth() + 1);
      case "%d": return p2(date.getDate());
      case "%b": return MONTHS[date.getMonth()].slice(0, 3);
      case "%B": return MONTHS[date.getMonth()];
      case "%a": return DAYS[date.getDay()].slice(0, 3);
      case "%A": return DAYS[date.getDay()];
      case "%H": return p2(date.getHours());
      case "%M": return p2(date.getMinutes());
      case "%S": return p2(date.getSeconds());
      case "%%": return "%";
      default: throw new ChatTemplateError(`strftime_now: unsupported format code ${code}`);
    }
  });
}

/** The globals of HF's chat-template environment: booleans and None, range, strftime_now, raise_exception. */
function globalsEnvironment(): Environment {
  const env = new Environment();
  for (const [k, v] of [["true", true], ["false", false], ["none", null], ["True", true], ["False", false], ["None", null]] as const) env.set(k, v);
  env.set("raise_exception", (msg: unknown) => {
    throw new ChatTemplateError(String(msg));
  });
  env.set("strftime_now", (format: unknown) => strftime(new Date(), String(format)));
  env.set("range", (start: number, stop?: number, step = 1) => {
    if (stop === undefined) [start, stop] = [0, start];
    if (step === 0) throw new ChatTemplateError("range() step must not be zero");
    const out: number[] = [];
    if (step > 0) for (let i = start; i < stop; i += step) out.push(i);
    else for (let i = start; i > stop; i += step) out.push(i);
    return out;
  });
  return env;
}
