// `tslm serve` end to end: the spawned server binds 127.0.0.1, prints its URL, picks the latest run
// under --runs when --model is omitted, answers the API and the playground, and exits cleanly on
// SIGTERM. A missing model is a one-line error with exit code 1.
import { describe, expect, it } from "vitest";
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, spawnCli } from "../server/cli.js";
import { makeTinyModel } from "../server/tiny_model.js";

describe("tslm serve", () => {
  it("serves the latest run on 127.0.0.1 and stops on SIGTERM", async () => {
    const runs = mkdtempSync(join(tmpdir(), "tslm-runs-"));
    const run = join(runs, "tiny-run");
    mkdirSync(run);
    writeFileSync(join(run, "train_config.json"), "{}");
    cpSync(makeTinyModel(), join(run, "checkpoint-2"), { recursive: true });
    writeFileSync(join(run, "checkpoint-2", "trainer_state.json"), '{"step": 2}');
    writeFileSync(join(run, "latest"), "checkpoint-2\n");

    const child = spawnCli(["serve", "--runs", runs, "--port", "0", "--quiet"]);
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on("exit", (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    });
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const models = (await (await fetch(`${url}/v1/models`)).json()) as any;
      expect(models.data[0].id).toBe("tiny-run");
      const r = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "tiny-run", messages: [{ role: "user", content: "hi" }], max_tokens: 4 }),
      });
      expect(r.status).toBe(200);
      expect(((await r.json()) as any).choices.length).toBe(1);
      const page = await fetch(`${url}/`);
      expect(page.headers.get("content-type")).toMatch(/text\/html/);
      expect(await page.text()).toMatch(/tslm playground/);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
    const none = await runCli(["serve", "--runs", join(runs, "nothing-here"), "--port", "0"]);
    expect(none.status).toBe(1);
    expect(none.stderr.trim()).toMatch(/^tslm serve: no --model given and no .* folder here/);
  });
});
