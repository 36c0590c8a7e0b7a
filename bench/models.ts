// Rough timing of the BENCH.md model configs, forward (no grad) and forward + backward, GPT-2 and
// LLaMA-style blocks (eval mode: no dropout), median over repeats after one warm-up:
//   tiny:  4 layers, d 256, 4 heads, vocab 8192, context 256, batch 8 x 256 (default)
//   small: 6 layers, d 384, 6 heads, vocab 8192, context 256, batch 8 x 256
//   gpt2:  12 layers, d 768, 12 heads, vocab 50257, context 1024, batch 4 x 256
//
//   npx tsx bench/models.ts [--config tiny|small|gpt2] [--kernels native|ref] [--reps 5] [--llama] [--decode]
//
// --decode also times greedy decoding at batch 1 with the KV cache (BENCH.md: 32-token prompt,
// 128 new tokens; logits of the last position only), as tokens/s after the prefill.
//
// The PyTorch side is bench/models_torch.py with the same flags; run them alternately.
// Not a vitest file (no .test.ts): it is a developer measurement, run by hand.
import { GPT2LMHeadModel, LlamaForCausalLM, ParamSource, noGrad, randint, useKernels, getThreads, Generator } from "../src/index.js";

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : def;
};
const kernelsName = arg("--kernels", "native") as "native" | "ref";
const reps = Number(arg("--reps", "5"));
useKernels(kernelsName);

const CONFIGS = {
  tiny: { L: 4, C: 256, H: 4, V: 8192, ctx: 256, B: 8, T: 256 },
  small: { L: 6, C: 384, H: 6, V: 8192, ctx: 256, B: 8, T: 256 },
  gpt2: { L: 12, C: 768, H: 12, V: 50257, ctx: 1024, B: 4, T: 256 },
} as const;
const cfgName = arg("--config", "tiny") as keyof typeof CONFIGS;
const { L, C, H, V, ctx, B, T } = CONFIGS[cfgName];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function bench(label: string, model: GPT2LMHeadModel | LlamaForCausalLM): void {
  const ids = randint(0, V, [B, T], { generator: new Generator(1) });
  const labels = ids;
  model.eval(); // dropout off: measure the math, as the golden tests do
  const fwd: number[] = [];
  const fb: number[] = [];
  for (let r = 0; r < reps + 1; r++) {
    let t0 = performance.now();
    noGrad(() => model.forward({ inputIds: ids }));
    const f = performance.now() - t0;
    t0 = performance.now();
    const out = model.forward({ inputIds: ids, labels });
    out.loss!.backward();
    const g = performance.now() - t0;
    model.zeroGrad();
    if (r > 0) {
      fwd.push(f);
      fb.push(g);
    }
  }
  const params = model.numParameters();
  console.log(
    `${label} [${kernelsName}, ${getThreads()} threads] ${(params / 1e6).toFixed(2)}M params, B x T = ${B} x ${T}: ` +
      `forward ${median(fwd).toFixed(0)} ms (min ${Math.min(...fwd).toFixed(0)}), forward+backward ${median(fb).toFixed(0)} ms (min ${Math.min(...fb).toFixed(0)}), ` +
      `${((B * T) / (median(fb) / 1000)).toFixed(0)} tokens/s fwd+bwd`,
  );
}

function decode(label: string, model: GPT2LMHeadModel | LlamaForCausalLM): void {
  model.eval();
  const prompt = randint(0, V, [1, 32], { generator: new Generator(2) });
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    noGrad(() => {
      const cache = model.newCache();
      let t0 = performance.now();
      let out = model.forward({ inputIds: prompt, cache, logitsToKeep: 1 });
      const prefill = performance.now() - t0;
      t0 = performance.now();
      for (let i = 0; i < 128; i++) {
        const next = out.logits.argmax(-1); // (1, 1)
        out = model.forward({ inputIds: next, cache, logitsToKeep: 1 });
      }
      const dt = performance.now() - t0;
      runs.push(128 / (dt / 1000));
      if (r === 2) console.log(`${label} decode [${kernelsName}]: prefill 32 tokens ${prefill.toFixed(0)} ms, ${median(runs).toFixed(0)} tokens/s (batch 1, 128 new tokens, median of 3)`);
    });
  }
}

const gpt2 = new GPT2LMHeadModel({ model_type: "gpt2", vocab_size: V, n_positions: ctx, n_embd: C, n_layer: L, n_head: H }, ParamSource.init({ seed: 1 }));
bench(`gpt2 ${cfgName}`, gpt2);
if (process.argv.includes("--decode")) decode(`gpt2 ${cfgName}`, gpt2);
if (process.argv.includes("--llama")) {
  const llama = new LlamaForCausalLM(
    { model_type: "llama", vocab_size: V, hidden_size: C, intermediate_size: 4 * C, num_hidden_layers: L, num_attention_heads: H, num_key_value_heads: H, max_position_embeddings: ctx },
    ParamSource.init({ seed: 1 }),
  );
  bench(`llama ${cfgName}`, llama);
  if (process.argv.includes("--decode")) decode(`llama ${cfgName}`, llama);
}
