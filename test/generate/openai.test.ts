// OpenAI request fields -> GenerationConfig: defaults, greedy at temperature 0, stop lists,
// penalties, n, and errors naming the OpenAI parameter.
import { describe, expect, it } from "vitest";
import { GenerationConfig, OpenAIParamError, configFromOpenAI } from "../../src/generate/index.js";

describe("configFromOpenAI", () => {
  it("maps the sampling fields", () => {
    const { config: c, n } = configFromOpenAI({ max_tokens: 30, temperature: 0.7, top_p: 0.9, n: 2, stop: "\n\n", presence_penalty: 0.5, frequency_penalty: -0.3, logit_bias: { "50256": -100 }, seed: 4 });
    expect(n).toBe(2);
    expect(c.toFullJSON()).toMatchObject({
      max_new_tokens: 30,
      do_sample: true,
      temperature: 0.7,
      top_p: 0.9,
      top_k: 0,
      num_return_sequences: 2,
      stop_strings: ["\n\n"],
      presence_penalty: 0.5,
      frequency_penalty: -0.3,
      logit_bias: { "50256": -100 },
      seed: 4,
    });
  });

  it("defaults to temperature-1 sampling without top-k; temperature 0 is greedy with n repeated", () => {
    const d = configFromOpenAI({}).config;
    expect(d.do_sample).toBe(true);
    expect(d.temperature).toBe(1);
    expect(d.top_k).toBe(0);
    const g = configFromOpenAI({ temperature: 0, n: 3 });
    expect(g.config.do_sample).toBe(false);
    expect(g.config.num_return_sequences).toBe(1);
    expect(g.n).toBe(3);
  });

  it("keeps the model's explicit generation config and lets the request override it", () => {
    const base = new GenerationConfig({ temperature: 0.6, top_p: 0.9, top_k: 20, eos_token_id: [1, 2], max_length: 4096 });
    const c = configFromOpenAI({ max_completion_tokens: 8 }, base).config;
    expect(c.temperature).toBe(0.6);
    expect(c.top_k).toBe(20);
    expect(c.eosTokenIds()).toEqual([1, 2]);
    expect(c.maxLengthFor(10)).toBe(18);
    expect(configFromOpenAI({ top_k: -1, top_p: 1 }, base).config.top_k).toBe(0);
    expect(configFromOpenAI({}, base, { defaultMaxTokens: 16 }).config.max_new_tokens).toBe(16);
  });

  it("invalid values name the OpenAI parameter", () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ temperature: 3 }, "temperature"],
      [{ top_p: 0 }, "top_p"],
      [{ max_tokens: -1 }, "max_tokens"],
      [{ max_tokens: 2.5 }, "max_tokens"],
      [{ n: 0 }, "n"],
      [{ stop: ["a", "b", "c", "d", "e"] }, "stop"],
      [{ stop: [""] }, "stop"],
      [{ presence_penalty: 2.5 }, "presence_penalty"],
      [{ logit_bias: { x: 1 } }, "logit_bias"],
      [{ logit_bias: { "5": 101 } }, "logit_bias"],
      [{ seed: "7" }, "seed"],
    ];
    for (const [body, param] of bad) {
      let err: unknown;
      try {
        configFromOpenAI(body);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(body)).toBeInstanceOf(OpenAIParamError);
      expect((err as OpenAIParamError).param).toBe(param);
      expect((err as OpenAIParamError).toBody().error.type).toBe("invalid_request_error");
    }
  });
});
