"""PyTorch + Hugging Face side of bench/train.ts: GPT-2 training tokens/s on CPU.

Builds transformers' GPT2LMHeadModel with the given sizes (dropout 0, like tslm's run), AdamW
(lr 3e-4, weight decay 0.1), random token batches, and times forward + backward + optimizer step.
Prints one JSON line per timed step: {"step": i, "ms": wall, "cpu_ms": process CPU time, all threads},
then {"max_rss_kb": peak resident set size of this process}. Run with OMP_WAIT_POLICY=PASSIVE:
PyTorch's default busy-waiting threads make it 1.3-2.7x slower on this machine (BENCH.md).
"""
import json
import resource
import sys
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel


def main():
    layers, d, heads, vocab, B, T, steps, warmup, threads = (int(x) for x in sys.argv[1:10])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = GPT2Config(n_layer=layers, n_embd=d, n_head=heads, vocab_size=vocab, n_positions=max(T, 1024),
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = GPT2LMHeadModel(cfg)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    g = torch.Generator().manual_seed(1)
    for i in range(warmup + steps):
        ids = torch.randint(0, vocab, (B, T), generator=g)
        t0, c0 = time.perf_counter(), time.process_time()
        out = model(input_ids=ids, labels=ids)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()
        ms, cpu_ms = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
        if i >= warmup:
            print(json.dumps({"step": i, "ms": ms, "cpu_ms": cpu_ms, "loss": out.loss.item()}), flush=True)
    print(json.dumps({"max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}), flush=True)


if __name__ == "__main__":
    main()
