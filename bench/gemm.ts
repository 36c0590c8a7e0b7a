// GEMM benchmark from the source tree, without building dist/: the same code as `tslm bench gemm`
// (src/cli/bench.ts -> src/kernels/bench_gemm.ts), with the same options.
//
//   npx tsx bench/gemm.ts                       # standard shapes, 1 and 2 threads, beside torch
//   npx tsx bench/gemm.ts --layout nt --json    # B stored N x K (Linear weights), JSON lines
//   npx tsx bench/gemm.ts --cpu-time            # GFLOP per CPU-second (a loaded machine)
//
// Figures and how to read them: bench/README.md, section GEMM.
import { main } from "../src/cli/index.js";

process.exitCode = await main(["bench", "gemm", ...process.argv.slice(2)]);
