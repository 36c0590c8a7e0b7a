// `tslm serve [--model DIR] [--host 127.0.0.1] [--port 8000]`: the OpenAI-compatible HTTP server
// (src/server) over one model. Without --model it serves the most recent run under ./runs that
// has a checkpoint. It binds 127.0.0.1 unless told otherwise: the API has no authentication.
// The limits are flags; the process runs until SIGINT / SIGTERM, then stops accepting, aborts
// running generations and exits.
import { Command, CommanderError } from "commander";
import { readFileSync } from "node:fs";
import { serve } from "../server/server.js";
import { latestRun, loadModel } from "../server/model.js";
import { intArg } from "./generate.js";

function fail(message: string): never {
  process.stderr.write(`tslm serve: ${message}\n`);
  throw new CommanderError(1, "tslm.serve", message);
}

interface ServeCliOptions {
  model?: string;
  runs: string;
  host: string;
  port: number;
  name?: string;
  template?: string;
  maxActive: number;
  maxQueue: number;
  maxBodyBytes: number;
  maxPromptTokens?: number;
  defaultMaxTokens: number;
  quiet?: boolean;
  batching: boolean;
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("serve a model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, /v1/embeddings) with a playground at /")
    .option("--model <dir>", "model directory or tslm run directory (default: the latest run under --runs)")
    .option("--runs <dir>", "where to look for runs when --model is omitted", "runs")
    .option("--host <host>", "address to bind (0.0.0.0 exposes the unauthenticated API to the network)", "127.0.0.1")
    .option("--port <n>", "port (0 = any free port)", intArg("--port", 0), 8000)
    .option("--name <id>", "the model id clients send as `model` (default: the run or directory name)")
    .option("--template <file>", "a Jinja chat template file (for models without one)")
    .option("--max-active <n>", "requests generating at once, interleaved token by token", intArg("--max-active", 1), 16)
    .option("--max-queue <n>", "requests waiting for a slot (FIFO) before new ones get HTTP 429", intArg("--max-queue", 0), 256)
    .option("--max-body-bytes <n>", "largest request body (HTTP 413 above)", intArg("--max-body-bytes", 1), 1 << 20)
    .option("--max-prompt-tokens <n>", "longest prompt (default: the model's context)", intArg("--max-prompt-tokens", 1))
    .option("--default-max-tokens <n>", "max_tokens of chat requests that set none", intArg("--default-max-tokens", 1), 256)
    .option("--no-batching", "step each request alone, in turn (default: continuous batching of decoder-only requests)")
    .option("--quiet", "no request log on stderr")
    .action(async (o: ServeCliOptions) => {
      let running;
      try {
        const dir = o.model ?? latestRun(o.runs);
        const template = o.template !== undefined ? readFileSync(o.template, "utf8") : undefined;
        const lm = loadModel(dir, { id: o.name, template });
        running = await serve(lm, {
          host: o.host,
          port: o.port,
          maxActive: o.maxActive,
          maxQueue: o.maxQueue,
          batching: o.batching,
          limits: { maxBodyBytes: o.maxBodyBytes, defaultMaxTokens: o.defaultMaxTokens, ...(o.maxPromptTokens !== undefined ? { maxPromptTokens: o.maxPromptTokens } : {}) },
          log: o.quiet ? undefined : (line) => process.stderr.write(line + "\n"),
        });
        // One machine-readable line first: scripts and tests wait for it to learn the port.
        process.stdout.write(`tslm serve: model ${lm.id} (${lm.dir}) listening on ${running.url}\n`);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        fail(err.code === "EADDRINUSE" ? `port ${o.port} on ${o.host} is already in use (pick another with --port)` : err.message);
      }
      const server = running;
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.stderr.write("tslm serve: shutting down\n");
          void server.close().then(resolve);
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
