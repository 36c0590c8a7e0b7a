// Serving benchmark: time to first token (TTFT) and decode tokens/s through `tslm serve`'s HTTP
// API (streaming /v1/completions over loopback to a `tslm serve` child process, parsed like a
// client would), beside the same decoding run directly with src/generate's Decoding (no HTTP, no
// scheduler) to show the server's overhead, and at concurrency 8 with continuous batching and
// without (round-robin turns).
//
//   npx tsx bench/serve.ts                          # random tiny and small GPT-2s, 32-token prompt, 128 new tokens
//   npx tsx bench/serve.ts --model DIR              # a real model directory instead
//   npx tsx bench/serve.ts --repeats 5 --json       # JSON lines
//   npx tsx bench/serve.ts --large --repeats 1      # also GPT-2 124M's body (768 x 12 layers)
//
// TTFT = request sent -> first streamed token (prefill + first step + HTTP); decode tokens/s =
// (tokens - 1) / (last token - first token) for one stream; aggregate = all tokens of the 8
// streams / wall time. With a --model of your own, the bias below assumes nothing about its
// vocabulary beyond ids 128-256 existing; pass --no-bias to send none.
// Figures: bench/README.md, section Serving.
import { readFileSync, rmSync } from "node:fs";
import { Decoding, GenerationConfig } from "../src/generate/index.js";
import { loadModel, type LoadedModel } from "../src/server/index.js";
import { spawnCli } from "../test/server/cli.js";
import { makeTinyModel } from "../test/server/tiny_model.js";
import { savePretrained } from "../src/io/index.js";
import { createModel } from "../src/models/index.js";
import { ParamSource } from "../src/nn/index.js";
import { Tokenizer } from "../src/tokenizers/index.js";

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const repeats = Number(opt("--repeats", "5"));
const newTokens = Number(opt("--new-tokens", "128"));
const promptTokens = Number(opt("--prompt-tokens", "32"));
const json = args.includes("--json");
const noBias = args.includes("--no-bias");

// EOS and every non-ASCII byte banned: each token is one ASCII character, so every token yields a
// streamed text chunk (a byte that does not complete a UTF-8 character would be held back and
// blur TTFT) and every request runs to --new-tokens.
const BIAS: Record<string, number> = noBias ? {} : Object.fromEntries(Array.from({ length: 129 }, (_, i) => [String(128 + i), -100]));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A random GPT-2 of the given width/depth with the byte tokenizer of the tests' tiny model. */
function randomModel(cfg: Record<string, unknown>): string {
  const dir = makeTinyModel({ nPositions: 256 });
  if (Object.keys(cfg).length > 0) {
    const tok = Tokenizer.fromDirectory(dir);
    const model = createModel({ model_type: "gpt2", vocab_size: 257, n_positions: 256, bos_token_id: 256, eos_token_id: 256, ...cfg }, ParamSource.init({ seed: 1, std: 0.2 }));
    savePretrained(model, dir, { tokenizer: tok, generationConfig: { bos_token_id: 256, eos_token_id: 256 } });
  }
  return dir;
}

async function stream(url: string, id: string, prompt: number[]): Promise<{ ttft: number; decode: number; tokens: number; end: number }> {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: id, prompt, max_tokens: newTokens, temperature: 0, logit_bias: BIAS, stream: true, stream_options: { include_usage: true } }),
  });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const dec = new TextDecoder();
  let buf = "";
  let first = 0;
  let last = 0;
  let tokens = 0;
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
    const now = performance.now();
    buf += dec.decode(part, { stream: true });
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const data = buf.slice(6, cut);
      buf = buf.slice(cut + 2);
      if (data === "[DONE]") continue;
      const chunk = JSON.parse(data);
      if (chunk.usage) tokens = chunk.usage.completion_tokens;
      if (chunk.choices[0]?.text) {
        if (!first) first = now;
        last = now;
      }
    }
  }
  return { ttft: first - t0, decode: last > first ? (tokens - 1) / ((last - first) / 1000) : 0, tokens, end: performance.now() };
}

function direct(lm: LoadedModel, prompt: number[]): { ttft: number; decode: number } {
  const cfg = lm.generationConfig.with({ max_new_tokens: newTokens, do_sample: false, logit_bias: BIAS }, "fields") as GenerationConfig;
  const t0 = performance.now();
  const d = new Decoding(lm.model as never, [prompt], cfg);
  d.step();
  const first = performance.now();
  let n = 1;
  while (!d.done) {
    d.step();
    n++;
  }
  return { ttft: first - t0, decode: (n - 1) / ((performance.now() - first) / 1000) };
}

/** `tslm serve` in a child process (a client in the same process would wait for the server's turns). */
async function startServer(dir: string, name: string, batching: boolean): Promise<{ url: string; cpuMs: () => number; stop: () => Promise<void> }> {
  const child = spawnCli(["serve", "--model", dir, "--name", name, "--port", "0", "--quiet", ...(batching ? [] : ["--no-batching"])]);
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`tslm serve exited with ${code}: ${err}`)));
  });
  return {
    url,
    // The server's CPU time (user + system, all threads) from /proc: on a machine shared with other
    // jobs, CPU per token compares batched and unbatched serving where wall time mostly measures
    // how much of the machine the benchmark got.
    cpuMs: () => {
      const f = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1].split(" ");
      return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.on("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

async function benchModel(name: string, dir: string): Promise<void> {
  const lm = loadModel(dir, { id: name });
  const prompt = Array.from({ length: promptTokens }, (_, i) => 65 + (i % 26));
  direct(lm, prompt); // warm-up (JIT, pools)
  const d = Array.from({ length: repeats }, () => direct(lm, prompt));
  const concurrent = async (srv: { url: string; cpuMs: () => number }) => {
    const agg: number[] = [];
    const ttft: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      const c0 = srv.cpuMs();
      const rs = await Promise.all(Array.from({ length: 8 }, () => stream(srv.url, name, prompt)));
      agg.push(rs.reduce((a, r) => a + r.tokens, 0) / ((Math.max(...rs.map((r) => r.end)) - t0) / 1000));
      ttft.push(median(rs.map((r) => r.ttft)));
      cpu.push((srv.cpuMs() - c0) / rs.reduce((a, r) => a + r.tokens, 0));
    }
    return { agg, ttft, cpu };
  };
  const srv = await startServer(dir, name, true);
  let s: Awaited<ReturnType<typeof stream>>[] = [];
  let c8: { agg: number[]; ttft: number[]; cpu: number[] };
  try {
    await stream(srv.url, name, prompt); // warm-up
    for (let i = 0; i < repeats; i++) s.push(await stream(srv.url, name, prompt));
    c8 = await concurrent(srv);
  } finally {
    await srv.stop();
  }
  // The same 8 streams with continuous batching off: one forward per request per turn.
  const plain = await startServer(dir, name, false);
  let rr: { agg: number[]; ttft: number[]; cpu: number[] };
  try {
    await stream(plain.url, name, prompt);
    rr = await concurrent(plain);
  } finally {
    await plain.stop();
  }
  const row = {
    model: name,
    params: lm.model.parameters().reduce((a, p) => a + p.size, 0),
    prompt_tokens: promptTokens,
    new_tokens: newTokens,
    direct_ttft_ms: +median(d.map((x) => x.ttft)).toFixed(2),
    direct_decode_tok_s: +median(d.map((x) => x.decode)).toFixed(1),
    server_ttft_ms: +median(s.map((x) => x.ttft)).toFixed(2),
    server_decode_tok_s: +median(s.map((x) => x.decode)).toFixed(1),
    c8_ttft_ms: +median(c8.ttft).toFixed(2),
    c8_aggregate_tok_s: +median(c8.agg).toFixed(1),
    c8_cpu_ms_per_token: +median(c8.cpu).toFixed(3),
    c8_unbatched_ttft_ms: +median(rr.ttft).toFixed(2),
    c8_unbatched_aggregate_tok_s: +median(rr.agg).toFixed(1),
    c8_unbatched_cpu_ms_per_token: +median(rr.cpu).toFixed(3),
  };
  if (json) console.log(JSON.stringify(row));
  else {
    console.log(
      `${name.padEnd(12)} ${String(row.params).padStart(9)}  direct: TTFT ${row.direct_ttft_ms} ms, ${row.direct_decode_tok_s} tok/s | server: TTFT ${row.server_ttft_ms} ms, ${row.server_decode_tok_s} tok/s \n${"".padEnd(23)}8 streams batched: TTFT ${row.c8_ttft_ms} ms, ${row.c8_aggregate_tok_s} tok/s total, ${row.c8_cpu_ms_per_token} CPU ms/token | unbatched: TTFT ${row.c8_unbatched_ttft_ms} ms, ${row.c8_unbatched_aggregate_tok_s} tok/s, ${row.c8_unbatched_cpu_ms_per_token} CPU ms/token`,
    );
  }
}

const model = opt("--model", "");
if (!json) console.log(`tslm serve benchmark: prompt ${promptTokens} tokens, ${newTokens} new tokens (greedy, EOS banned), median of ${repeats}; load average ${(await import("node:os")).loadavg()[0].toFixed(1)}`);
if (model) await benchModel("model", model);
else {
  const configs: Array<[string, Record<string, unknown>]> = [
    ["tiny-32x2", {}],
    ["small-256x4", { n_embd: 256, n_layer: 4, n_head: 4 }],
  ];
  // GPT-2 124M's body (768 wide, 12 layers; byte vocabulary, so ~85M parameters): minutes on 2 cores.
  if (args.includes("--large")) configs.push(["gpt2-body-768x12", { n_embd: 768, n_layer: 12, n_head: 12 }]);
  for (const [name, cfg] of configs) {
    const dir = randomModel(cfg);
    try {
      await benchModel(name, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
