// `tslm chat --model DIR`: an interactive conversation in the terminal. Each line read from stdin
// is a user turn; the whole history is rendered with the model's chat template
// (tokenizer_config.json chat_template or chat_template.jinja, or --template FILE) and the reply is
// streamed as it is generated, then kept in the history. `/reset` forgets the history (the
// --system message stays), `/exit` (or end of input) quits. Works with piped stdin, which is how
// the tests drive it; the "> " prompt is printed only on a terminal.
//
// When the history no longer fits the model's context with room for the reply, the oldest turns
// are dropped (the system message is kept) and a note goes to stderr.
import { Command, CommanderError } from "commander";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { GenerationConfig } from "../generate/index.js";
import type { ChatMessage } from "../prompting/index.js";
import { loadModel, type LoadedModel } from "../server/model.js";
import { addGenerationFlags, configFromFlags, runIds, type GenerationFlags } from "./generate.js";

function fail(message: string): never {
  process.stderr.write(`tslm chat: ${message}\n`);
  throw new CommanderError(1, "tslm.chat", message);
}

interface ChatCliOptions extends GenerationFlags {
  model: string;
  system?: string;
  template?: string;
}

/** Prompt ids for the history, dropping the oldest turns until `room` tokens are left for the reply. */
function fitHistory(lm: LoadedModel, history: ChatMessage[], room: number): { ids: number[]; dropped: number } {
  const tpl = lm.chatTemplate!;
  const msgs = [...history];
  let dropped = 0;
  for (;;) {
    const ids = lm.tokenizer.encode(tpl.render(msgs, { addGenerationPrompt: true }), { addSpecialTokens: false }).ids;
    const firstTurn = msgs[0]?.role === "system" ? 1 : 0;
    if (lm.contextLength === null || ids.length + room <= lm.contextLength || msgs.length - firstTurn <= 1) return { ids, dropped };
    msgs.splice(firstTurn, 1);
    history.splice(firstTurn, 1);
    dropped++;
  }
}

export function registerChat(program: Command): void {
  const cmd = program
    .command("chat")
    .description("chat with a model in the terminal (its chat template; /reset, /exit)")
    .requiredOption("--model <dir>", "model directory or tslm run directory (its latest checkpoint)")
    .option("--system <text>", "a system message that starts the conversation")
    .option("--template <file>", "a Jinja chat template file, for models without one (or to replace theirs)");
  addGenerationFlags(cmd, { beams: false });
  cmd.action(async (o: ChatCliOptions) => {
    let lm: LoadedModel;
    let config: GenerationConfig;
    try {
      const template = o.template !== undefined ? readFileSync(o.template, "utf8") : undefined;
      lm = loadModel(o.model, { template });
      config = configFromFlags(lm.generationConfig, o, 256);
    } catch (e) {
      fail((e as Error).message);
    }
    if (!lm.chatTemplate) fail(`${lm.dir} has no chat template (tokenizer_config.json chat_template or chat_template.jinja); pass one with --template FILE`);
    if (config.num_beams > 1 || config.num_return_sequences > 1) fail("chat streams one reply: the model's generation_config.json sets num_beams / num_return_sequences > 1");
    const system: ChatMessage[] = o.system !== undefined ? [{ role: "system", content: o.system }] : [];
    let history: ChatMessage[] = [...system];
    const tty = process.stdin.isTTY === true;
    const rl = createInterface({ input: process.stdin, terminal: tty });
    const ask = () => {
      if (tty) process.stdout.write("> ");
    };
    ask();
    for await (const raw of rl) {
      const line = raw.trim();
      if (line === "") {
        ask();
        continue;
      }
      if (line === "/exit" || line === "/quit") break;
      if (line === "/reset") {
        history = [...system];
        process.stdout.write("(history cleared)\n");
        ask();
        continue;
      }
      history.push({ role: "user", content: raw });
      const want = config.max_new_tokens ?? 256;
      try {
        const { ids, dropped } = fitHistory(lm, history, Math.min(want, Math.max(1, (lm.contextLength ?? Infinity) / 2)));
        if (dropped > 0) process.stderr.write(`(dropped the ${dropped} oldest message(s) to fit the model's context of ${lm.contextLength} tokens)\n`);
        if (lm.contextLength !== null && ids.length >= lm.contextLength) throw new Error(`the message is ${ids.length} tokens with its template; the model's context is ${lm.contextLength}`);
        // The reply may not run past the context.
        const room = lm.contextLength === null ? want : Math.min(want, lm.contextLength - ids.length);
        const cfg = room !== want ? config.with({ max_new_tokens: room }, "fields") : config;
        const r = runIds(lm, "", ids, cfg, (t) => process.stdout.write(t));
        process.stdout.write("\n");
        history.push({ role: "assistant", content: r.sequences[0].text });
      } catch (e) {
        history.pop();
        process.stderr.write(`tslm chat: ${(e as Error).message}\n`);
      }
      ask();
    }
    rl.close();
  });
}
