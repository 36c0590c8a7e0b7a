// A tokenizing process killed with SIGKILL mid-write leaves no cache that could be used: the next
// build finds no header, removes the dead writer's temporary file and tokenizes again.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildTokenCache } from "../../src/data/index.js";
import { repoRoot } from "../helpers.js";

// The child's tokenizer: characters -> ids, slow (2 ms a call) so the kill lands mid-build.
const CHILD = `
import { buildTokenCache } from ${JSON.stringify(join(repoRoot, "src", "data", "index.ts"))};
const [data, cacheDir] = process.argv.slice(2);
let calls = 0;
const tok = {
  vocabSize: 300,
  toJSON: () => ({ type: "char-test" }),
  tokenToId: (t) => (t === "<|endoftext|>" ? 0 : undefined),
  encode(text) {
    if (++calls === 5) process.stdout.write("started\\n");
    const until = Date.now() + 2;
    while (Date.now() < until) {}
    return { ids: Array.from(text, (c) => 1 + (c.charCodeAt(0) % 299)) };
  },
};
buildTokenCache({ sources: data, tokenizer: tok, cacheDir, chunkBytes: 64, progress: false });
process.stdout.write("finished\\n");
`;

describe("token cache and SIGKILL", () => {
  it("a killed build leaves only a temporary file, cleaned and rebuilt by the next run", async () => {
    const root = mkdtempSync(join(tmpdir(), "tslm-kill-"));
    const data = join(root, "data");
    mkdirSync(data);
    writeFileSync(join(data, "a.txt"), "some words on a line\n".repeat(2000));
    const cacheDir = join(root, "cache");
    const script = join(root, "child.mts");
    writeFileSync(script, CHILD);
    const child = spawn(process.execPath, ["--import", "tsx", script, data, cacheDir], { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (b: Buffer) => {
        if (b.toString().includes("started")) {
          child.kill("SIGKILL");
          resolve();
        } else if (b.toString().includes("finished")) reject(new Error("the child finished before it could be killed"));
      });
      child.on("error", reject);
      child.on("exit", (code, sig) => (sig === "SIGKILL" ? resolve() : reject(new Error(`child exited with ${code} before starting`))));
    });
    await new Promise((r) => child.once("exit", r).once("close", r));
    const left = readdirSync(cacheDir);
    expect(left.filter((f) => f.includes(".tmp-")).length).toBe(1);
    expect(left.filter((f) => f.endsWith(".json") || f.endsWith(".bin"))).toEqual([]);
    // Same tokenizer identity in this process: no header -> tokenize; the dead temp file goes away.
    let calls = 0;
    const tok = {
      vocabSize: 300,
      toJSON: () => ({ type: "char-test" }),
      tokenToId: (t: string) => (t === "<|endoftext|>" ? 0 : undefined),
      encode(text: string) {
        calls++;
        return { ids: Array.from(text, (c) => 1 + (c.charCodeAt(0) % 299)) };
      },
    };
    const c = buildTokenCache({ sources: data, tokenizer: tok, cacheDir, progress: false });
    expect(c.built).toBe(true);
    expect(calls).toBeGreaterThan(0);
    expect(c.length).toBe(42_000 + 1);
    expect(readdirSync(cacheDir).sort()).toEqual([`tokens-${c.header.key}.bin`, `tokens-${c.header.key}.json`]);
  });
});
