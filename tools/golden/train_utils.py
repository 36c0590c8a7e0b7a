"""Golden fixtures for tslm's training utilities: Hugging Face learning-rate schedules and
torch.nn.utils.clip_grad_norm_.

Writes fixtures/train/schedules.json and fixtures/train/clip.json. Run:
    .venv/bin/python tools/golden/train_utils.py
"""
import json
import os

import torch
from transformers import (get_constant_schedule_with_warmup, get_cosine_schedule_with_warmup,
                          get_linear_schedule_with_warmup)

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "train")


def lrs(make, steps):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = make(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def main():
    cases = []
    for w, t in [(0, 10), (3, 10), (10, 25), (1, 1)]:
        cases.append({"name": f"linear_w{w}_t{t}", "options": {"name": "linear", "warmupSteps": w, "totalSteps": t},
                      "lr": lrs(lambda o: get_linear_schedule_with_warmup(o, w, t), t + 2)})
        cases.append({"name": f"cosine_w{w}_t{t}", "options": {"name": "cosine", "warmupSteps": w, "totalSteps": t},
                      "lr": lrs(lambda o: get_cosine_schedule_with_warmup(o, w, t), t + 2)})
        cases.append({"name": f"constant_w{w}", "options": {"name": "constant", "warmupSteps": w},
                      "lr": lrs(lambda o: get_constant_schedule_with_warmup(o, w), t + 2)})
    cases.append({"name": "cosine_cycles2_w2_t12", "options": {"name": "cosine", "warmupSteps": 2, "totalSteps": 12, "numCycles": 2},
                  "lr": lrs(lambda o: get_cosine_schedule_with_warmup(o, 2, 12, num_cycles=2), 14)})
    with open(os.path.join(OUT, "schedules.json"), "w") as f:
        json.dump({"generator": "tools/golden/train_utils.py", "cases": cases}, f)

    g = torch.Generator().manual_seed(0)
    clip = []
    for name, max_norm, norm_type, scale in [("clipped_l2", 1.0, 2.0, 1.0), ("unclipped_l2", 100.0, 2.0, 1.0),
                                             ("clipped_inf", 0.5, float("inf"), 1.0), ("tiny_grads", 1e-3, 2.0, 1e-4)]:
        shapes = [[3, 4], [5], [2, 2, 2]]
        grads = [torch.randn(s, generator=g) * scale for s in shapes]
        ps = [torch.nn.Parameter(torch.zeros(s)) for s in shapes]
        for p, gr in zip(ps, grads):
            p.grad = gr.clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
        clip.append({"name": name, "max_norm": max_norm, "norm_type": "inf" if norm_type == float("inf") else 2,
                     "shapes": shapes, "grads": [gr.reshape(-1).tolist() for gr in grads],
                     "total_norm": float(total), "clipped": [p.grad.reshape(-1).tolist() for p in ps]})
    with open(os.path.join(OUT, "clip.json"), "w") as f:
        json.dump({"generator": "tools/golden/train_utils.py", "cases": clip}, f)
    print("wrote schedules.json and clip.json")


if __name__ == "__main__":
    main()
