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

/**
 * The config of a command that works in a run directory. With --resume: the run's saved config with
 * only the `mutable` flags changed (anything else would break the exact continuation), written back,
 * and the run's latest checkpoint to continue from. Otherwise: the --config file under the flags.
 * `parse` validates and throws a one-line message; every failure goes through `fail`.
 */
export function resolveRunConfig<C>(o: { resume?: string; config?: string }, flags: Record<string, unknown>, mutable: readonly string[], parse: (raw: Record<string, unknown>, source: string) => C, fail: (message: string) => never): { cfg: C; run: RunDirectory | null; resumeFrom: string | null } {
  const parsed = (raw: Record<string, unknown>, source: string): C => {
    try {
      return parse(raw, source);
    } catch (e) {
      return fail((e as Error).message);
    }
  };
  if (!o.resume) return { cfg: parsed({ ...(o.config ? readJSONConfig(o.config, fail) : {}), ...flags }, o.config ?? "flags"), run: null, resumeFrom: null };
  let run: RunDirectory;
  try {
    run = RunDirectory.open(o.resume);
  } catch (e) {
    return fail(`--resume ${o.resume}: ${(e as Error).message}`);
  }
  for (const k of Object.keys(flags)) if (!mutable.includes(k)) fail(`--resume: --${k} cannot change when resuming (the run's config is ${run.path("train_config.json")})`);
  const cfg = parsed({ ...run.readConfig(), ...flags }, run.path("train_config.json"));
  run.writeConfig(cfg);
  return { cfg, run, resumeFrom: run.latestCheckpoint() };
}
