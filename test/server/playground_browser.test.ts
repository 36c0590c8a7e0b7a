// The playground page end to end in headless Chromium (Debian's `chromium`, driven by
// playwright-core): load `/`, send two chat turns, watch the reply stream in, check that it equals
// what the API returns for the same conversation, that tokens/s is shown, and that /reset clears
// the conversation.
//
// Chromium is a system package (.ci/run installs it when apt-get is available). When it is
// missing, the test is skipped with the reason printed, unless TSLM_REQUIRE_BROWSER=1, where it
// fails with that reason.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModel, serve, type RunningServer } from "../../src/server/index.js";
import { EOS, makeTinyModel } from "./tiny_model.js";

// TSLM_CHROMIUM overrides the path (e.g. to check the skip and failure paths).
const CHROMIUM = process.env["TSLM_CHROMIUM"] ?? "/usr/bin/chromium";
const required = process.env["TSLM_REQUIRE_BROWSER"] === "1";
const missing = existsSync(CHROMIUM) ? null : `${CHROMIUM} not found (install Debian's chromium: apt-get install -y chromium)`;
if (missing && !required) console.warn(`playground browser test skipped: ${missing}; set TSLM_REQUIRE_BROWSER=1 to make this a failure`);

describe.skipIf(missing !== null && !required)("playground in headless Chromium", () => {
  let srv: RunningServer;
  const profile = mkdtempSync(join(tmpdir(), "tslm-chromium-"));

  beforeAll(async () => {
    // A long context so the "stop" turn is still generating when the button is clicked.
    srv = await serve(loadModel(makeTinyModel({ nPositions: 1024 }), { id: "tiny" }), { port: 0 });
  });
  afterAll(async () => {
    await srv?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it("streams a chat reply and shows tokens/s", async () => {
    if (missing) throw new Error(`TSLM_REQUIRE_BROWSER=1 but ${missing}`);
    const { chromium } = await import("playwright-core");
    // A fresh profile directory: playwright passes it as --user-data-dir.
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(srv.url + "/");
      expect(await page.textContent("#model")).toBe("tiny");
      // Greedy and EOS banned, so the reply is deterministic and full length.
      await page.fill("#temperature", "0");
      await page.fill("#max-tokens", "16");
      await page.evaluate((eos) => {
        // The page sends exactly the API's fields; bias EOS away through a fetch wrapper.
        const w = globalThis as any;
        const orig = w.fetch;
        w.fetch = (input: unknown, init: any) => {
          if (init?.body && typeof init.body === "string") init = { ...init, body: JSON.stringify({ ...JSON.parse(init.body), logit_bias: { [eos]: -100 } }) };
          return orig(input, init);
        };
      }, EOS);
      await page.fill("#input", "Hello");
      await page.click("#send");
      await page.waitForFunction('document.querySelector("#status")?.textContent === "done"', null, { timeout: 20_000 });
      const first = await page.textContent(".msg.assistant");
      expect(await page.textContent("#stats")).toMatch(/^16 tokens · first token \d+ ms · [\d.]+ tokens\/s · finish length$/);

      // The same conversation through the API gives the same text.
      const api = await fetch(`${srv.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "Hello" }], temperature: 0, max_tokens: 16, logit_bias: { [EOS]: -100 } }),
      }).then((r) => r.json() as Promise<any>);
      expect(first).toBe(api.choices[0].message.content);

      // A second turn keeps the history (two user and two assistant messages on screen).
      await page.fill("#input", "More");
      await page.click("#send");
      await page.waitForFunction('document.querySelectorAll(".msg.assistant").length === 2 && document.querySelector("#status")?.textContent === "done"', null, { timeout: 20_000 });
      expect(await page.locator(".msg.user").count()).toBe(2);
      // Stop: a long reply is cut short and the server cancels its generation.
      await page.fill("#max-tokens", "800");
      await page.fill("#input", "A long one");
      await page.click("#send");
      await page.waitForFunction('document.querySelectorAll(".msg.assistant")[2]?.textContent.length > 0', null, { timeout: 20_000 }).catch(async (e) => {
        throw new Error(`${e.message}; page: ${await page.textContent("#messages")} / ${await page.textContent("#status")}`);
      });
      await page.click("#stop");
      await page.waitForFunction('document.querySelector("#status")?.textContent === "stopped"', null, { timeout: 20_000 });
      const t0 = Date.now();
      while (srv.scheduler.stats().cancelled < 1 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
      expect(srv.scheduler.stats().cancelled).toBe(1);
      await page.click("#reset");
      expect(await page.locator(".msg").count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
