// Few-shot prompt builder (JSONL examples, templates, separators, seeded selection), the chat
// template's Python string-method semantics, strftime_now, and the chain-of-thought example in
// docs/prompting.md rendering as documented.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ChatTemplate, FewShotPromptBuilder, loadFewShotExamples, parseFewShotExamples, strftime } from "../../src/prompting/index.js";
import { repoRoot } from "../helpers.js";

const EXAMPLES = join(repoRoot, "fixtures/generate/few_shot_examples.jsonl");

describe("few-shot prompts", () => {
  it("builds a text prompt from a JSONL file with both example shapes", () => {
    const ex = loadFewShotExamples(EXAMPLES);
    expect(ex.length).toBe(4);
    const b = new FewShotPromptBuilder(ex, { template: "Review: {input}\nSentiment: {output}", prefix: "Classify the sentiment.\n\n" });
    expect(b.build("Not bad at all.")).toBe(
      "Classify the sentiment.\n\n" +
        "Review: The movie was wonderful.\nSentiment: positive\n\n" +
        "Review: I want my money back.\nSentiment: negative\n\n" +
        "Review: Service was slow but the food was great.\nSentiment: mixed\n\n" +
        "Review: Ce film est génial 🎬\nSentiment: positive\n\n" +
        "Review: Not bad at all.\nSentiment:",
    );
  });

  it("default template, custom separator, literal braces", () => {
    const ex = parseFewShotExamples('{"input": "2+2", "output": "4"}\n{"input": "3+5", "output": "8"}');
    expect(new FewShotPromptBuilder(ex, { separator: "\n###\n" }).build("1+1")).toBe("Input: 2+2\nOutput: 4\n###\nInput: 3+5\nOutput: 8\n###\nInput: 1+1\nOutput:");
    expect(new FewShotPromptBuilder(ex, { template: "{{x}} {input} => {output}", separator: "; " }).build("9")).toBe("{x} 2+2 => 4; {x} 3+5 => 8; {x} 9 =>");
  });

  it("chat messages for chat templates", () => {
    const ex = parseFewShotExamples('{"input": "hi", "output": "hello"}');
    expect(new FewShotPromptBuilder(ex).buildMessages("bye", "Be polite.")).toEqual([
      { role: "system", content: "Be polite." },
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello" },
      { role: "user", content: "bye" },
    ]);
  });

  it("k examples, seeded selection is reproducible", () => {
    const ex = loadFewShotExamples(EXAMPLES);
    expect(new FewShotPromptBuilder(ex, { k: 2 }).examples.map((e) => e.output)).toEqual(["positive", "negative"]);
    const a = new FewShotPromptBuilder(ex, { k: 3, seed: 5 }).build("x");
    expect(new FewShotPromptBuilder(ex, { k: 3, seed: 5 }).build("x")).toBe(a);
    const picks = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((s) => new FewShotPromptBuilder(ex, { k: 3, seed: s }).build("x")));
    expect(picks.size).toBeGreaterThan(1);
    expect(() => new FewShotPromptBuilder(ex, { k: 9 })).toThrow(/k must be an integer in \[0, 4\]/);
  });

  it("bad files and templates are errors naming the line or the placeholder", () => {
    const dir = mkdtempSync(join(tmpdir(), "tslm-fewshot-"));
    const p = join(dir, "ex.jsonl");
    writeFileSync(p, '{"input": "a", "output": "b"}\n{"input": "a"}\n');
    expect(() => loadFewShotExamples(p)).toThrow(/ex.jsonl:2: "input" and "output" must be strings/);
    expect(() => parseFewShotExamples('{"input": "a", "output": "b", "label": 1}')).toThrow(/unexpected field\(s\) label/);
    expect(() => parseFewShotExamples("{nope")).toThrow(/examples:1: invalid JSON/);
    expect(() => parseFewShotExamples('{"messages": [{"role": "user", "content": "a"}]}').map((e) => new FewShotPromptBuilder([e]))).toThrow(/alternate user\/assistant/);
    const ex = parseFewShotExamples('{"input": "a", "output": "b"}');
    expect(() => new FewShotPromptBuilder(ex, { template: "Q: {input}" })).toThrow(/must contain \{input\} and \{output\}/);
    expect(() => new FewShotPromptBuilder(ex, { template: "{question} {input} {output}" }).build("x")).toThrow(/unknown placeholder \{question\}/);
  });
});

describe("chat template runtime", () => {
  it("str.strip/lstrip/rstrip with characters behave as in Python", () => {
    const t = new ChatTemplate("[{{ messages[0].content.lstrip('\\n') }}|{{ messages[0].content.rstrip('\\n ') }}|{{ messages[0].content.strip() }}|{{ messages[0].content.strip('\\nx') }}]");
    expect(t.render([{ role: "user", content: "\n  x hi x \n" }])).toBe("[  x hi x \n|\n  x hi x|x hi x|  x hi x ]");
  });

  it("strftime_now formats like Python's C locale", () => {
    const d = new Date(2024, 6, 26, 9, 5, 3);
    expect(strftime(d, "%d %b %Y")).toBe("26 Jul 2024");
    expect(strftime(d, "%A %B %d, %H:%M:%S %%")).toBe("Friday July 26, 09:05:03 %");
    expect(() => strftime(d, "%Q")).toThrow(/unsupported format code %Q/);
    const t = new ChatTemplate("{{ strftime_now('%Y') }}");
    expect(t.render([])).toBe(String(new Date().getFullYear()));
  });
});

describe("docs/prompting.md", () => {
  it("the chain-of-thought example builds the prompt the doc shows", () => {
    const doc = readFileSync(join(repoRoot, "docs/prompting.md"), "utf8");
    const m = /<!-- cot-prompt -->\n```text\n([\s\S]*?)\n```/.exec(doc);
    expect(m).not.toBeNull();
    const cot = new FewShotPromptBuilder(loadFewShotExamples(join(repoRoot, "fixtures/generate/cot_examples.jsonl")), {
      template: "Q: {input}\nA: {output}",
      separator: "\n\n",
    });
    const q = "A juggler can juggle 16 balls. Half of the balls are golf balls, and half of the golf balls are blue. How many blue golf balls are there?";
    expect(cot.build(q)).toBe(m![1]);
  });
});

describe("ChatTemplate.fromDirectory", () => {
  it("prefers chat_template.jinja, takes special tokens from tokenizer_config.json", () => {
    const dir = mkdtempSync(join(tmpdir(), "tslm-chat-"));
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ bos_token: { content: "<s>" }, eos_token: "</s>", chat_template: "JSON {{ bos_token }}" }));
    expect(ChatTemplate.fromDirectory(dir).render([])).toBe("JSON <s>");
    writeFileSync(join(dir, "chat_template.jinja"), "{{ bos_token }}{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}");
    expect(ChatTemplate.fromDirectory(dir).render([{ role: "user", content: "hi" }])).toBe("<s>hi</s>");
    expect(() => ChatTemplate.fromDirectory(join(dir, "missing"))).toThrow(/no chat_template.jinja and no tokenizer_config.json/);
  });
});
