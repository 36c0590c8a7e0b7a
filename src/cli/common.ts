// Helpers shared by the commands: one-line failures, zod messages, JSON config files.
import { CommanderError } from "commander";
import { readFileSync } from "node:fs";
import type { z } from "zod";

/** Prints "tslm <command>: <message>" on stderr and ends the command with exit code 1 (no stack). */
export function failer(command: string): (message: string) => never {
  return (message: string): never => {
    process.stderr.write(`tslm ${command}: ${message}\n`);
    throw new CommanderError(1, `tslm.${command}`, message);
  };
}

/** zod issues as one line: unknown keys named, other problems with their path. */
export function zodMessage(err: z.ZodError, source: string): string {
  return err.issues
    .map((i) => {
      if (i.code === "unrecognized_keys") return `${source}: unknown key(s) ${(i as { keys: string[] }).keys.map((k) => `"${k}"`).join(", ")}`;
      return `${source}: ${i.path.join(".") || "(root)"}: ${i.message}`;
    })
    .join("; ");
}

/** A --config JSON file as an object; a missing file, bad JSON or a non-object fails via `fail`. */
export function readJSONConfig(path: string, fail: (message: string) => never): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    fail(`--config ${path}: no such file`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    fail(`--config ${path}: ${(e as Error).message}`);
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) fail(`--config ${path}: expected a JSON object`);
  return v as Record<string, unknown>;
}
