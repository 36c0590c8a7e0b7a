"""Golden fixtures for tslm's optimizers: torch.optim.AdamW and torch.optim.SGD trajectories.

Writes fixtures/optim/optim.json: for each case, the initial parameters, the gradient fed at every
step, the optimizer settings, and the parameters after every step, all float32. Run:
    .venv/bin/python tools/golden/optim.py
The test (test/unit/optim.test.ts) replays the gradients through tslm's optimizers on both kernel
sets and compares the parameters.
"""
import json
import os

import torch


def tolist(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def run(name, make_opt, shapes, steps, seed):
    g = torch.Generator().manual_seed(seed)
    params = [torch.randn(s, generator=g).requires_grad_() for s in shapes]
    init = [tolist(p) for p in params]
    opt = make_opt(params)
    grads, after = [], []
    for _ in range(steps):
        step_grads = [torch.randn(s, generator=g) for s in shapes]
        for p, gr in zip(params, step_grads):
            p.grad = gr.clone()
        opt.step()
        grads.append([tolist(gr) for gr in step_grads])
        after.append([tolist(p) for p in params])
    return {"name": name, "shapes": [list(s) for s in shapes], "init": init, "grads": grads, "after": after}


def main():
    torch.set_num_threads(1)
    shapes = [(3, 4), (5,)]
    cases = [
        dict(run("adamw/default_wd", lambda ps: torch.optim.AdamW(ps, lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1), shapes, 6, 1),
             optimizer="AdamW", options={"lr": 1e-2, "betas": [0.9, 0.95], "eps": 1e-8, "weight_decay": 0.1}),
        dict(run("adamw/no_wd_large_eps", lambda ps: torch.optim.AdamW(ps, lr=3e-3, betas=(0.8, 0.999), eps=1e-3, weight_decay=0.0), shapes, 5, 2),
             optimizer="AdamW", options={"lr": 3e-3, "betas": [0.8, 0.999], "eps": 1e-3, "weight_decay": 0.0}),
        dict(run("sgd/plain", lambda ps: torch.optim.SGD(ps, lr=0.1), shapes, 3, 3),
             optimizer="SGD", options={"lr": 0.1, "momentum": 0.0, "weight_decay": 0.0, "nesterov": False}),
        dict(run("sgd/momentum_wd", lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01), shapes, 4, 4),
             optimizer="SGD", options={"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01, "nesterov": False}),
        dict(run("sgd/nesterov", lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True), shapes, 4, 5),
             optimizer="SGD", options={"lr": 0.05, "momentum": 0.9, "weight_decay": 0.0, "nesterov": True}),
    ]
    out = {"generator": "tools/golden/optim.py", "torch_version": torch.__version__, "cases": cases}
    path = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "optim", "optim.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print("wrote", os.path.normpath(path), len(cases), "cases")


if __name__ == "__main__":
    main()
