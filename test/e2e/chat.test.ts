// `tslm chat` end to end with piped stdin: each line is a turn rendered with the model's chat
// template together with the history, the streamed reply equals the library's generateChat on the
// same history, /reset forgets the history, /exit quits; a model without a chat template is a clear
// error that suggests --template, and --template FILE makes it work.
import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateChat } from "../../src/generate/index.js";
import { loadModel } from "../../src/server/index.js";
import { runCli } from "../server/cli.js";
import { CHAT_TEMPLATE, makeTinyModel } from "../server/tiny_model.js";

describe("tslm chat", () => {
  it("keeps the history, streams replies, /reset and /exit; no template is a clear error", async () => {
    const dir = makeTinyModel();
    const plain = makeTinyModel({ chatTemplate: false });
    const tpl = join(plain, "my_template.jinja");
    writeFileSync(tpl, CHAT_TEMPLATE);
    const flags = ["--greedy", "--max-new-tokens", "8"];
    const [chat, noTpl, withTpl] = await Promise.all([
      runCli(["chat", "--model", dir, "--system", "be brief", ...flags], "Hello\nHow are you\n/reset\nHow are you\n/exit\nnever read\n"),
      runCli(["chat", "--model", plain], "Hello\n"),
      runCli(["chat", "--model", plain, "--template", tpl, ...flags], "Hello\n"),
    ]);
    expect(chat.status, chat.stderr).toBe(0);
    const lines = chat.stdout.split("\n");
    // The reference: the library on the same histories (EOS may end a reply early, as in the CLI).
    const lm = loadModel(dir);
    const cfg = lm.generationConfig.with({ max_new_tokens: 8, do_sample: false }, "fields");
    const sys = { role: "system", content: "be brief" };
    const r1 = generateChat(lm.model as never, lm.tokenizer, [sys, { role: "user", content: "Hello" }], cfg).texts[0];
    const r2 = generateChat(lm.model as never, lm.tokenizer, [sys, { role: "user", content: "Hello" }, { role: "assistant", content: r1 }, { role: "user", content: "How are you" }], cfg).texts[0];
    const r3 = generateChat(lm.model as never, lm.tokenizer, [sys, { role: "user", content: "How are you" }], cfg).texts[0];
    expect(r2).not.toBe(r3); // the history changes the reply, so the check below means something
    expect(chat.stdout).toBe(`${r1}\n${r2}\n(history cleared)\n${r3}\n`);
    expect(lines.length).toBe(5);

    expect(noTpl.status).toBe(1);
    expect(noTpl.stderr).toMatch(/has no chat template.*--template FILE/);
    expect(noTpl.stderr.trim().split("\n").length).toBe(1);
    expect(withTpl.status, withTpl.stderr).toBe(0);
    expect(withTpl.stdout.length).toBeGreaterThan(1);
  });
});
