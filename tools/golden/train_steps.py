"""Golden fixture for issue 5: ten AdamW steps of a tiny random Hugging Face GPT-2.

From one transformers GPT2LMHeadModel random initialisation (dropout 0) and fixed token batches,
runs 10 optimizer steps with torch.optim.AdamW (weight decay on 2-D non-embedding weights only, as
tslm's weightDecayGroups does), global-norm clipping at 1.0 and transformers' cosine schedule with
warmup, and records the loss of every step and the final weights. Writes
fixtures/train/adamw10/{config.json, model.safetensors (initial), batches.json, final.safetensors}.
Run: .venv/bin/python tools/golden/train_steps.py
"""
import json
import os
import sys

# Keep this folder off the import path: no module here may shadow an installed package.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import GPT2Config, GPT2LMHeadModel, get_cosine_schedule_with_warmup  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "train", "adamw10")


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    cfg = GPT2Config(n_layer=2, n_embd=32, n_head=4, vocab_size=61, n_positions=32,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = GPT2LMHeadModel(cfg)
    os.makedirs(OUT, exist_ok=True)
    model.save_pretrained(OUT, safe_serialization=True)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.ndim < 2 or "wte" in name or "wpe" in name:
            no_decay.append(p)
        else:
            decay.append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=3e-3, betas=(0.9, 0.95), eps=1e-8)
    sched = get_cosine_schedule_with_warmup(opt, num_warmup_steps=3, num_training_steps=10)
    g = torch.Generator().manual_seed(1)
    batches, losses, norms, lrs = [], [], [], []
    for step in range(10):
        ids = torch.randint(0, cfg.vocab_size, (3, 16), generator=g)
        batches.append(ids.tolist())
        lrs.append(opt.param_groups[0]["lr"])
        out = model(input_ids=ids, labels=ids)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)))
        opt.step()
        sched.step()
        losses.append(out.loss.item())
    final = {k: v.detach().contiguous() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    save_file(final, os.path.join(OUT, "final.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(OUT, "batches.json"), "w") as f:
        json.dump({"generator": "tools/golden/train_steps.py", "torch_version": torch.__version__,
                   "lr": 3e-3, "betas": [0.9, 0.95], "eps": 1e-8, "weight_decay": 0.1, "warmup": 3, "total": 10,
                   "max_grad_norm": 1.0, "batches": batches, "losses": losses, "grad_norms": norms, "lrs": lrs}, f)
    print("losses", [round(x, 5) for x in losses])


if __name__ == "__main__":
    main()
