// The BENCH.md model configs and the small argument parser the training benchmarks share.
export const TRAIN_PRESETS: Record<string, [number, number, number, number, number, number]> = {
  // layers, d_model, heads, vocab, batch, seq
  tiny: [4, 256, 4, 8192, 8, 256],
  small: [6, 384, 6, 8192, 8, 256],
  gpt2: [12, 768, 12, 50257, 4, 256],
};

/** The preset named among the arguments (default tiny) and a `--name value` number reader. */
export function benchArgs(args: string[] = process.argv.slice(2)) {
  const opt = (name: string, def: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : def;
  };
  const preset = args.find((a) => TRAIN_PRESETS[a]) ?? "tiny";
  return { args, opt, preset, config: TRAIN_PRESETS[preset] };
}

/**
 * Floating-point operations of one training step (forward + backward) of a GPT-2 config, counted
 * as 2 per multiply-add, the way both frameworks do the work (neither skips any):
 *   linear layers  72 T C^2 L   (c_attn, attention c_proj, c_fc, mlp c_proj: 12 C^2 weights per
 *                                layer; forward 2 flops per weight and token, backward twice that:
 *                                the input gradient and the weight gradient)
 *   LM head        6 T' C V     (T' = B (S - 1) rows: the last position of a sequence has no label)
 *   attention      7 B S^2 C L  (causal, so half of QK^T and PV: forward 2 B S^2 C per layer,
 *                                backward 2.5x that: scores recomputed, dV, dP, dQ, dK)
 * with T = B S tokens. Layer norms, GELU, softmax, the loss and AdamW add memory traffic but few flops.
 */
export function stepFlops([L, C, , V, B, S]: [number, number, number, number, number, number]) {
  const T = B * S;
  const linear = 72 * T * C * C * L;
  const head = 6 * B * (S - 1) * C * V;
  const attention = 7 * B * S * S * C * L;
  return { linear, head, attention, total: linear + head + attention };
}

/**
 * Runs this benchmark script again in a child Node under the V8 flag `tslm train` runs under
 * (src/cli/launch.ts), unless it is that child already; returns true in the parent, which should
 * then stop (the child has done the work, with the same arguments and output).
 */
export async function asTslmTrainRuns(): Promise<boolean> {
  const { TRAIN_V8_FLAG, needsTrainFlag } = await import("../src/cli/launch.js");
  if (!needsTrainFlag(process.execArgv, process.env)) return false;
  const { spawnSync } = await import("node:child_process");
  const r = spawnSync(process.execPath, [...process.execArgv, TRAIN_V8_FLAG, ...process.argv.slice(1)], { stdio: "inherit" });
  process.exitCode = r.status ?? 1;
  return true;
}
