// Model behaviours beyond the golden numbers: logitsToKeep, training mode (dropout active and
// seeded), input validation messages. Kernel-independent (default kernel set).
import { describe, expect, it } from "vitest";
import { GPT2LMHeadModel, LlamaForCausalLM, ParamSource, manualSeed, noGrad, randint, Generator, tensor } from "../../src/index.js";

const gpt2 = () => new GPT2LMHeadModel({ model_type: "gpt2", vocab_size: 40, n_positions: 16, n_embd: 16, n_layer: 2, n_head: 2 }, ParamSource.init({ seed: 1 }));
const llama = () =>
  new LlamaForCausalLM(
    { model_type: "llama", vocab_size: 40, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, attention_dropout: 0.2, max_position_embeddings: 16 },
    ParamSource.init({ seed: 2 }),
  );
const ids = randint(0, 40, [2, 6], { generator: new Generator(3) });

describe("causal LM behaviours", () => {
  for (const [name, make] of [
    ["gpt2", gpt2],
    ["llama", llama],
  ] as const) {
    it(`${name}: logitsToKeep gives the last positions' logits only`, () => {
      const m = make().eval();
      noGrad(() => {
        const full = m.forward({ inputIds: ids }).logits;
        const last = m.forward({ inputIds: ids, logitsToKeep: 2 }).logits;
        expect(last.shape).toEqual([2, 2, 40]);
        expect(Array.from(last.toTypedArray())).toEqual(Array.from(full.narrow(1, 4, 2).toTypedArray()));
      });
      expect(() => m.forward({ inputIds: ids, labels: ids, logitsToKeep: 1 })).toThrow(/logitsToKeep cannot be combined with labels/);
    });

    it(`${name}: training mode applies seeded dropout; eval mode is deterministic`, () => {
      const m = make();
      m.eval();
      const a = noGrad(() => m.forward({ inputIds: ids }).logits.toTypedArray());
      const b = noGrad(() => m.forward({ inputIds: ids }).logits.toTypedArray());
      expect(Array.from(a)).toEqual(Array.from(b));
      m.train();
      manualSeed(5);
      const out = m.forward({ inputIds: ids, labels: ids });
      const c = out.logits.toTypedArray();
      manualSeed(5);
      const d = noGrad(() => m.forward({ inputIds: ids }).logits.toTypedArray());
      expect(Array.from(c)).not.toEqual(Array.from(a));
      expect(Array.from(c)).toEqual(Array.from(d));
      out.loss!.backward();
      expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    });

    it(`${name}: input validation names the argument and both shapes`, () => {
      const m = make();
      expect(() => m.forward({ inputIds: tensor([1, 2, 3], [3], { dtype: "int32" }) })).toThrow(/inputIds must be an int32 tensor \[B, T\], got int32 \[3\]/);
      expect(() => m.forward({ inputIds: ids, attentionMask: tensor([1, 1], [1, 2], { dtype: "int32" }) })).toThrow(/attentionMask must be \[B, cached \+ T\] = \[2, 6\], got \[1, 2\]/);
      expect(() => m.forward({ inputIds: ids, labels: tensor([1], [1, 1], { dtype: "int32" }) })).toThrow(/labels must be int32 \[B, T\] = \[2, 6\]/);
    });
  }

  it("gpt2: more positions than n_positions is an error", () => {
    expect(() => gpt2().forward({ inputIds: randint(0, 40, [1, 17]) })).toThrow(/17 positions exceed n_positions 16/);
  });
});
