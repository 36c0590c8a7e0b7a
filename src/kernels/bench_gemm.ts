// GEMM benchmark: GFLOP/s of the native gemm, side by side with PyTorch's torch.mm when a Python
// with torch is available. Used by `tslm bench gemm` (src/cli/bench.ts); see bench/README.md.
//
// Method (bench/BENCH.md of the project: the machine is shared and noisy):
//   - one sample = back-to-back calls for at least `seconds`, GFLOP/s = 2 M N K calls / time;
//   - per shape and thread count, one untimed warm-up sample on each side, then `repeats` samples
//     interleaved tslm, torch, tslm, torch, ... so that both see the same background load;
//   - report the median and the min / max of the samples, and the ratio of the medians.
// PyTorch runs in a child process (bench/gemm_torch.py) with OMP_WAIT_POLICY=PASSIVE and
// torch.set_num_threads(threads): its default busy-waiting threads would hobble it here.
//
// Shapes are written M x K x N (tokens x in-features x out-features), as in the project's BENCH
// notes: 2048x768x3072 is a GPT-2 MLP up-projection over 2048 tokens, 256x768x50257 the LM head.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import { loadNative, type NativeAddon } from "./native/index.js";

export type GemmLayout = "nn" | "nt" | "tn" | "tt";

export interface GemmShape {
  M: number;
  N: number;
  K: number;
}

/** The standard shapes of the project's benchmarks (bench/BENCH notes), as M x K x N. */
export const STANDARD_GEMM_SHAPES: GemmShape[] = [
  { M: 512, K: 512, N: 512 },
  { M: 1024, K: 1024, N: 1024 },
  { M: 2048, K: 768, N: 3072 },
  { M: 2048, K: 768, N: 768 },
  { M: 256, K: 768, N: 50257 },
];

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface GemmBenchRow {
  shape: GemmShape;
  threads: number;
  layout: GemmLayout;
  clock: "wall" | "cpu";
  tslm: Spread;
  torch?: Spread;
  /** tslm median / torch median */
  ratio?: number;
}

export interface GemmBenchOptions {
  shapes?: GemmShape[];
  threads?: number[];
  repeats?: number;
  /** minimum duration of one sample, in seconds */
  seconds?: number;
  layout?: GemmLayout;
  /**
   * "wall" (default): GFLOP per second of wall time. "cpu": GFLOP per CPU-second of the process
   * (all its threads), i.e. per-core efficiency, which time spent descheduled on a loaded machine
   * does not dilute; spinning threads count as busy.
   */
  clock?: "wall" | "cpu";
  /** Python with torch: a path, null to skip torch, undefined to look for one */
  python?: string | null;
  /** called once the kernels and torch are ready, before the first measurement */
  onStart?: (info: GemmBenchInfo) => void;
  /** called as soon as each row is measured (for streaming output) */
  onRow?: (row: GemmBenchRow) => void;
}

export interface GemmBenchInfo {
  /** native kernel name, e.g. "avx512-14x32" */
  kernel: string;
  /** "torch 2.13.0 (mkl) via /path/python", or why torch is not compared */
  torch: string;
  torchAvailable: boolean;
}

/** Parses "512x512x512,2048x768x3072" (M x K x N each). */
export function parseGemmShapes(text: string): GemmShape[] {
  return text.split(",").map((s) => {
    const parts = s.trim().toLowerCase().split("x").map(Number);
    if (parts.length !== 3 || parts.some((v) => !Number.isInteger(v) || v < 1)) {
      throw new Error(`bad GEMM shape "${s}": expected MxKxN with positive integers, e.g. 2048x768x3072`);
    }
    const [M, K, N] = parts as [number, number, number];
    return { M, K, N };
  });
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  return dir;
}

/** A Python that can import torch: TSLM_PYTHON, else .venv/bin/python in the package root. */
export function findTorchPython(): { python: string | null; note: string } {
  const candidates = [process.env.TSLM_PYTHON, join(packageRoot(), ".venv", "bin", "python")].filter(
    (p): p is string => !!p,
  );
  for (const py of candidates) {
    if (py !== process.env.TSLM_PYTHON && !existsSync(py)) continue;
    const res = spawnSync(py, ["-c", "import torch"], { encoding: "utf8", timeout: 60_000 });
    if (res.status === 0) return { python: py, note: "" };
    if (py === process.env.TSLM_PYTHON) return { python: null, note: `TSLM_PYTHON=${py} cannot import torch` };
  }
  return { python: null, note: "no Python with torch found (set TSLM_PYTHON or create .venv with torch)" };
}

function spread(xs: number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

/** The torch child process, answering one timing request per line. */
class TorchServer {
  private constructor(
    private proc: ChildProcessWithoutNullStreams,
    private rl: Interface,
    private lines: AsyncIterator<string>,
    readonly banner: string,
  ) {}

  static async start(python: string, script: string): Promise<TorchServer> {
    const proc = spawn(python, [script], {
      env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const rl = createInterface({ input: proc.stdout });
    const it = rl[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done || !String(first.value).startsWith("ready")) {
      proc.kill();
      throw new Error(`the torch benchmark process did not start: ${stderr.trim().split("\n").pop() ?? ""}`);
    }
    return new TorchServer(proc, rl, it, String(first.value).slice(6));
  }

  async measure(s: GemmShape, threads: number, layout: GemmLayout, seconds: number, clock: "wall" | "cpu"): Promise<number> {
    this.proc.stdin.write(`${s.M} ${s.N} ${s.K} ${threads} ${layout} ${seconds} ${clock}\n`);
    const r = await this.lines.next();
    const v = Number(r.value);
    if (r.done || !Number.isFinite(v)) throw new Error("the torch benchmark process stopped answering");
    return v;
  }

  close(): void {
    this.proc.stdin.end("quit\n");
    this.rl.close();
  }
}

/** Operands for one shape, random in [-1, 1), laid out for the requested transposes. */
function operands(s: GemmShape, layout: GemmLayout) {
  const A = new Float32Array(s.M * s.K);
  const B = new Float32Array(s.K * s.N);
  for (let i = 0; i < A.length; i++) A[i] = Math.random() * 2 - 1;
  for (let i = 0; i < B.length; i++) B[i] = Math.random() * 2 - 1;
  const ta = layout[0] === "t";
  const tb = layout[1] === "t";
  return { A, B, C: new Float32Array(s.M * s.N), ta, tb, lda: ta ? s.M : s.K, ldb: tb ? s.K : s.N };
}

function measureNative(
  addon: NativeAddon,
  s: GemmShape,
  ops: ReturnType<typeof operands>,
  seconds: number,
  clock: "wall" | "cpu",
): number {
  const { A, B, C, ta, tb, lda, ldb } = ops;
  const run = () => addon.gemm(ta, tb, s.M, s.N, s.K, 1, A, 0, lda, 0, B, 0, ldb, 0, 0, C, 0, s.N, 0, 1);
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let n = 0;
  let elapsed = 0;
  do {
    run();
    n++;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (elapsed < seconds);
  if (clock === "cpu") {
    const c = process.cpuUsage(c0);
    elapsed = (c.user + c.system) / 1e6;
  }
  return (2 * s.M * s.N * s.K * n) / elapsed / 1e9;
}

/** Runs the benchmark; rows are returned (and streamed through onRow) in shape-major order. */
export async function benchGemm(opts: GemmBenchOptions = {}): Promise<{ info: GemmBenchInfo; rows: GemmBenchRow[] }> {
  const load = loadNative();
  if (!load.ok) throw new Error(`the GEMM benchmark needs the native kernels: ${load.reason}`);
  const addon = load.addon;
  const shapes = opts.shapes ?? STANDARD_GEMM_SHAPES;
  const threadList = opts.threads ?? [1, 2];
  const repeats = opts.repeats ?? 5;
  const seconds = opts.seconds ?? 0.3;
  const layout = opts.layout ?? "nn";
  const clock = opts.clock ?? "wall";
  const kernel = (addon as unknown as { gemmInfo?: () => { kernel: string } }).gemmInfo?.().kernel ?? addon.isa();

  let torch: TorchServer | null = null;
  let torchNote: string;
  const found = opts.python === undefined ? findTorchPython() : { python: opts.python, note: "torch comparison disabled" };
  if (found.python) {
    const script = join(packageRoot(), "bench", "gemm_torch.py");
    if (!existsSync(script)) {
      torchNote = `torch not compared: ${script} is missing (it ships with the source checkout only)`;
    } else {
      try {
        torch = await TorchServer.start(found.python, script);
        torchNote = `torch ${torch.banner} via ${found.python}, OMP_WAIT_POLICY=PASSIVE`;
      } catch (err) {
        torchNote = `torch not compared: ${(err as Error).message}`;
      }
    }
  } else {
    torchNote = `torch not compared: ${found.note}`;
  }

  const info: GemmBenchInfo = { kernel, torch: torchNote, torchAvailable: torch !== null };
  opts.onStart?.(info);
  const rows: GemmBenchRow[] = [];
  const before = addon.getThreads();
  try {
    for (const s of shapes) {
      const ops = operands(s, layout);
      for (const threads of threadList) {
        addon.setThreads(threads);
        measureNative(addon, s, ops, Math.min(seconds, 0.1), clock); // warm-up: pool, buffers, caches
        if (torch) await torch.measure(s, threads, layout, Math.min(seconds, 0.1), clock);
        const mine: number[] = [];
        const theirs: number[] = [];
        for (let r = 0; r < repeats; r++) {
          mine.push(measureNative(addon, s, ops, seconds, clock));
          if (torch) theirs.push(await torch.measure(s, threads, layout, seconds, clock));
        }
        const row: GemmBenchRow = { shape: s, threads, layout, clock, tslm: spread(mine) };
        if (torch) {
          row.torch = spread(theirs);
          row.ratio = row.tslm.median / row.torch.median;
        }
        rows.push(row);
        opts.onRow?.(row);
      }
    }
  } finally {
    addon.setThreads(before);
    torch?.close();
  }
  return { info, rows };
}
