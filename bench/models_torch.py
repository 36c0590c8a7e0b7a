"""PyTorch + transformers side of bench/models.ts: the BENCH.md configs (tiny, small,
gpt2 124M), forward (no_grad) and forward + backward, eval mode, median over repeats.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/models_torch.py [--config tiny] [--reps 5] [--llama]

Run it alternately with `npx tsx bench/models.ts` (A B A B) on a quiet machine.
"""
import os
import sys
import time

sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import torch  # noqa: E402
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM  # noqa: E402

torch.set_num_threads(2)
reps = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else 5
cfg_name = sys.argv[sys.argv.index("--config") + 1] if "--config" in sys.argv else "tiny"
L, C, H, V, CTX, B, T = {
    "tiny": (4, 256, 4, 8192, 256, 8, 256),
    "small": (6, 384, 6, 8192, 256, 8, 256),
    "gpt2": (12, 768, 12, 50257, 1024, 4, 256),
}[cfg_name]


def bench(label, model):
    model.eval()
    ids = torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(1))
    fwd, fb = [], []
    for r in range(reps + 1):
        t0 = time.perf_counter()
        with torch.no_grad():
            model(input_ids=ids)
        f = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        g = time.perf_counter() - t0
        model.zero_grad(set_to_none=True)
        if r > 0:
            fwd.append(f * 1000)
            fb.append(g * 1000)
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    n = sum(p.numel() for p in model.parameters())
    print(f"{label} [torch {torch.__version__}, 2 threads] {n / 1e6:.2f}M params, B x T = {B} x {T}: forward {med(fwd):.0f} ms (min {min(fwd):.0f}), forward+backward {med(fb):.0f} ms (min {min(fb):.0f}), {B * T / (med(fb) / 1000):.0f} tokens/s fwd+bwd")


torch.manual_seed(1)
bench(f"gpt2 {cfg_name}", GPT2LMHeadModel(GPT2Config(vocab_size=V, n_positions=CTX, n_embd=C, n_layer=L, n_head=H)))
if "--llama" in sys.argv:
    bench(f"llama {cfg_name}", LlamaForCausalLM(LlamaConfig(vocab_size=V, hidden_size=C, intermediate_size=4 * C, num_hidden_layers=L, num_attention_heads=H, num_key_value_heads=H, max_position_embeddings=CTX)))
