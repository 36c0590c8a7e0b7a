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
