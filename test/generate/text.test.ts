// Text-level generation on a small random GPT-2 with a byte-level tokenizer: the streamed text
// equals the returned text, stop strings cut both (and never leak into the stream), prompt limits,
// chat rendering, and GenerationConfig.fromPretrained on the tiny fixture directories.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GenerationConfig, StopStringFilter, generate, generateChat, generateStream, generateText } from "../../src/generate/index.js";
import { createModel } from "../../src/models/index.js";
import { ParamSource } from "../../src/nn/index.js";
import { BYTE_TO_CHAR, Tokenizer, gpt2Json } from "../../src/tokenizers/index.js";
import { repoRoot } from "../helpers.js";

function byteTokenizer(): Tokenizer {
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[BYTE_TO_CHAR[b]] = b;
  vocab["<|endoftext|>"] = 256;
  const tok = Tokenizer.fromJSON(gpt2Json(vocab, []));
  const template = "{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}";
  tok.config = { eosToken: "<|endoftext|>", chatTemplate: template, raw: { chat_template: template, eos_token: "<|endoftext|>" } };
  return tok;
}

const tok = byteTokenizer();
// Large init std so the random model's greedy output varies instead of repeating one byte.
const model = createModel({ model_type: "gpt2", vocab_size: 257, n_embd: 32, n_layer: 2, n_head: 4, n_positions: 128 }, ParamSource.init({ seed: 3, std: 0.6 }));

describe("generateText / generateChat", () => {
  it("streams exactly the returned text", () => {
    const pieces: string[] = [];
    const r = generateText(model, tok, "Hello, ", { maxNewTokens: 40 }, { onText: (t) => pieces.push(t) });
    expect(r.tokens[0].length).toBeGreaterThan(0);
    expect(pieces.join("")).toBe(r.texts[0]);
    expect(r.promptTokens).toEqual([7]);
  });

  it("stop strings cut the text and the stream", () => {
    const full = generateText(model, tok, "abc", { maxNewTokens: 40 }).texts[0];
    // A stop string from the middle of the unconstrained output (avoiding replacement characters).
    let at = 6;
    while (at < full.length - 2 && /[\ufffd\ud800-\udfff]/.test(full.slice(at, at + 2))) at++;
    const stop = full.slice(at, at + 2);
    expect(stop.length).toBe(2);
    const pieces: string[] = [];
    const r = generateText(model, tok, "abc", { maxNewTokens: 40, stopStrings: [stop] }, { onText: (t) => pieces.push(t) });
    expect(r.texts[0]).toBe(full.slice(0, full.indexOf(stop)));
    expect(pieces.join("")).toBe(r.texts[0]);
    expect(r.finishReasons[0]).toBe("stop");
  });

  it("beam search with stop strings: hypotheses end at the stop string and texts are cut", () => {
    // A negative length penalty favours short finished hypotheses, so ones cut by the stop string win.
    const cfg = { maxNewTokens: 16, numBeams: 3, numReturnSequences: 3, lengthPenalty: -2 };
    const plain = generateText(model, tok, "abc", cfg);
    const best = plain.texts[0];
    let at = 4;
    while (at < best.length - 2 && /[\ufffd\ud800-\udfff]/.test(best.slice(at, at + 2))) at++;
    const stop = best.slice(at, at + 2);
    const r = generateText(model, tok, "abc", { ...cfg, stopStrings: [stop] });
    expect(r.texts.length).toBe(3);
    r.texts.forEach((t) => expect(t.includes(stop)).toBe(false));
    // Every hypothesis that produced the stop string finished there: its tokens decode to text + stop (+ a partial token).
    r.tokens.forEach((ids, i) => {
      const full = tok.decode(ids, { skipSpecialTokens: true });
      if (r.finishReasons[i] === "stop") expect(full.indexOf(stop)).toBe(r.texts[i].length);
      else expect(full).toBe(r.texts[i]);
    });
    expect(r.finishReasons).toContain("stop");
  });

  it("batches prompts of different lengths and enforces prompt limits", () => {
    const r = generateText(model, tok, ["a", "longer prompt"], { maxNewTokens: 5, padTokenId: 256 });
    expect(r.texts.length).toBe(2);
    const alone = generateText(model, tok, "longer prompt", { maxNewTokens: 5 });
    expect(r.texts[1]).toBe(alone.texts[0]);
    expect(() => generateText(model, tok, "x".repeat(20), { maxNewTokens: 2 }, { maxPromptTokens: 10 })).toThrow(/20 tokens, more than the limit of 10/);
    expect(generateText(model, tok, "x".repeat(20), { maxNewTokens: 2 }, { maxPromptTokens: 10, truncate: true }).promptTokens).toEqual([10]);
  });

  it("renders the chat template and generates the reply", () => {
    const r = generateChat(model, tok, [{ role: "user", content: "hi" }], { maxNewTokens: 6 });
    expect(r.prompt).toBe("<user>hi\n<assistant>");
    expect(r.promptTokens).toEqual([r.prompt.length]);
    expect(r.texts[0]).toBe(generateText(model, tok, r.prompt, { maxNewTokens: 6 }).texts[0]);
  });
});

describe("StopStringFilter", () => {
  it("holds back possible stop-string prefixes and cuts at the match", () => {
    const f = new StopStringFilter(["\nUser:", "###"]);
    expect(f.push("Hello")).toBe("Hello");
    expect(f.push(" world\nUs")).toBe(" world");
    expect(f.push("ually fine #")).toBe("\nUsually fine ");
    expect(f.push("## tail")).toBe("");
    expect(f.stopped).toBe(true);
    expect(f.matched).toBe("###");
    expect(f.push("more")).toBe("");
    const g = new StopStringFilter("END");
    expect(g.push("the E")).toBe("the ");
    expect(g.end()).toBe("E");
  });
});

describe("GenerationConfig.fromPretrained", () => {
  it("reads generation_config.json", () => {
    const c = GenerationConfig.fromPretrained(join(repoRoot, "fixtures/generate/tiny_gpt2"));
    expect(c.eos_token_id).toBe(98);
    expect(c.bos_token_id).toBe(98);
  });

  it("falls back to the generation fields of config.json", () => {
    const dir = mkdtempSync(join(tmpdir(), "tslm-genconf-"));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "llama", hidden_size: 32, eos_token_id: [2, 3], pad_token_id: null, bos_token_id: 1, max_length: 64 }));
    const c = GenerationConfig.fromPretrained(dir);
    expect(c.eos_token_id).toEqual([2, 3]);
    expect(c.bos_token_id).toBe(1);
    expect(c.max_length).toBe(64);
    expect(c.pad_token_id).toBeNull();
  });
});

describe("generateStream", () => {
  const prompts = [tok.encode("Hello").ids, tok.encode("Hi there, ").ids];
  const cfg = { maxNewTokens: 12, padTokenId: 256 };

  it("yields every step's tokens and text, and returns what generate() returns", async () => {
    const want = generate(model, prompts, cfg, { tokenizer: tok });
    const it = generateStream(model, prompts, cfg, { tokenizer: tok });
    const got: number[][] = [[], []];
    const texts = ["", ""];
    let r = await it.next();
    while (!r.done) {
      r.value.tokens.forEach((t, i) => got[i].push(...t));
      r.value.texts!.forEach((t, i) => (texts[i] += t));
      r = await it.next();
    }
    expect(got).toEqual(want.newTokens);
    expect(texts).toEqual(want.texts);
    expect(r.value.sequences).toEqual(want.sequences);
  });

  it("holds back and cuts stop strings in the streamed text", async () => {
    const full = generate(model, [prompts[1]], cfg, { tokenizer: tok }).texts![0];
    const stop = full.slice(4, 6);
    const it = generateStream(model, [prompts[1]], { ...cfg, stopStrings: [stop] }, { tokenizer: tok });
    let text = "";
    let r = await it.next();
    while (!r.done) {
      text += r.value.texts![0];
      r = await it.next();
    }
    expect(text).toBe(full.slice(0, full.indexOf(stop)));
    expect(r.value.texts![0]).toBe(text);
  });

  it("an aborted signal ends the rows with finish reason abort", async () => {
    const ac = new AbortController();
    const it = generateStream(model, prompts, { maxNewTokens: 30, padTokenId: 256 }, { signal: ac.signal });
    let steps = 0;
    let r = await it.next();
    while (!r.done) {
      if (++steps === 3) ac.abort();
      r = await it.next();
    }
    expect(steps).toBe(3);
    expect(r.value.finishReasons).toEqual(["abort", "abort"]);
    expect(r.value.newTokens.map((t) => t.length)).toEqual([3, 3]);
  });

  it("refuses beam search", async () => {
    await expect(generateStream(model, prompts, { numBeams: 2, maxNewTokens: 3, padTokenId: 256 }).next()).rejects.toThrow(/beam search cannot stream/);
  });
});

describe("texts of rows that end early", () => {
  it("do not include the pads appended after EOS, with or without stop strings", () => {
    // Make the first generated token of the short prompt EOS-like by declaring it EOS.
    const p = [tok.encode("Hi there, ").ids, tok.encode("a").ids];
    const first = generate(model, [p[1]], { maxNewTokens: 1 }).newTokens[0][0];
    const pad = tok.encode("P").ids[0]; // a pad id that decodes to visible text
    for (const stop of [undefined, ["zz-never"]]) {
      const out = generate(model, p, { maxNewTokens: 8, eosTokenId: first, padTokenId: pad, stopStrings: stop }, { tokenizer: tok });
      expect(out.newTokens[1]).toEqual([first]);
      expect(out.texts![1]).toBe(tok.decode([first], { skipSpecialTokens: true }));
      expect(out.sequences[1].slice(-3)).toEqual([pad, pad, pad]);
    }
  });
});
