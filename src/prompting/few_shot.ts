// Few-shot (in-context learning) prompts: worked examples, then the new input, so a pretrained
// model continues with an answer in the same format (Brown et al., 2020, "Language Models are
// Few-Shot Learners").
//
// Examples come from a JSONL file, one per line, either
//   {"input": "...", "output": "..."}                     a plain pair, or
//   {"messages": [{"role": "user", ...}, {"role": "assistant", ...}, ...]}   chat turns.
// A text prompt is  prefix + shot_1 + separator + ... + shot_k + separator + query, where each shot
// is `template` with {input} / {output} filled in, and the query is the template cut just before
// {output} (trailing spaces dropped, so the model's first token carries its own leading space).
// For chat models, buildMessages() turns each shot into a user/assistant pair to feed a chat template.
// Chain-of-thought prompting is the same machinery with outputs that show their reasoning; see
// docs/prompting.md.
import { readFileSync } from "node:fs";
import { Generator } from "../tensor/rng.js";
import type { ChatMessage } from "./chat_template.js";

export interface FewShotPair {
  input: string;
  output: string;
}

export type FewShotExample = FewShotPair | { messages: ChatMessage[] };

export interface FewShotOptions {
  /** The shot format with {input} and {output} placeholders ({{ and }} for literal braces). Default "Input: {input}\nOutput: {output}". */
  template?: string;
  /** Between shots and before the query. Default "\n\n". */
  separator?: string;
  /** Text before the first shot (an instruction). Default "". */
  prefix?: string;
  /** Use this many examples (all by default). */
  k?: number;
  /** With k: pick k examples at random with tslm's Generator seeded by this (first k without it). */
  seed?: number;
}

const DEFAULT_TEMPLATE = "Input: {input}\nOutput: {output}";

/** Reads a JSONL examples file; errors name the file and line. Blank lines are skipped. */
export function loadFewShotExamples(path: string): FewShotExample[] {
  const text = readFileSync(path, "utf8");
  return parseFewShotExamples(text, path);
}

/** Parses JSONL example text (see the file header for the two accepted shapes). */
export function parseFewShotExamples(text: string, source = "examples"): FewShotExample[] {
  const out: FewShotExample[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `${source}:${i + 1}`;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where}: invalid JSON (${(e as Error).message})`);
    }
    out.push(checkExample(obj, where));
  });
  if (out.length === 0) throw new Error(`${source}: no examples`);
  return out;
}

function checkExample(obj: unknown, where: string): FewShotExample {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) throw new Error(`${where}: an example must be a JSON object`);
  const o = obj as Record<string, unknown>;
  if ("messages" in o) {
    const extra = Object.keys(o).filter((k) => k !== "messages");
    if (extra.length > 0) throw new Error(`${where}: unexpected field(s) ${extra.join(", ")} beside "messages"`);
    const m = o["messages"];
    if (!Array.isArray(m) || m.length === 0) throw new Error(`${where}: "messages" must be a non-empty list`);
    m.forEach((x, j) => {
      if (!x || typeof x !== "object" || typeof x.role !== "string" || typeof x.content !== "string") {
        throw new Error(`${where}: messages[${j}] must be {"role": string, "content": string}`);
      }
    });
    return { messages: m as ChatMessage[] };
  }
  const extra = Object.keys(o).filter((k) => k !== "input" && k !== "output");
  if (extra.length > 0) throw new Error(`${where}: unexpected field(s) ${extra.join(", ")}; expected {"input", "output"} or {"messages"}`);
  if (typeof o["input"] !== "string" || typeof o["output"] !== "string") throw new Error(`${where}: "input" and "output" must be strings`);
  return { input: o["input"], output: o["output"] };
}

/** The user/assistant pairs of an example (a messages example may hold several; a system message is an error here). */
function pairsOf(ex: FewShotExample, i: number): FewShotPair[] {
  if ("input" in ex) return [ex];
  const pairs: FewShotPair[] = [];
  const m = ex.messages;
  if (m.length % 2 !== 0) throw new Error(`example ${i}: messages must alternate user/assistant in pairs, got ${m.length} messages`);
  for (let j = 0; j < m.length; j += 2) {
    if (m[j].role !== "user" || m[j + 1].role !== "assistant") {
      throw new Error(`example ${i}: messages[${j}..${j + 1}] must be a user then an assistant message, got ${m[j].role}, ${m[j + 1].role}`);
    }
    pairs.push({ input: String(m[j].content), output: String(m[j + 1].content) });
  }
  return pairs;
}

/** Fills {input} / {output}; {{ and }} are literal braces; any other {name} is an error. */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{|\}\}|\{([a-z_]+)\}/g, (m, name: string | undefined) => {
    if (m === "{{") return "{";
    if (m === "}}") return "}";
    const v = values[name!];
    if (v === undefined) throw new Error(`few-shot template: unknown placeholder {${name}} (use {input}, {output}, or {{ }} for braces)`);
    return v;
  });
}

export class FewShotPromptBuilder {
  readonly examples: FewShotPair[];
  readonly template: string;
  readonly separator: string;
  readonly prefix: string;
  private readonly queryTemplate: string;

  constructor(examples: readonly FewShotExample[], opts: FewShotOptions = {}) {
    this.template = opts.template ?? DEFAULT_TEMPLATE;
    this.separator = opts.separator ?? "\n\n";
    this.prefix = opts.prefix ?? "";
    const at = this.template.indexOf("{output}");
    if (!this.template.includes("{input}") || at < 0) throw new Error(`few-shot template must contain {input} and {output}, got ${JSON.stringify(this.template)}`);
    if (this.template.indexOf("{input}") > at) throw new Error("few-shot template: {input} must come before {output}");
    this.queryTemplate = this.template.slice(0, at).replace(/[ \t]+$/, "");
    let chosen = [...examples];
    if (opts.k !== undefined) {
      if (!Number.isInteger(opts.k) || opts.k < 0 || opts.k > examples.length) throw new Error(`few-shot k must be an integer in [0, ${examples.length}], got ${opts.k}`);
      if (opts.seed !== undefined) {
        // Partial Fisher-Yates with the seeded generator: the same seed picks the same shots in the same order.
        const g = new Generator(opts.seed);
        for (let i = 0; i < opts.k; i++) {
          const j = i + g.randint(chosen.length - i);
          [chosen[i], chosen[j]] = [chosen[j], chosen[i]];
        }
      }
      chosen = chosen.slice(0, opts.k);
    }
    this.examples = chosen.flatMap((ex, i) => pairsOf(ex, i));
  }

  /** The text prompt for a new input. */
  build(input: string): string {
    const shots = this.examples.map((e) => fill(this.template, { input: e.input, output: e.output }));
    const query = fill(this.queryTemplate, { input, output: "" });
    return this.prefix + [...shots, query].join(this.separator);
  }

  /** Chat messages: optional system message, one user/assistant pair per shot, then the new input. */
  buildMessages(input: string, system?: string): ChatMessage[] {
    const msgs: ChatMessage[] = system !== undefined ? [{ role: "system", content: system }] : [];
    for (const e of this.examples) msgs.push({ role: "user", content: e.input }, { role: "assistant", content: e.output });
    msgs.push({ role: "user", content: input });
    return msgs;
  }
}
