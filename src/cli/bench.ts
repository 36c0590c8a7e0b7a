// `tslm bench <area>`: benchmarks with the figures recorded in bench/README.md. This file parses
// options and prints; the measuring lives in the library (src/kernels/bench_gemm.ts for GEMM).
import { Command, InvalidArgumentError } from "commander";
import { availableParallelism, loadavg } from "node:os";
import { benchGemm, parseGemmShapes, STANDARD_GEMM_SHAPES, type GemmBenchRow, type GemmLayout } from "../kernels/bench_gemm.js";

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

function threadList(v: string): number[] {
  const list = v.split(",").map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new InvalidArgumentError("expected a comma-separated list of positive integers, e.g. 1,2");
  }
  return list;
}

function shapeList(v: string) {
  try {
    return parseGemmShapes(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function layoutOpt(v: string): GemmLayout {
  if (v !== "nn" && v !== "nt" && v !== "tn" && v !== "tt") throw new InvalidArgumentError("layout must be nn, nt, tn or tt");
  return v;
}

const fmt = (x: number, w: number) => x.toFixed(1).padStart(w);

function textRow(r: GemmBenchRow): string {
  const { M, K, N } = r.shape;
  const dims = `${M}x${K}x${N}`.padEnd(15);
  const mine = `${fmt(r.tslm.median, 6)} (${r.tslm.min.toFixed(0)}-${r.tslm.max.toFixed(0)})`.padEnd(18);
  const theirs = r.torch ? `${fmt(r.torch.median, 6)} (${r.torch.min.toFixed(0)}-${r.torch.max.toFixed(0)})`.padEnd(18) : "-".padStart(6).padEnd(18);
  const ratio = r.ratio !== undefined ? r.ratio.toFixed(2).padStart(5) : "    -";
  return `${dims} ${String(r.threads).padStart(3)}  ${mine} ${theirs} ${ratio}`;
}

function jsonRow(r: GemmBenchRow): string {
  const o: Record<string, unknown> = {
    shape: [r.shape.M, r.shape.N, r.shape.K],
    threads: r.threads,
    layout: r.layout,
    clock: r.clock,
    gflops: round(r.tslm.median),
    gflops_min: round(r.tslm.min),
    gflops_max: round(r.tslm.max),
  };
  if (r.torch) {
    o.torch_gflops = round(r.torch.median);
    o.torch_gflops_min = round(r.torch.min);
    o.torch_gflops_max = round(r.torch.max);
    o.ratio = Math.round(r.ratio! * 1000) / 1000;
  }
  return JSON.stringify(o);
}

const round = (x: number) => Math.round(x * 10) / 10;

export function registerBench(program: Command): void {
  const bench = program.command("bench").description("benchmarks (GFLOP/s, tokens/s) beside the PyTorch baseline");
  bench
    .command("gemm")
    .description(
      "GFLOP/s of the native GEMM (C = A B) for the standard shapes at 1 and 2 threads, interleaved with " +
        "PyTorch's torch.mm when a Python with torch is found (TSLM_PYTHON or .venv/bin/python)",
    )
    .option("--json", "one JSON object per line: {shape:[M,N,K], threads, gflops, torch_gflops?, ratio?}")
    .option("--threads <list>", "thread counts, comma-separated", threadList, [1, 2])
    .option("--repeats <n>", "samples per shape and thread count (median, min, max are reported)", positiveInt("--repeats"), 5)
    .option("--seconds <s>", "minimum duration of one sample", (v) => {
      const s = Number(v);
      if (!(s > 0)) throw new InvalidArgumentError("--seconds must be a positive number");
      return s;
    }, 0.3)
    .option(
      "--shapes <list>",
      `shapes as MxKxN, comma-separated (default ${STANDARD_GEMM_SHAPES.map((s) => `${s.M}x${s.K}x${s.N}`).join(",")})`,
      shapeList,
    )
    .option("--layout <nn|nt|tn|tt>", "transposes of A and B (nt: B stored N x K, like a Linear weight)", layoutOpt, "nn")
    .option(
      "--cpu-time",
      "report GFLOP per CPU-second of each process (per-core efficiency; not diluted by time spent " +
        "descheduled on a loaded machine) instead of per wall-clock second",
    )
    .option("--no-torch", "do not compare with PyTorch")
    .action(
      async (o: {
        json?: boolean;
        threads: number[];
        repeats: number;
        seconds: number;
        shapes?: ReturnType<typeof parseGemmShapes>;
        layout: GemmLayout;
        cpuTime?: boolean;
        torch: boolean;
      }) => {
        await benchGemm({
          shapes: o.shapes,
          threads: o.threads,
          repeats: o.repeats,
          seconds: o.seconds,
          layout: o.layout,
          clock: o.cpuTime ? "cpu" : "wall",
          python: o.torch ? undefined : null,
          onStart: (info) => {
            if (o.json) return;
            const unit = o.cpuTime ? "GFLOP per CPU-second" : "GFLOP/s";
            console.log(`tslm bench gemm: native ${info.kernel}, layout ${o.layout}, ${unit}, median of ${o.repeats} (min-max)`);
            console.log(info.torchAvailable ? info.torch : `(${info.torch})`);
            // The machine's load at the start: on a shared machine it says how much to trust wall-clock figures.
            console.log(`load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs`);
            console.log(`${"MxKxN".padEnd(15)} thr  ${"tslm".padEnd(18)} ${"torch".padEnd(18)} ratio`);
          },
          onRow: (r) => console.log(o.json ? jsonRow(r) : textRow(r)),
        });
      },
    );
}
