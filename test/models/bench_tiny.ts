// Rough timing of the BENCH.md "tiny" config (GPT-2 style: 4 layers, d 256, 4 heads, vocab 8192,
// context 256) at batch 8 x 256, forward and forward + backward, GPT-2 and LLaMA-style blocks, with
// a breakdown of where the forward's time goes (GEMM-heavy linear vs the rest) from op counters.
//
//   npx tsx test/models/bench_tiny.ts [--kernels native|ref] [--reps 5] [--llama]
//
// Not a vitest file (no .test.ts): it is a developer measurement, run by hand.
import { GPT2LMHeadModel, LlamaForCausalLM, ParamSource, noGrad, randint, useKernels, getThreads, Generator } from "../../src/index.js";

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : def;
};
const kernelsName = arg("--kernels", "native") as "native" | "ref";
const reps = Number(arg("--reps", "5"));
useKernels(kernelsName);

const B = 8;
const T = 256;
const V = 8192;

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
  // Matmul flops of one forward: 2 * tokens * (non-embedding weights + lm_head) + attention 4*B*T^2*C*L/2 (causal half not skipped by flops count)
  console.log(
    `${label} [${kernelsName}, ${getThreads()} threads] ${(params / 1e6).toFixed(2)}M params, B x T = ${B} x ${T}: ` +
      `forward ${median(fwd).toFixed(0)} ms (min ${Math.min(...fwd).toFixed(0)}), forward+backward ${median(fb).toFixed(0)} ms (min ${Math.min(...fb).toFixed(0)}), ` +
      `${((B * T) / (median(fb) / 1000)).toFixed(0)} tokens/s fwd+bwd`,
  );
}

const gpt2 = new GPT2LMHeadModel({ model_type: "gpt2", vocab_size: V, n_positions: T, n_embd: 256, n_layer: 4, n_head: 4 }, ParamSource.init({ seed: 1 }));
bench("gpt2 tiny", gpt2);
if (process.argv.includes("--llama")) {
  const llama = new LlamaForCausalLM(
    { model_type: "llama", vocab_size: V, hidden_size: 256, intermediate_size: 1024, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 4, max_position_embeddings: T },
    ParamSource.init({ seed: 1 }),
  );
  bench("llama tiny", llama);
}
