"""PyTorch + Hugging Face side of bench/generate.ts: greedy decoding with transformers' generate().

Builds GPT2LMHeadModel with the given sizes (eval mode, random init, seed 0) and times, per round:
prefill of a 256-token prompt (one forward, logits of the last position), time to first token
(generate() with the `prompt`-token prompt and one new token, batch 1), and greedy generation of
`new` tokens after a `prompt`-token prompt at batch 1 and batch 8 (KV cache on, no EOS stop).
Prints one JSON line per measurement, with wall-clock and process CPU time (all threads). Run with OMP_WAIT_POLICY=PASSIVE (see BENCH.md).
"""
import json
import sys
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel


def main():
    layers, d, heads, vocab, ctx, prompt_len, new, rounds, threads = (int(x) for x in sys.argv[1:10])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=layers, n_embd=d, n_head=heads, vocab_size=vocab, n_positions=ctx)).eval()
    g = torch.Generator().manual_seed(1)
    with torch.inference_mode():
        for r in range(rounds + 1):
            ids = torch.randint(0, vocab, (1, 256), generator=g)
            t0, c0 = time.perf_counter(), time.process_time()
            model(input_ids=ids, logits_to_keep=1)
            prefill, prefill_cpu = time.perf_counter() - t0, time.process_time() - c0
            ids = torch.randint(0, vocab, (1, prompt_len), generator=g)
            t0 = time.perf_counter()
            model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=1, do_sample=False, pad_token_id=0)
            ttft = time.perf_counter() - t0
            for batch in (1, 8):
                ids = torch.randint(0, vocab, (batch, prompt_len), generator=g)
                t0, c0 = time.perf_counter(), time.process_time()
                out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new, min_new_tokens=new,
                                     do_sample=False, pad_token_id=0)
                dt, cpu = time.perf_counter() - t0, time.process_time() - c0
                assert out.shape[1] == prompt_len + new
                if r > 0:
                    print(json.dumps({"batch": batch, "seconds": dt, "tokens": batch * new, "prefill_ms": prefill * 1000,
                                      "cpu_seconds": cpu, "prefill_cpu_ms": prefill_cpu * 1000,
                                      "ttft_ms": ttft * 1000}), flush=True)


if __name__ == "__main__":
    main()
