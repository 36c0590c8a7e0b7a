// Runs the tslm CLI in-process (main() with argv) with stdout and stderr captured; shared by the
// info / eval / fill-mask end-to-end tests.
import { vi } from "vitest";
import { main } from "../../src/cli/index.js";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export async function tslm(...argv: string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

/** A failure is exactly one line on stderr, no stack trace, exit code 1. */
export function expectOneLineError(r: Run, pattern: RegExp): void {
  if (r.code !== 1) throw new Error(`expected exit code 1, got ${r.code} (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split("\n");
  if (lines.length !== 1 || /\n\s+at /.test(r.stderr)) throw new Error(`expected one stderr line, got: ${r.stderr}`);
  if (!pattern.test(lines[0])) throw new Error(`stderr ${JSON.stringify(lines[0])} does not match ${pattern}`);
}
