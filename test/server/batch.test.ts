// Continuous batching (src/server/batch.ts) against src/generate's Decoding run alone: requests
// with prompts of different lengths that join the batch at different steps (several at once,
// prefilled together), greedy and seeded
// sampling with n > 1, stop strings and EOS, produce the same tokens, texts and finish reasons as
// each request decoded by itself; leaving members are pruned from the shared cache. On gpt2 and
// llama (rotary positions: the left-padded rows' positions must be right).
import { describe, expect, it } from "vitest";
import { Decoding, type GenerateOutput } from "../../src/generate/index.js";
import { BatchMember, ContinuousBatch, loadModel, type BatchableLM, type LoadedModel } from "../../src/server/index.js";
import { makeTinyModel } from "./tiny_model.js";

function alone(lm: LoadedModel, ids: number[], fields: Record<string, unknown>): GenerateOutput {
  const d = new Decoding(lm.model as never, [ids], lm.generationConfig.with(fields, "fields"), { tokenizer: lm.tokenizer });
  while (!d.done) d.step();
  return d.result();
}

for (const modelType of ["gpt2", "llama"] as const) {
  describe(`continuous batching (${modelType})`, () => {
    it("equals each request decoded alone, whenever it joins", () => {
      const lm = loadModel(makeTinyModel({ modelType, nPositions: 128 }));
      const enc = (s: string) => lm.tokenizer.encode(s).ids;
      const requests: Array<{ ids: number[]; fields: Record<string, unknown>; joinAt: number }> = [
        { ids: enc("Hello"), fields: { max_new_tokens: 20, do_sample: false }, joinAt: 0 },
        { ids: enc("A much longer prompt than the first"), fields: { max_new_tokens: 12, do_sample: false }, joinAt: 0 },
        { ids: enc("xy"), fields: { max_new_tokens: 15, do_sample: true, temperature: 0.9, top_k: 0, seed: 11, num_return_sequences: 3 }, joinAt: 3 },
        { ids: enc("Once upon a time there"), fields: { max_new_tokens: 9, do_sample: false, repetition_penalty: 1.3 }, joinAt: 5 },
        { ids: enc("Two at once"), fields: { max_new_tokens: 30, do_sample: false }, joinAt: 5 },
        { ids: enc("q"), fields: { max_new_tokens: 25, do_sample: true, top_p: 0.8, seed: 2 }, joinAt: 14 },
      ];
      // A stop string from request 0's own greedy output: it must end early with "stop".
      const ref0 = alone(lm, requests[0].ids, requests[0].fields);
      const chars = [...(ref0.texts?.[0] ?? lm.tokenizer.decode(ref0.newTokens[0], { skipSpecialTokens: true }))].filter((c) => c !== "\ufffd");
      const stop = chars[Math.min(6, chars.length - 1)] ?? "e";
      requests.push({ ids: enc("Hello"), fields: { max_new_tokens: 20, do_sample: false, stop_strings: [stop] }, joinAt: 7 });

      const expected = requests.map((r) => alone(lm, r.ids, r.fields));
      const batch = new ContinuousBatch(lm.model as unknown as BatchableLM);
      const members = requests.map((r) => new BatchMember(lm.model as unknown as BatchableLM, r.ids, lm.generationConfig.with(r.fields, "fields"), lm.tokenizer));
      let maxRows = 0;
      for (let step = 0; members.some((m) => !m.done); step++) {
        // Requests joining at the same step are prefilled together (left-padded into one forward).
        batch.prefillMany(members.filter((_, i) => requests[i].joinAt === step));
        maxRows = Math.max(maxRows, batch.rows);
        batch.step();
        expect(step).toBeLessThan(100);
      }
      expect(maxRows).toBeGreaterThanOrEqual(5);
      members.forEach((m, i) => {
        const got = m.result();
        expect(got.newTokens, `request ${i}`).toEqual(expected[i].newTokens);
        expect(got.finishReasons, `request ${i}`).toEqual(expected[i].finishReasons);
        const texts = got.texts ?? got.newTokens.map((t) => lm.tokenizer.decode(t, { skipSpecialTokens: true }));
        expect(texts, `request ${i}`).toEqual(expected[i].texts);
      });
      if (chars.length > 0) expect(members[6].result().finishReasons).toEqual(["stop"]);
      batch.prune();
      expect(batch.size).toBe(0);
    });
  });
}
