// Fuzzing the HTTP API: a few thousand random and malformed request bodies (bad JSON, truncated
// JSON, wrong types, huge and non-finite numbers, missing and unknown fields, unicode garbage,
// deep nesting, invalid UTF-8) sent to every endpoint. The server must never crash or answer 500;
// every non-200 answer is an OpenAI-shaped error with a 4xx status; every 200 is a well-formed
// response (or a stream ending in [DONE]); and it still serves a normal request at the end.
// Seeded, so a failure reproduces; the failing body is printed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, serve, type RunningServer } from "../../src/server/index.js";
import { makeTinyModel } from "./tiny_model.js";

let srv: RunningServer;

beforeAll(async () => {
  // A short context and small default max_tokens keep accepted requests cheap.
  srv = await serve(loadModel(makeTinyModel({ nPositions: 48 }), { id: "tiny" }), { port: 0, maxActive: 8, maxQueue: 64, limits: { defaultMaxTokens: 4, maxBodyBytes: 64 * 1024 } });
});
afterAll(async () => {
  await srv?.close();
});

/** mulberry32: a small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = rng(20261128);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const int = (n: number) => Math.floor(rand() * n);

const NUMBERS = [0, 1, 2, 3, 4, -1, -0, 0.5, 1.5, 2.5, 7, 64, 100, 1e6, 1e308, -1e308, 2 ** 53, 2 ** 31, -(2 ** 31), 1e-300, 3.14159];
const STRINGS = ["", "tiny", "hello", "user", "assistant", "system", "tool", "text", "float", "base64", "\u0000", "\ud800", "\uffff", "💥🔥", "a".repeat(300), "null", "NaN", "{", "<|endoftext|>", "\u202e", "ü".repeat(50)];
const FIELDS = ["model", "messages", "prompt", "input", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "min_p", "n", "stream", "stream_options", "stop", "seed", "logit_bias", "presence_penalty", "frequency_penalty", "repetition_penalty", "logprobs", "tools", "echo", "suffix", "best_of", "user", "encoding_format", "dimensions", "__proto__", "constructor", "role", "content"];

function randomValue(depth = 0): unknown {
  const k = int(depth > 3 ? 4 : 8);
  switch (k) {
    case 0:
      return pick(NUMBERS);
    case 1:
      return pick(STRINGS);
    case 2:
      return pick([true, false, null]);
    case 3:
      return rand() * 10 - 5;
    case 4:
      return Array.from({ length: int(4) }, () => randomValue(depth + 1));
    case 5:
      return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(FIELDS), randomValue(depth + 1)]));
    case 6:
      return [{ role: pick(STRINGS), content: randomValue(depth + 1) }];
    default:
      return Array.from({ length: int(5) }, () => int(400) - 50);
  }
}

/** A valid body for the endpoint (small max_tokens). */
function validBody(path: string): Record<string, unknown> {
  if (path === "/v1/embeddings") return { model: "tiny", input: pick(["hi", ["a", "b"], [1, 2, 3]]) };
  if (path === "/v1/completions") return { model: "tiny", prompt: pick(["Once", ["a", "b"], [65, 66]]), max_tokens: 1 + int(3), stream: rand() < 0.3 };
  return { model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 1 + int(3), stream: rand() < 0.3 };
}

/** A body: a mutated valid one, random JSON, or broken text. */
function randomBody(path: string): string | Uint8Array {
  const r = rand();
  if (r < 0.55) {
    const b = validBody(path);
    const ops = 1 + int(3);
    for (let i = 0; i < ops; i++) {
      const op = int(3);
      if (op === 0) b[pick(FIELDS)] = randomValue();
      else if (op === 1) delete b[pick(Object.keys(b))];
      else b[pick(Object.keys(b))] = randomValue();
    }
    // Keep generation short whatever the mutation did to max_tokens.
    if (typeof b["max_tokens"] === "number" && b["max_tokens"] > 4 && b["max_tokens"] < 48) b["max_tokens"] = 4;
    return JSON.stringify(b);
  }
  if (r < 0.7) return JSON.stringify(randomValue());
  if (r < 0.8) {
    const s = JSON.stringify(validBody(path));
    return s.slice(0, int(s.length));
  }
  if (r < 0.87) return Uint8Array.from({ length: int(64) }, () => int(256));
  if (r < 0.92) return "[".repeat(1 + int(5000)) + "]".repeat(int(3));
  if (r < 0.96) return JSON.stringify(validBody(path)).replace(/"[a-z_]+":/, `"${pick(STRINGS)}":`);
  return pick(["", "null", "NaN", "{}", "[]", '{"model": "tiny", "messages": null}', '{"model": 1e999}', '"string"', "1", '{"a":']);
}

async function check(path: string, body: string | Uint8Array): Promise<number> {
  const res = await fetch(`${srv.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const text = await res.text();
  const shown = typeof body === "string" ? body.slice(0, 300) : `bytes ${Buffer.from(body).toString("hex").slice(0, 100)}`;
  const where = `${path} ${res.status} body=${shown} response=${text.slice(0, 300)}`;
  if (res.status === 200) {
    if ((res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      expect(text.endsWith("data: [DONE]\n\n"), where).toBe(true);
      expect(text.includes('"error"'), where).toBe(false);
    } else {
      const json = JSON.parse(text);
      expect(json.object === "list" || Array.isArray(json.choices), where).toBe(true);
    }
  } else {
    expect([400, 404, 413, 429], where).toContain(res.status);
    const json = JSON.parse(text);
    expect(Object.keys(json), where).toEqual(["error"]);
    expect(typeof json.error.message, where).toBe("string");
    expect(typeof json.error.type, where).toBe("string");
  }
  return res.status;
}

describe("tslm serve fuzzing", () => {
  it("thousands of random and malformed bodies: never a crash, always OpenAI-shaped errors", async () => {
    const paths = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"];
    const N = 2000;
    const statuses = new Map<number, number>();
    const bodies = Array.from({ length: N }, () => {
      const path = pick(paths);
      return { path, body: randomBody(path) };
    });
    // A few clients at once, as real traffic would be.
    let next = 0;
    const worker = async () => {
      while (next < bodies.length) {
        const { path, body } = bodies[next++];
        const s = await check(path, body);
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    console.log("fuzz statuses", Object.fromEntries(statuses), "steps", srv.scheduler.stats().steps);
    // Both outcomes were exercised.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(50);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(N / 2);
    expect(srv.scheduler.stats().failed).toBe(0);
    // Random methods and paths (percent-encoding garbage included): never a 5xx.
    const methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
    const segs = ["v1", "models", "tiny", "%E0%A4%A", "%", "..", "chat", "completions", "embeddings", "health", "", "%00", "💥"];
    for (let i = 0; i < 150; i++) {
      const path = "/" + Array.from({ length: 1 + int(4) }, () => encodeURI(pick(segs)).replace(/%25/g, "%")).join("/");
      const method = pick(methods);
      const res = await fetch(`${srv.url}${path}`, { method, ...(method === "GET" || method === "HEAD" ? {} : { body: "{}" }) });
      const text = await res.text();
      expect(res.status, `${method} ${path}: ${text.slice(0, 200)}`).toBeLessThan(500);
      if (res.status >= 400 && method !== "HEAD") expect(Object.keys(JSON.parse(text))).toEqual(["error"]);
    }
    const ok = await fetch(`${srv.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "tiny", prompt: "still alive", max_tokens: 2 }) });
    expect(ok.status).toBe(200);
  });
});
