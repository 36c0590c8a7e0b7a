// Bounded load on loopback: 50 concurrent streaming chat requests against a tiny model all finish
// with exactly the requested number of tokens, progress together (round-robin interleaving: every
// stream has its first token before any stream ends), queue fairly when slots run out, and leave
// memory (heapUsed + arrayBuffers after a full GC) near its steady level. Plus cancellation: a
// client that disconnects mid-stream frees its slot, and a queued request whose client left never
// starts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { loadModel, serve, type RunningServer } from "../../src/server/index.js";
import { EOS, makeTinyModel } from "./tiny_model.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let srv: RunningServer;
const dir = makeTinyModel({ nPositions: 96 });

beforeAll(async () => {
  srv = await serve(loadModel(dir, { id: "tiny" }), { port: 0, maxActive: 64, maxQueue: 8 });
});
afterAll(async () => {
  await srv?.close();
});

interface StreamResult {
  text: string;
  usage: { completion_tokens: number } | null;
  finish: string | null;
  firstAt: number;
  endAt: number;
  done: boolean;
}

/** One streaming chat request read to the end with fetch; times are performance.now(). */
async function streamChat(url: string, content: string, maxTokens: number, signal?: AbortSignal, onChunk?: () => void): Promise<StreamResult> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content }], max_tokens: maxTokens, temperature: 0.9, seed: 1, logit_bias: { [EOS]: -100 }, stream: true, stream_options: { include_usage: true } }),
    signal,
  });
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  const out: StreamResult = { text: "", usage: null, finish: null, firstAt: 0, endAt: 0, done: false };
  const dec = new TextDecoder();
  let buf = "";
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += dec.decode(part, { stream: true });
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const line = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      expect(line.startsWith("data: ")).toBe(true);
      const data = line.slice(6);
      if (data === "[DONE]") {
        out.done = true;
        continue;
      }
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(chunk.error.message);
      if (chunk.usage) out.usage = chunk.usage;
      for (const c of chunk.choices) {
        if (c.delta?.content) {
          if (!out.firstAt) out.firstAt = performance.now();
          out.text += c.delta.content;
        }
        if (c.finish_reason) {
          out.finish = c.finish_reason;
          out.endAt = performance.now();
        }
      }
      onChunk?.();
    }
  }
  return out;
}

function memory(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function waitFor(cond: () => boolean, ms = 5000, what = ""): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("tslm serve under load", () => {
  it("50 concurrent streams complete with the expected tokens; memory returns to its steady level", async () => {
    const N = 50;
    const tokens = 12;
    const wave = () => Promise.all(Array.from({ length: N }, (_, i) => streamChat(srv.url, `request ${i}`, tokens)));
    // A first wave reaches the steady state (JIT, pools, sockets); the second is measured.
    await wave();
    const before = memory();
    const results = await wave();
    for (const r of results) {
      expect(r.done).toBe(true);
      expect(r.finish).toBe("length");
      expect(r.usage!.completion_tokens).toBe(tokens);
    }
    // Same seed and different prompts: a sanity check that replies are the requests' own.
    expect(new Set(results.map((r) => r.text)).size).toBeGreaterThan(1);
    // Token-by-token interleaving: every stream started before the first one ended.
    expect(Math.max(...results.map((r) => r.firstAt))).toBeLessThan(Math.min(...results.map((r) => r.endAt)));
    await waitFor(() => srv.scheduler.stats().active === 0);
    // Continuous batching ran many requests' rows in one forward.
    expect(srv.scheduler.stats().maxBatchRows).toBeGreaterThan(10);
    const after = memory();
    console.log(`load test: heapUsed+arrayBuffers after GC ${(before / 2 ** 20).toFixed(1)} MiB before the measured wave, ${(after / 2 ** 20).toFixed(1)} MiB after; batch of up to ${srv.scheduler.stats().maxBatchRows} rows`);
    expect(after - before, `memory grew from ${before} to ${after}`).toBeLessThan(8 * 1024 * 1024);
  });

  it("requests beyond the slots wait in FIFO order; beyond the queue they get 429", async () => {
    const small = await serve(loadModel(dir, { id: "tiny" }), { port: 0, maxActive: 2, maxQueue: 2 });
    try {
      const order: number[] = [];
      const running = Array.from({ length: 4 }, (_, i) => streamChat(small.url, `q${i}`, 40).then((r) => (order.push(i), r)));
      await waitFor(() => small.scheduler.stats().queued === 2);
      const refused = await fetch(`${small.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "tiny", prompt: "x", max_tokens: 2 }) });
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as any).error.code).toBe("rate_limit_exceeded");
      const results = await Promise.all(running);
      results.forEach((r) => expect(r.usage!.completion_tokens).toBe(40));
      // The two queued requests started after both running ones ended.
      expect(order.slice(0, 2).sort()).toEqual([0, 1]);
    } finally {
      await small.close();
    }
  });

  it.each([true, false])("a client that disconnects mid-stream frees its slot; a queued one never starts (batching %s)", async (batching) => {
    // A long context so the running request cannot finish before the test has cancelled it.
    const one = await serve(loadModel(makeTinyModel({ nPositions: 512 }), { id: "tiny" }), { port: 0, maxActive: 1, maxQueue: 4, batching });
    try {
      const ac = new AbortController();
      let firstChunk!: () => void;
      const started = new Promise<void>((r) => (firstChunk = r));
      const gone = streamChat(one.url, "long", 400, ac.signal, () => firstChunk()).catch((e) => e);
      await started;
      // A second client queues behind it and leaves before its turn; then the first one leaves.
      const ac2 = new AbortController();
      const queued = streamChat(one.url, "queued", 400, ac2.signal).catch((e) => e);
      await waitFor(() => one.scheduler.stats().queued === 1, 5000, "for the second request to queue");
      ac2.abort();
      ac.abort();
      expect(await gone).toBeInstanceOf(Error);
      expect(await queued).toBeInstanceOf(Error);
      await waitFor(() => one.scheduler.stats().active === 0 && one.scheduler.stats().queued === 0, 5000, "for the slots to empty");
      const s = one.scheduler.stats();
      expect(s.cancelled).toBe(2);
      // The aborted stream stopped early: far fewer than 400 steps ran in all.
      expect(s.steps).toBeLessThan(300);
      // The slot is free: a new request is served at once.
      const r = await streamChat(one.url, "next", 5);
      expect(r.usage!.completion_tokens).toBe(5);
    } finally {
      await one.close();
    }
  });
});
