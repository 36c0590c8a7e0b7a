// `tslm serve`'s HTTP layer on node:http: routing, body reading with a size limit, JSON and
// server-sent-event responses, and cancellation when a client goes away. The endpoints' meaning
// lives in api.ts; the scheduling in scheduler.ts.
//
//   GET  /                     the playground page (playground.ts)
//   GET  /health               {"status": "ok", model, scheduler statistics}
//   GET  /v1/models            GET /v1/models/{id}
//   POST /v1/completions       POST /v1/chat/completions   (stream: true -> SSE)
//   POST /v1/embeddings
//
// Streaming follows OpenAI: `data: {chunk}\n\n` lines, the first chat chunk of each choice carries
// delta.role, content arrives in delta.content, a last chunk per choice carries finish_reason
// ("stop" | "length") and an empty delta; with stream_options.include_usage every chunk has
// "usage": null and a final chunk with "choices": [] carries the usage; then `data: [DONE]`.
// Errors after the 200 header went out are sent as a `data: {"error": ...}` event before [DONE].
// A closed connection aborts the request's generation at its next scheduler turn.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApiError, badRequest, toApiError } from "./errors.js";
import { OpenAIService, defaultLimits, newId, type Generated, type ServeLimits, type StreamSink } from "./api.js";
import type { LoadedModel } from "./model.js";
import { playgroundHtml } from "./playground.js";
import { Scheduler, type SchedulerOptions } from "./scheduler.js";
import { ContinuousBatch, type BatchableLM } from "./batch.js";

export interface ServeOptions extends SchedulerOptions {
  host?: string;
  port?: number;
  limits?: Partial<ServeLimits>;
  /** Continuous batching of decoder-only requests (default true; false: every request steps alone, in turn). */
  batching?: boolean;
  /** Called with one line per request (method, path, status, ms); default: none. */
  log?: (line: string) => void;
}

export interface RunningServer {
  server: Server;
  service: OpenAIService;
  scheduler: Scheduler;
  /** http://host:port */
  url: string;
  close(): Promise<void>;
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };

function sendJSON(res: ServerResponse, status: number, value: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify(value);
  res.writeHead(status, { ...JSON_HEADERS, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, err: ApiError): void {
  sendJSON(res, err.status, err.body());
}

/** Reads the body up to `limit` bytes; a larger one is a 413 (the rest is not buffered). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new ApiError(413, `the request body is ${declared} bytes, more than this server's limit of ${limit}`, "invalid_request_error", null, "request_too_large"));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(new ApiError(413, `the request body is more than this server's limit of ${limit} bytes`, "invalid_request_error", null, "request_too_large"));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on("error", (e) => {
      if (!failed) reject(e);
    });
  });
}

function parseJSONBody(buf: Buffer): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    throw badRequest("the request body is not valid UTF-8", null, "invalid_json");
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw badRequest(`We could not parse the JSON body of your request. (${(e as Error).message.slice(0, 200)})`, null, "invalid_json");
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw badRequest("the request body must be a JSON object", null, "invalid_json");
  return v as Record<string, unknown>;
}

/** An SSE response: the chunk writer and the end, ignoring writes once the client is gone. */
class EventStream {
  constructor(private readonly res: ServerResponse) {
    // Tokens are small writes spaced in time: without TCP_NODELAY, Nagle's algorithm holds one
    // until the previous is acknowledged, which a client's delayed ACK can stall for ~40 ms.
    res.socket?.setNoDelay(true);
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" });
    // Send the header now so clients see the stream open before the first token.
    res.flushHeaders();
  }
  send(value: unknown): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    // A client that stopped reading would make the server buffer its stream without bound: past
    // 8 MiB unsent, drop the connection (which cancels the generation like a disconnect).
    if (this.res.writableLength > 8 * 1024 * 1024) {
      this.res.destroy();
      return;
    }
    this.res.write(`data: ${JSON.stringify(value)}\n\n`);
  }
  done(): void {
    if (!this.res.destroyed && !this.res.writableEnded) this.res.end("data: [DONE]\n\n");
  }
}

/** Starts the server; resolves once it listens. */
export async function serve(lm: LoadedModel, opts: ServeOptions = {}): Promise<RunningServer> {
  const batching = (opts.batching ?? true) && !lm.isEncoderDecoder;
  const scheduler = new Scheduler({ ...opts, batch: batching ? new ContinuousBatch(lm.model as unknown as BatchableLM) : undefined });
  const service = new OpenAIService(lm, scheduler, defaultLimits(lm, opts.limits), batching);
  const limits = service.limits;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let path: string;
    try {
      path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "") || "/";
    } catch {
      throw badRequest("the request URL does not parse", null, "invalid_url");
    }
    const method = req.method ?? "GET";
    // Cancel the request's generation when its client goes away before the response ends.
    const ac = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) ac.abort();
    });
    const route = (want: string): void => {
      if (method !== want) throw new ApiError(405, `${method} is not allowed on ${path}; use ${want}`, "invalid_request_error", null, "method_not_allowed");
    };
    if (method === "OPTIONS") {
      // CORS preflight (browsers on another origin, e.g. a local web app).
      res.writeHead(204, { "access-control-allow-origin": "*", "access-control-allow-methods": "GET, POST, OPTIONS", "access-control-allow-headers": "content-type, authorization" });
      res.end();
      return;
    }
    res.setHeader("access-control-allow-origin", "*");
    if (path === "/") {
      route("GET");
      const html = playgroundHtml(lm.id);
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(html) });
      res.end(html);
      return;
    }
    if (path === "/health") {
      route("GET");
      return sendJSON(res, 200, { status: "ok", model: lm.id, scheduler: scheduler.stats() });
    }
    if (path === "/v1/models") {
      route("GET");
      return sendJSON(res, 200, service.models());
    }
    if (path.startsWith("/v1/models/")) {
      route("GET");
      let id: string;
      try {
        id = decodeURIComponent(path.slice("/v1/models/".length));
      } catch {
        throw badRequest("the model id in the URL is not valid percent-encoding", "model", "invalid_value");
      }
      return sendJSON(res, 200, service.model(id));
    }
    const endpoints = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"];
    if (!endpoints.includes(path)) throw new ApiError(404, `Invalid URL (${method} ${path.slice(0, 200)})`, "invalid_request_error", null, "not_found");
    route("POST");
    const body = parseJSONBody(await readBody(req, limits.maxBodyBytes));
    if (path === "/v1/embeddings") return sendJSON(res, 200, await service.embeddings(body));
    const chat = path === "/v1/chat/completions";
    const prep = chat ? service.prepareChat(body) : service.prepareCompletion(body);
    const id = newId(chat ? "chatcmpl" : "cmpl");
    const created = Math.floor(Date.now() / 1000);
    const object = chat ? "chat.completion" : "text_completion";
    const usageOf = (g: Generated) => ({ prompt_tokens: g.promptTokens, completion_tokens: g.completionTokens, total_tokens: g.promptTokens + g.completionTokens });
    if (scheduler.full) {
      // Refuse before a stream's 200 header goes out (the scheduler would say the same).
      throw new ApiError(429, `the server is busy (limit ${scheduler.maxActive} generating + ${scheduler.maxQueue} queued); retry later`, "rate_limit_error", null, "rate_limit_exceeded");
    }
    if (!prep.flags.stream) {
      const g = await prep.run(null, ac.signal);
      if (ac.signal.aborted) return;
      const choices = g.choices.map((c) =>
        chat
          ? { index: c.index, message: { role: "assistant", content: c.text, refusal: null }, logprobs: null, finish_reason: c.finishReason }
          : { index: c.index, text: c.text, logprobs: null, finish_reason: c.finishReason },
      );
      return sendJSON(res, 200, { id, object, created, model: lm.id, system_fingerprint: null, choices, usage: usageOf(g) });
    }
    const es = new EventStream(res);
    const chunkObject = chat ? "chat.completion.chunk" : "text_completion";
    const usageField = prep.flags.includeUsage ? { usage: null } : {};
    const chunk = (choice: Record<string, unknown>) => ({ id, object: chunkObject, created, model: lm.id, system_fingerprint: null, choices: [choice], ...usageField });
    const started = new Set<number>();
    const open = (index: number) => {
      // The first chat chunk of a choice announces the role (OpenAI sends it with empty content).
      if (chat && !started.has(index)) {
        started.add(index);
        es.send(chunk({ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }));
      }
    };
    const sink: StreamSink = {
      text(index, text) {
        open(index);
        es.send(chunk(chat ? { index, delta: { content: text }, logprobs: null, finish_reason: null } : { index, text, logprobs: null, finish_reason: null }));
      },
      finish(index, reason) {
        if (reason === "abort") return;
        open(index);
        es.send(chunk(chat ? { index, delta: {}, logprobs: null, finish_reason: reason } : { index, text: "", logprobs: null, finish_reason: reason }));
      },
    };
    try {
      const g = await prep.run(sink, ac.signal);
      if (prep.flags.includeUsage) es.send({ id, object: chunkObject, created, model: lm.id, system_fingerprint: null, choices: [], usage: usageOf(g) });
    } catch (err) {
      es.send(toApiError(err).body());
    }
    es.done();
  }

  const server = createServer((req, res) => {
    const t0 = performance.now();
    handle(req, res)
      .catch((err) => {
        const e = toApiError(err);
        sendError(res, e);
        // A 413 leaves the rest of the body unread: close the connection instead of draining it.
        if (e.status === 413) res.on("finish", () => req.destroy());
      })
      .finally(() => {
        opts.log?.(`${req.method} ${req.url} ${res.statusCode} ${(performance.now() - t0).toFixed(0)}ms`);
      });
  });
  // Slow or idle clients must not pin sockets forever; generation itself has no deadline.
  server.headersTimeout = 30_000;
  server.requestTimeout = 0;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 8000, opts.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    server,
    service,
    scheduler,
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        scheduler.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
