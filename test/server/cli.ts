// Spawning the tslm CLI from the TypeScript sources (test/e2e/run_cli.mjs) for the generate,
// chat and serve e2e tests; async so that several runs overlap.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../helpers.js";

export const cliPath = join(repoRoot, "test", "e2e", "run_cli.mjs");

/** Starts the CLI with `args` (native-addon warnings silenced: they are not under test). */
export function spawnCli(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ["--import", "tsx", cliPath, ...args], { cwd: repoRoot, env: { ...process.env, NODE_NO_WARNINGS: "1" } });
}

/** Runs the CLI to the end, `input` on stdin; resolves with the exit code, stdout and stderr. */
export function runCli(args: string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnCli(args);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}
