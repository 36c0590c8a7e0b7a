// The server's generation scheduler: a fair FIFO queue in front of a bounded set of running
// generations that all advance together, one token per turn.
//
// Generation is CPU-bound and JavaScript has one thread, so at most one forward runs at any
// moment. Running each request to completion would make a short request wait behind a long one
// and stall every other stream; instead the scheduler keeps up to `maxActive` generations running
// and works in turns (below), returning to the event loop after each turn so sockets flush, new
// requests are parsed and disconnects are noticed. Every running stream gets a token per turn.
//
// Admission: requests beyond `maxActive` wait in arrival order (FIFO) and start as slots free up;
// beyond `maxActive + maxQueue` in total the request is refused at once with 429 rather than
// queued without bound. A cancelled job (client gone) is aborted at its next turn and frees its
// slot; a queued one is dropped without having started.
//
// Two kinds of work share the slots. Requests to decoder-only models without beam search are
// BatchMembers of a ContinuousBatch (batch.ts): a turn either prefills the newcomers together or
// decodes one token for every running member in a single forward. Other requests (encoder-decoder models,
// beam search) are src/generate Decodings, one step each in round-robin turns.
import type { Decoding, GenerateOutput } from "../generate/index.js";
import { BatchMember, ContinuousBatch } from "./batch.js";
import { ApiError } from "./errors.js";

export interface SchedulerOptions {
  /** Decodings advanced in turn (default 16). */
  maxActive?: number;
  /** Requests waiting for a slot before new ones get 429 (default 256). */
  maxQueue?: number;
  /** The continuous batch BatchMember tasks join (required to run them). */
  batch?: ContinuousBatch;
}

export interface StepUpdate {
  tokens: Array<number | null>;
  finished: boolean[];
}

/** A generation the scheduler runs: a Decoding stepped alone, or a member of the continuous batch. */
export type Task = Decoding | BatchMember;

interface Job {
  decoding: Task;
  onStep: (u: StepUpdate) => void;
  signal: AbortSignal | undefined;
  resolve: (out: GenerateOutput) => void;
  reject: (err: unknown) => void;
  /** Step count, for statistics. */
  steps: number;
}

export interface SchedulerStats {
  /** Forwards of the continuous batch, and the most rows one of them carried. */
  batchedSteps: number;
  maxBatchRows: number;
  active: number;
  queued: number;
  maxActive: number;
  maxQueue: number;
  completed: number;
  cancelled: number;
  failed: number;
  rejected: number;
  steps: number;
}

export class Scheduler {
  readonly maxActive: number;
  readonly maxQueue: number;
  private readonly active: Job[] = [];
  private readonly waiting: Job[] = [];
  private cursor = 0;
  private running = false;
  private closed = false;
  private readonly counts = { completed: 0, cancelled: 0, failed: 0, rejected: 0, steps: 0, batchedSteps: 0, maxBatchRows: 0 };
  private readonly batch: ContinuousBatch | null;
  /** Prefill time since the last batched step. */
  private prefillMs = 0;

  constructor(opts: SchedulerOptions = {}) {
    this.batch = opts.batch ?? null;
    this.maxActive = opts.maxActive ?? 16;
    this.maxQueue = opts.maxQueue ?? 256;
    if (!Number.isInteger(this.maxActive) || this.maxActive < 1) throw new Error(`Scheduler: maxActive must be an integer >= 1, got ${this.maxActive}`);
    if (!Number.isInteger(this.maxQueue) || this.maxQueue < 0) throw new Error(`Scheduler: maxQueue must be an integer >= 0, got ${this.maxQueue}`);
  }

  stats(): SchedulerStats {
    return { active: this.active.length, queued: this.waiting.length, maxActive: this.maxActive, maxQueue: this.maxQueue, ...this.counts };
  }

  /** Whether a request submitted now would be refused (429). */
  get full(): boolean {
    return this.active.length + this.waiting.length >= this.maxActive + this.maxQueue;
  }

  /**
   * Runs `decoding` to completion among the others; `onStep` receives each of its steps. Resolves
   * with the result (finish reason "abort" when `signal` fired), rejects with 429 when full or with
   * the step's error (the other jobs carry on).
   */
  run(decoding: Task, onStep: (u: StepUpdate) => void, signal?: AbortSignal): Promise<GenerateOutput> {
    if (decoding instanceof BatchMember) {
      if (!this.batch) return Promise.reject(new Error("Scheduler: a BatchMember needs the scheduler's batch option"));
      decoding.onStep = onStep;
    }
    if (this.closed) return Promise.reject(new ApiError(503, "the server is shutting down", "server_error", null, "shutting_down"));
    if (this.full) {
      this.counts.rejected++;
      return Promise.reject(
        new ApiError(429, `the server is busy: ${this.active.length} requests generating and ${this.waiting.length} queued (limit ${this.maxActive} + ${this.maxQueue}); retry later`, "rate_limit_error", null, "rate_limit_exceeded"),
      );
    }
    return new Promise<GenerateOutput>((resolve, reject) => {
      const job: Job = { decoding, onStep, signal, resolve, reject, steps: 0 };
      if (this.active.length < this.maxActive) this.active.push(job);
      else this.waiting.push(job);
      this.kick();
    });
  }

  /** Aborts everything (server shutdown). */
  close(): void {
    this.closed = true;
    for (const j of [...this.waiting, ...this.active]) {
      j.decoding.abort();
      j.resolve(j.decoding.result());
    }
    this.waiting.length = 0;
    this.active.length = 0;
    this.batch?.clear();
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    setImmediate(() => this.loop());
  }

  private finish(job: Job, fn: () => void): void {
    const i = this.active.indexOf(job);
    if (i >= 0) this.active.splice(i, 1);
    fn();
    // Free slot: the longest-waiting live request takes it.
    while (this.active.length < this.maxActive && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      if (next.signal?.aborted) {
        this.counts.cancelled++;
        next.decoding.abort();
        next.resolve(next.decoding.result());
        continue;
      }
      this.active.push(next);
    }
  }

  /**
   * One turn: drop cancelled jobs, prefill one batch newcomer, one batched step for the running
   * members, one step of the Decoding whose turn it is; settle finished jobs; back to the event loop.
   */
  private loop(): void {
    if (this.active.length === 0) {
      this.running = false;
      return;
    }
    for (const job of [...this.active]) {
      if (job.signal?.aborted && !job.decoding.done) {
        this.counts.cancelled++;
        job.decoding.abort();
        this.finish(job, () => job.resolve(job.decoding.result()));
      }
    }
    // A prefill turn takes the waiting newcomers (up to 8, in arrival order) in one left-padded
    // forward and ends there, so their first tokens flush at once; prefill turns follow each
    // other until they have taken ~50 ms since the last batched step, then the batch steps, so a
    // burst of arrivals cannot stall the running streams for longer.
    let admitted = 0;
    if (this.prefillMs < 50) {
      const jobs = this.active.filter((j) => j.decoding instanceof BatchMember && !j.decoding.prefilled && !j.decoding.done).slice(0, 8);
      if (jobs.length > 0) {
        const t0 = performance.now();
        try {
          this.batch!.prefillMany(jobs.map((j) => j.decoding as BatchMember));
          this.counts.steps++;
          for (const j of jobs) j.steps++;
        } catch (err) {
          // Those newcomers fail; the batch's own rows and cache are untouched until the merge.
          for (const j of jobs) {
            this.counts.failed++;
            (j.decoding as BatchMember).abort();
            this.finish(j, () => j.reject(err));
          }
        }
        this.prefillMs += performance.now() - t0;
        admitted = jobs.length;
      }
    }
    if (admitted === 0) this.prefillMs = 0;
    if (admitted === 0 && this.batch && this.batch.size > 0) {
      const rows = this.batch.rows;
      try {
        this.batch.step();
        this.counts.batchedSteps++;
        this.counts.steps++;
        this.counts.maxBatchRows = Math.max(this.counts.maxBatchRows, rows);
      } catch (err) {
        // The shared cache is in an unknown state: every member of the batch fails.
        const failed = new Set<Task>(this.batch.clear());
        for (const job of this.active.filter((j) => failed.has(j.decoding))) {
          this.counts.failed++;
          this.finish(job, () => job.reject(err));
        }
      }
    }
    const singles = this.active.filter((j) => !(j.decoding instanceof BatchMember));
    if (singles.length > 0) {
      if (this.cursor >= singles.length) this.cursor = 0;
      const job = singles[this.cursor++];
      this.guard(job, () => {
        const u = (job.decoding as Decoding).step();
        job.onStep(u);
      });
    }
    for (const job of [...this.active]) {
      if (job.decoding.done) {
        this.counts.completed++;
        this.finish(job, () => job.resolve(job.decoding.result()));
      }
    }
    setImmediate(() => this.loop());
  }

  /** Runs one job's work; an error fails that job alone. */
  private guard(job: Job, fn: () => void): void {
    try {
      fn();
      job.steps++;
      this.counts.steps++;
    } catch (err) {
      this.counts.failed++;
      try {
        if (!job.decoding.done) job.decoding.abort();
      } catch {
        // the job is dropped either way
      }
      this.finish(job, () => job.reject(err));
    }
  }
}
