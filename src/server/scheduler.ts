// The server's generation scheduler: a fair FIFO queue in front of a bounded set of running
// decodings that advance one token at a time, in turn.
//
// Generation is CPU-bound and JavaScript has one thread, so at most one forward runs at any
// moment. Running each request to completion would make a short request wait behind a long one
// and stall every other stream; instead the scheduler keeps up to `maxActive` decodings and gives
// each one step (one token for every row of that request) in round-robin order, returning to the
// event loop between steps so sockets flush, new requests are parsed and disconnects are noticed.
// Every running stream therefore progresses at 1/active of the single-stream rate, and time to
// first token for a newcomer is bounded by one step of each running request plus its own prefill.
//
// Admission: requests beyond `maxActive` wait in arrival order (FIFO) and start as slots free up;
// beyond `maxActive + maxQueue` in total the request is refused at once with 429 rather than
// queued without bound. A cancelled job (client gone) is aborted at its next turn and frees its
// slot; a queued one is dropped without having started.
//
// Not continuous batching: src/generate's Decoding owns its KV cache per request, so requests do
// not share a forward. Batching rows of different requests into one GEMM would raise throughput
// under load; the interleaving keeps latency fair without it.
import type { Decoding, GenerateOutput } from "../generate/index.js";
import { ApiError } from "./errors.js";

export interface SchedulerOptions {
  /** Decodings advanced in turn (default 16). */
  maxActive?: number;
  /** Requests waiting for a slot before new ones get 429 (default 256). */
  maxQueue?: number;
}

export interface StepUpdate {
  tokens: Array<number | null>;
  finished: boolean[];
}

interface Job {
  decoding: Decoding;
  onStep: (u: StepUpdate) => void;
  signal: AbortSignal | undefined;
  resolve: (out: GenerateOutput) => void;
  reject: (err: unknown) => void;
  /** Step count, for statistics. */
  steps: number;
}

export interface SchedulerStats {
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
  private readonly counts = { completed: 0, cancelled: 0, failed: 0, rejected: 0, steps: 0 };

  constructor(opts: SchedulerOptions = {}) {
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
  run(decoding: Decoding, onStep: (u: StepUpdate) => void, signal?: AbortSignal): Promise<GenerateOutput> {
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
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    setImmediate(() => this.loop());
  }

  private finish(job: Job, fn: () => void): void {
    const i = this.active.indexOf(job);
    if (i >= 0) {
      this.active.splice(i, 1);
      if (i < this.cursor) this.cursor--;
    }
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

  /** One step of the job whose turn it is, then back to the event loop. */
  private loop(): void {
    if (this.active.length === 0) {
      this.running = false;
      return;
    }
    if (this.cursor >= this.active.length) this.cursor = 0;
    const job = this.active[this.cursor];
    this.cursor++;
    try {
      if (job.signal?.aborted) {
        this.counts.cancelled++;
        job.decoding.abort();
        this.finish(job, () => job.resolve(job.decoding.result()));
      } else {
        const u = job.decoding.step();
        job.steps++;
        this.counts.steps++;
        job.onStep(u);
        if (job.decoding.done) {
          this.counts.completed++;
          this.finish(job, () => job.resolve(job.decoding.result()));
        }
      }
    } catch (err) {
      this.counts.failed++;
      try {
        if (!job.decoding.done) job.decoding.abort();
      } catch {
        // the job is dropped either way
      }
      this.finish(job, () => job.reject(err));
    }
    setImmediate(() => this.loop());
  }
}
