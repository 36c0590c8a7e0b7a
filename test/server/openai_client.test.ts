// The official `openai` npm client against `tslm serve` (in process, loopback, tiny random GPT-2):
// models list, chat (non-streaming and streaming, with the usage chunk), completions (several
// prompts, n, token-id prompts, stop strings), embeddings (float and base64, normalised), and the
// error responses: shape, status and the field named, for the cases the issue lists.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { loadModel, serve, type RunningServer } from "../../src/server/index.js";
import { EOS, makeTinyModel } from "./tiny_model.js";

let srv: RunningServer;
let noChat: RunningServer;
let client: OpenAI;

beforeAll(async () => {
  srv = await serve(loadModel(makeTinyModel({ nPositions: 64 }), { id: "tiny" }), { port: 0, limits: { maxBodyBytes: 4096 } });
  noChat = await serve(loadModel(makeTinyModel({ chatTemplate: false }), { id: "plain" }), { port: 0 });
  client = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

afterAll(async () => {
  await srv?.close();
  await noChat?.close();
});

async function post(url: string, body: string | object, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

function expectOpenAIError(json: any): void {
  expect(Object.keys(json)).toEqual(["error"]);
  expect(typeof json.error.message).toBe("string");
  expect(typeof json.error.type).toBe("string");
  expect("param" in json.error && "code" in json.error).toBe(true);
}

describe("tslm serve with the official openai client", () => {
  it("an encoder-decoder model (T5) completes, streams and embeds (stepped alone, not batched)", async () => {
    const t5 = await serve(loadModel(makeTinyModel({ modelType: "t5" }), { id: "t5" }), { port: 0 });
    try {
      const c = new OpenAI({ baseURL: `${t5.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const r = await c.completions.create({ model: "t5", prompt: "translate: hello", max_tokens: 6, temperature: 0 });
      expect(r.choices[0].text.length).toBeGreaterThan(0);
      let streamed = "";
      for await (const chunk of await c.completions.create({ model: "t5", prompt: "translate: hello", max_tokens: 6, temperature: 0, stream: true })) streamed += chunk.choices[0]?.text ?? "";
      expect(streamed).toBe(r.choices[0].text);
      const e = await c.embeddings.create({ model: "t5", input: "hello" });
      expect(e.data[0].embedding.length).toBe(32);
      expect(t5.scheduler.stats().batchedSteps).toBe(0);
    } finally {
      await t5.close();
    }
  });

  it("a model whose generation_config.json sets beam search answers non-streaming requests, and refuses to stream", async () => {
    const beams = await serve(loadModel(makeTinyModel({ generation: { num_beams: 3 } }), { id: "beamy" }), { port: 0 });
    try {
      const c = new OpenAI({ baseURL: `${beams.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const r = await c.completions.create({ model: "beamy", prompt: "ab", max_tokens: 5, n: 2, temperature: 0 });
      expect(r.choices.length).toBe(2);
      expect(r.choices[1].text).toBe(r.choices[0].text);
      const s = await post(`${beams.url}/v1/completions`, { model: "beamy", prompt: "ab", max_tokens: 5, stream: true });
      expect([s.status, s.json.error.param]).toEqual([400, "stream"]);
    } finally {
      await beams.close();
    }
  });

  it("lists the model", async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toEqual(["tiny"]);
    expect((await client.models.retrieve("tiny")).object).toBe("model");
    const h = (await (await fetch(`${srv.url}/health`)).json()) as any;
    expect(h.status).toBe("ok");
  });

  it("chat: streaming deltas add up to the non-streaming reply", async () => {
    const messages = [{ role: "system" as const, content: "be brief" }, { role: "user" as const, content: "Hello there" }];
    const r = await client.chat.completions.create({ model: "tiny", messages, max_tokens: 12, temperature: 0, logit_bias: { [EOS]: -100 } });
    expect(r.object).toBe("chat.completion");
    expect(r.choices[0].message.role).toBe("assistant");
    expect(r.choices[0].finish_reason).toBe("length");
    expect(r.usage).toMatchObject({ completion_tokens: 12 });
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + 12);
    const stream = await client.chat.completions.create({ model: "tiny", messages, max_tokens: 12, temperature: 0, logit_bias: { [EOS]: -100 }, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let finish: string | null = null;
    let usage: any = null;
    let first = true;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        if (first) expect(c.delta.role).toBe("assistant");
        first = false;
        text += c.delta.content ?? "";
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    expect(text).toBe(r.choices[0].message.content);
    expect(finish).toBe("length");
    expect(usage).toEqual(r.usage);
  });

  it("chat: a stop string ends the reply with finish_reason stop, in the stream too", async () => {
    const base = { model: "tiny", messages: [{ role: "user" as const, content: "abc" }], temperature: 0, logit_bias: { [EOS]: -100 } };
    const full = (await client.chat.completions.create({ ...base, max_tokens: 20 })).choices[0].message.content!;
    const chars = [...full].filter((c) => c !== "\ufffd");
    const stop = chars[Math.min(4, chars.length - 1)];
    const r = await client.chat.completions.create({ ...base, max_tokens: 20, stop: [stop] });
    expect(r.choices[0].finish_reason).toBe("stop");
    expect(r.choices[0].message.content).toBe(full.slice(0, full.indexOf(stop)));
    let streamed = "";
    for await (const c of await client.chat.completions.create({ ...base, max_tokens: 20, stop: [stop], stream: true })) streamed += c.choices[0]?.delta.content ?? "";
    expect(streamed).toBe(r.choices[0].message.content);
  });

  it("completions: several prompts, n choices, token-id prompts, seeded sampling", async () => {
    const r = await client.completions.create({ model: "tiny", prompt: ["Once upon", "a time"], max_tokens: 5, n: 2, seed: 7, logit_bias: { [EOS]: -100 } });
    expect(r.object).toBe("text_completion");
    expect(r.choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    expect(r.usage!.completion_tokens).toBe(20);
    const again = await client.completions.create({ model: "tiny", prompt: ["Once upon", "a time"], max_tokens: 5, n: 2, seed: 7, logit_bias: { [EOS]: -100 } });
    expect(again.choices.map((c) => c.text)).toEqual(r.choices.map((c) => c.text));
    const ids = [...Buffer.from("Once upon")];
    const byIds = await client.completions.create({ model: "tiny", prompt: ids, max_tokens: 5, temperature: 0 });
    const byText = await client.completions.create({ model: "tiny", prompt: "Once upon", max_tokens: 5, temperature: 0 });
    expect(byIds.choices[0].text).toBe(byText.choices[0].text);
    expect(byText.usage!.prompt_tokens).toBe(9);
    let streamed = "";
    for await (const c of await client.completions.create({ model: "tiny", prompt: "Once upon", max_tokens: 5, temperature: 0, stream: true })) streamed += c.choices[0]?.text ?? "";
    expect(streamed).toBe(byText.choices[0].text);
  });

  it("embeddings: one unit vector per input, float and base64 agree", async () => {
    const r = await client.embeddings.create({ model: "tiny", input: ["hello", "world", "hello"] });
    expect(r.data.length).toBe(3);
    for (const d of r.data) {
      expect(d.embedding.length).toBe(32);
      expect(Math.hypot(...d.embedding)).toBeCloseTo(1, 5);
    }
    expect(r.data[2].embedding).toEqual(r.data[0].embedding);
    expect(r.data[1].embedding).not.toEqual(r.data[0].embedding);
    expect(r.usage.prompt_tokens).toBe(15);
    // The client asks for base64 by default when no format is given and decodes it; ask explicitly for the raw form.
    const raw = await post(`${srv.url}/v1/embeddings`, { model: "tiny", input: "hello", encoding_format: "base64" });
    const buf = Buffer.from(raw.json.data[0].embedding, "base64");
    const v = Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4));
    expect(v).toEqual(r.data[0].embedding);
  });

  it("errors are OpenAI-shaped with the right status and parameter", async () => {
    const err = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return e as InstanceType<typeof OpenAI.APIError>;
      }
      throw new Error("expected an error");
    };
    const msgs = [{ role: "user" as const, content: "hi" }];
    const unknown = await err(client.chat.completions.create({ model: "gpt-4o", messages: msgs }));
    expect(unknown.status).toBe(404);
    expect((unknown.error as any).code).toBe("model_not_found");
    const topP = await err(client.chat.completions.create({ model: "tiny", messages: msgs, top_p: 1.5 }));
    expect(topP.status).toBe(400);
    expect((topP.error as any).param).toBe("top_p");
    const neg = await err(client.completions.create({ model: "tiny", prompt: "x", max_tokens: -1 }));
    expect([neg.status, (neg.error as any).param]).toEqual([400, "max_tokens"]);
    const tools = await err(client.chat.completions.create({ model: "tiny", messages: msgs, tools: [{ type: "function", function: { name: "f" } }] }));
    expect([tools.status, (tools.error as any).param]).toEqual([400, "tools"]);
    const logprobs = await err(client.chat.completions.create({ model: "tiny", messages: msgs, logprobs: true }));
    expect([logprobs.status, (logprobs.error as any).param]).toEqual([400, "logprobs"]);
    const long = await err(client.completions.create({ model: "tiny", prompt: "x".repeat(80), max_tokens: 4 }));
    expect([long.status, (long.error as any).code]).toEqual([400, "context_length_exceeded"]);
    const over = await err(client.completions.create({ model: "tiny", prompt: "x".repeat(40), max_tokens: 40 }));
    expect([over.status, (over.error as any).code]).toEqual([400, "context_length_exceeded"]);
    // Truncation when asked for (vLLM's truncate_prompt_tokens): the last 20 tokens are kept.
    const cut = await post(`${srv.url}/v1/completions`, { model: "tiny", prompt: "y".repeat(60) + "x".repeat(20), max_tokens: 4, temperature: 0, truncate_prompt_tokens: 20 });
    const same = await post(`${srv.url}/v1/completions`, { model: "tiny", prompt: "x".repeat(20), max_tokens: 4, temperature: 0 });
    expect([cut.status, cut.json.usage.prompt_tokens, cut.json.choices[0].text]).toEqual([200, 20, same.json.choices[0].text]);

    const unknownField = await post(`${srv.url}/v1/chat/completions`, { model: "tiny", messages: msgs, temprature: 0.5 });
    expect(unknownField.status).toBe(400);
    expectOpenAIError(unknownField.json);
    expect(unknownField.json.error.param).toBe("temprature");
    const badJson = await post(`${srv.url}/v1/chat/completions`, '{"model": "tiny", "messages": [');
    expect(badJson.status).toBe(400);
    expectOpenAIError(badJson.json);
    const big = await post(`${srv.url}/v1/completions`, { model: "tiny", prompt: "x".repeat(5000) });
    expect(big.status).toBe(413);
    expectOpenAIError(big.json);
    const route = await fetch(`${srv.url}/v1/nothing`);
    expect(route.status).toBe(404);
    expectOpenAIError(await route.json());
    const streamOpts = await post(`${srv.url}/v1/chat/completions`, { model: "tiny", messages: msgs, stream_options: { include_usage: true } });
    expect([streamOpts.status, streamOpts.json.error.param]).toEqual([400, "stream_options"]);
    const plain = await post(`${noChat.url}/v1/chat/completions`, { model: "plain", messages: msgs });
    expect([plain.status, plain.json.error.code]).toEqual([400, "no_chat_template"]);
    expect(plain.json.error.message).toMatch(/--template/);
    // The server still serves after all of that.
    expect((await client.completions.create({ model: "tiny", prompt: "ok", max_tokens: 2 })).choices.length).toBe(1);
  });
});
