// Helpers shared by the commands: one-line failures, zod messages, JSON config files.
import { CommanderError, InvalidArgumentError } from "commander";
import { readFileSync } from "node:fs";
import type { z } from "zod";
import { RunDirectory } from "../io/run.js";
import type { Trainer, TrainerState } from "../train/trainer.js";

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

/** Option parsers: an integer / a finite number, or commander's one-line usage error. */
export function intArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected an integer, got "${v}"`);
  return n;
}

export function numArg(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${v}"`);
  return n;
}

/**
 * Ctrl-C / SIGTERM for long runs: the first signal asks the loop to stop after the current step
 * (it then saves a checkpoint), the second quits at once with 130. dispose() removes the handlers.
 */
export function stopOnSignal(command: string): { stopped(): boolean; dispose(): void } {
  let stop = false;
  const onSignal = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write(`\ntslm ${command}: stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)\n`);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    stopped: () => stop,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

/**
 * Continues a run from one of its checkpoints: trainer and optimizer state restored, log.jsonl cut
 * back to that step (so the log has no steps that are about to be redone), and a line printed.
 */
export function resumeRun(trainer: Trainer, run: RunDirectory, checkpoint: string, out: (line: string) => void): void {
  const ck = RunDirectory.readCheckpoint(checkpoint);
  trainer.loadState(ck.trainerState as TrainerState, ck.optimizer);
  run.truncateLog(ck.step);
  out(`resuming ${run.dir} from ${checkpoint} (step ${ck.step})`);
}
