// Run directories: where a training run keeps its config, log, loss plot and checkpoints.
//
//   runs/<name>/
//     train_config.json      the exact, validated config the run used (rewritten on resume)
//     log.jsonl              one JSON object per logged step / evaluation, appended
//     loss.svg               the loss curve, rewritten after every log record that has news
//     tokenizer/             the tokenizer the run trained (when it trained one)
//     checkpoint-<step>/     a Hugging Face model directory (config.json, model.safetensors,
//                            tokenizer.json, generation_config.json) plus optimizer.safetensors
//                            and trainer_state.json
//     latest                 the name of the newest complete checkpoint (one line)
//
// Crash safety: a checkpoint is written into a temporary sibling folder and renamed into place
// only when complete; `latest` is replaced atomically afterwards. A run killed at any instant
// leaves `latest` naming a complete checkpoint (or no `latest` at all before the first one).
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Tensor } from "../tensor/tensor.js";
import type { PretrainedModel } from "../models/registry.js";
import { atomicWriteFile, atomicWriteJSON } from "./atomic.js";
import { parseJSONText } from "./json.js";
import { savePretrained, type SavePretrainedOptions } from "./pretrained.js";
import { loadSafetensors, readSafetensorsHeader, saveSafetensors } from "./safetensors.js";

export const TRAIN_CONFIG_NAME = "train_config.json";
export const LOG_NAME = "log.jsonl";
export const PLOT_NAME = "loss.svg";
export const LATEST_NAME = "latest";
export const OPTIMIZER_NAME = "optimizer.safetensors";
export const TRAINER_STATE_NAME = "trainer_state.json";

export interface CheckpointWrite {
  step: number;
  model: PretrainedModel;
  tokenizer?: SavePretrainedOptions["tokenizer"];
  generationConfig?: SavePretrainedOptions["generationConfig"];
  optimizer: { tensors: Map<string, Tensor>; meta: Record<string, unknown> };
  trainerState: unknown;
}

export interface CheckpointRead {
  dir: string;
  step: number;
  optimizer: { tensors: Map<string, Tensor>; meta: Record<string, unknown> };
  trainerState: unknown;
}

export class RunDirectory {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /**
   * A new run in `dir`. An existing folder that already holds a run (train_config.json) is an
   * error unless `overwrite`, which deletes its checkpoints and log first.
   */
  static create(dir: string, config: unknown, opts: { overwrite?: boolean } = {}): RunDirectory {
    const run = new RunDirectory(dir);
    if (existsSync(join(run.dir, TRAIN_CONFIG_NAME))) {
      if (!opts.overwrite) {
        throw new Error(`${run.dir} already holds a run (${TRAIN_CONFIG_NAME} exists); pass --resume to continue it, or --overwrite to start over`);
      }
      for (const f of readdirSync(run.dir)) {
        if (f.startsWith("checkpoint-") || [LOG_NAME, PLOT_NAME, LATEST_NAME, TRAIN_CONFIG_NAME].includes(f)) rmSync(join(run.dir, f), { recursive: true, force: true });
      }
    }
    mkdirSync(run.dir, { recursive: true });
    atomicWriteJSON(join(run.dir, TRAIN_CONFIG_NAME), config);
    return run;
  }

  /** An existing run (for --resume and for reading its checkpoints). */
  static open(dir: string): RunDirectory {
    const run = new RunDirectory(dir);
    if (!existsSync(join(run.dir, TRAIN_CONFIG_NAME))) throw new Error(`${run.dir} is not a tslm run directory (no ${TRAIN_CONFIG_NAME})`);
    return run;
  }

  readConfig(): Record<string, unknown> {
    const path = join(this.dir, TRAIN_CONFIG_NAME);
    const v = parseJSONText(readFileSync(path, "utf8"), path);
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error(`${path}: expected a JSON object`);
    return v as Record<string, unknown>;
  }

  writeConfig(config: unknown): void {
    atomicWriteJSON(join(this.dir, TRAIN_CONFIG_NAME), config);
  }

  appendLog(record: unknown): void {
    appendFileSync(join(this.dir, LOG_NAME), JSON.stringify(record) + "\n");
  }

  /** The log records so far (a torn last line from a crash is skipped). */
  readLog(): Record<string, unknown>[] {
    const path = join(this.dir, LOG_NAME);
    if (!existsSync(path)) return [];
    const out: Record<string, unknown>[] = [];
    for (const line of readFileSync(path, "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        // A line cut by a crash; everything before it is intact.
      }
    }
    return out;
  }

  /** Keeps log.jsonl consistent with a resumed checkpoint: drops records after `step`. */
  truncateLog(step: number): void {
    const kept = this.readLog().filter((r) => typeof r.step !== "number" || r.step <= step);
    atomicWriteFile(join(this.dir, LOG_NAME), kept.map((r) => JSON.stringify(r) + "\n").join(""));
  }

  writePlot(svg: string): void {
    atomicWriteFile(join(this.dir, PLOT_NAME), svg);
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** Writes checkpoint-<step> completely, then points `latest` at it; keeps the newest `keep`. */
  saveCheckpoint(c: CheckpointWrite, keep = 2): string {
    const name = `checkpoint-${c.step}`;
    const final = join(this.dir, name);
    const tmp = join(this.dir, `.${name}.tmp-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    try {
      savePretrained(c.model, tmp, { tokenizer: c.tokenizer, generationConfig: c.generationConfig });
      saveSafetensors(join(tmp, OPTIMIZER_NAME), c.optimizer.tensors, { tslm_optimizer: JSON.stringify(c.optimizer.meta) });
      atomicWriteJSON(join(tmp, TRAINER_STATE_NAME), c.trainerState);
      // Replace an older checkpoint of the same step (a run resumed from an earlier one).
      if (existsSync(final)) rmSync(final, { recursive: true, force: true });
      renameSync(tmp, final);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    atomicWriteFile(join(this.dir, LATEST_NAME), name + "\n");
    if (keep > 0) {
      const all = this.checkpoints();
      for (const old of all.slice(0, Math.max(0, all.length - keep))) if (old.name !== name) rmSync(join(this.dir, old.name), { recursive: true, force: true });
    }
    return final;
  }

  /** Complete checkpoints, oldest first. */
  checkpoints(): { name: string; step: number }[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .map((n) => ({ name: n, m: /^checkpoint-(\d+)$/.exec(n) }))
      .filter((x) => x.m && statSync(join(this.dir, x.name)).isDirectory())
      .map((x) => ({ name: x.name, step: Number(x.m![1]) }))
      .sort((a, b) => a.step - b.step);
  }

  /** The newest complete checkpoint folder, or null before the first one. */
  latestCheckpoint(): string | null {
    const p = join(this.dir, LATEST_NAME);
    if (!existsSync(p)) return null;
    const name = readFileSync(p, "utf8").trim();
    const dir = join(this.dir, basename(name));
    if (!/^checkpoint-\d+$/.test(name) || !existsSync(join(dir, TRAINER_STATE_NAME))) {
      throw new Error(`${p} names "${name}", which is not a complete checkpoint in ${this.dir}`);
    }
    return dir;
  }

  /** Optimizer and trainer state of a checkpoint folder (weights load with fromPretrained). */
  static readCheckpoint(dir: string): CheckpointRead {
    const statePath = join(dir, TRAINER_STATE_NAME);
    const optPath = join(dir, OPTIMIZER_NAME);
    for (const p of [statePath, optPath]) if (!existsSync(p)) throw new Error(`checkpoint ${dir} is incomplete: ${basename(p)} is missing`);
    const trainerState = parseJSONText(readFileSync(statePath, "utf8"), statePath) as { step?: number };
    // The optimizer's step counts ride in the safetensors header's __metadata__.
    const raw = readSafetensorsHeader(optPath).metadata.tslm_optimizer;
    if (!raw) throw new Error(`${optPath}: no tslm_optimizer metadata (not written by tslm's trainer?)`);
    const meta = parseJSONText(raw, `${optPath} (__metadata__.tslm_optimizer)`) as Record<string, unknown>;
    return { dir, step: Number(trainerState.step ?? 0), optimizer: { tensors: loadSafetensors(optPath), meta }, trainerState };
  }
}
