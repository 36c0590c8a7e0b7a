#!/usr/bin/env python3
"""Golden fixtures for tslm's tensor ops, computed with PyTorch.

Writes one JSON file per op family under fixtures/ops/ (elementwise, reduce, matmul,
softmax, norm, embedding, loss, where, attention, shape). Each case records the inputs
(base tensors plus the view steps that turn them into the op's arguments), the op's
attributes, its outputs, a random upstream gradient per float output, and the gradients
of sum_i <outputs_i, grad_outputs_i> with respect to every float base tensor that
requires grad. tools/golden/README.md describes the format; the TypeScript test that
interprets these files lives in test/golden/.

Contract:
  - Inputs are float32 and everything is computed in float32, as a user of PyTorch would.
  - Every case seeds torch with crc32(case name), so a rerun writes byte-identical files
    (for the same torch version; one CPU thread, deterministic algorithms).
  - The op is always called through run_op(op, tensors, attrs), the same dispatch the
    self-check at the end uses to replay every case from the JSON it just wrote. So the
    recorded "op" and "attrs" are exactly what produced the outputs.
  - tslm semantics that differ from PyTorch are applied inside run_op, in one place:
    scaled_dot_product_attention's is_causal is bottom-right aligned (query i sees keys
    j <= i + Tk - Tq, the KV-cache convention); PyTorch's is top-left aligned.

Run (from the repository root, with any Python that has torch and numpy):
    python tools/golden/ops.py            # writes fixtures/ops/*.json, then self-checks
    python tools/golden/ops.py --check    # only re-checks the committed files
"""

import argparse
import json
import math
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

GENERATOR = "tools/golden/ops.py"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_DIR = os.path.join(REPO_ROOT, "fixtures", "ops")
FAMILIES = ["elementwise", "reduce", "matmul", "softmax", "norm", "embedding", "loss",
            "where", "attention", "shape"]

# ----------------------------------------------------------------------------------------
# Case specification
# ----------------------------------------------------------------------------------------


class Inp:
    """One positional input: a base tensor, whether it requires grad, and view steps.

    The view steps are applied to the base, in order, before the op is called; grads are
    recorded with respect to the base. requires_grad defaults to True for float inputs.
    """

    def __init__(self, base, view=(), requires_grad=None):
        self.base = base
        self.view = [list(s) for s in view]
        if requires_grad is None:
            requires_grad = base.is_floating_point()
        assert not (requires_grad and not base.is_floating_point())
        self.requires_grad = requires_grad


CASES = {fam: [] for fam in FAMILIES}  # family -> list of (name, op, attrs, make_inputs)


def case(family, name, op, attrs, make_inputs):
    """Register a case. make_inputs() is called after seeding and returns a list of Inp."""
    assert name.startswith(op + "/"), name
    CASES[family].append((name, op, attrs, make_inputs))


def seed_for(name):
    return zlib.crc32(name.encode("utf-8"))


# Small random helpers; all draw from torch's global generator (seeded per case).

def randn(*shape, scale=1.0, shift=0.0):
    return torch.randn(shape, dtype=torch.float32) * scale + shift


def uniform(lo, hi, *shape):
    return torch.rand(shape, dtype=torch.float32) * (hi - lo) + lo


def away0(*shape, margin=0.05):
    """randn with |x| >= margin (for relu, abs, division: no kinks or poles near 0)."""
    x = torch.randn(shape, dtype=torch.float32)
    return torch.where(x >= 0, x + margin, x - margin)


def ints(lo, hi, *shape):
    return torch.randint(lo, hi, shape, dtype=torch.int64)


def bools(p, *shape):
    return torch.rand(shape) < p


# ----------------------------------------------------------------------------------------
# Views and the op dispatch (shared by generation and the self-check)
# ----------------------------------------------------------------------------------------


def apply_view(t, steps):
    for step in steps:
        kind = step[0]
        if kind == "transpose":
            t = t.transpose(step[1], step[2])
        elif kind == "permute":
            t = t.permute(step[1])
        elif kind == "narrow":
            t = t.narrow(step[1], step[2], step[3])
        elif kind == "expand":
            t = t.expand(step[1])
        elif kind == "slice":
            t = slice_dim(t, step[1], step[2], step[3], step[4])
        else:
            raise ValueError(f"unknown view step {step!r}")
    return t


def slice_dim(t, dim, start, stop, step):
    dim = dim + t.dim() if dim < 0 else dim
    return t[(slice(None),) * dim + (slice(start, stop, step),)]


def scalar_value(v):
    """Attribute numbers may be the strings "inf", "-inf", "nan"."""
    return float(v) if isinstance(v, str) else v


UNARY = {
    "neg": torch.neg, "sqrt": torch.sqrt, "rsqrt": torch.rsqrt, "exp": torch.exp,
    "log": torch.log, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
    "silu": F.silu, "abs": torch.abs,
}
BINARY = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}


def run_op(op, xs, a):
    """Call op on the (already viewed) input tensors xs with attrs a; return a tuple."""
    if op in BINARY:
        f = BINARY[op]
        return (f(xs[0], xs[1]) if len(xs) == 2 else f(xs[0], a["other"]),)
    if op == "pow":
        return (torch.pow(xs[0], xs[1] if len(xs) == 2 else a["exponent"]),)
    if op in UNARY:
        return (UNARY[op](xs[0]),)
    if op == "gelu":
        return (F.gelu(xs[0], approximate=a["approximate"]),)
    if op in ("sum", "mean"):
        x, f = xs[0], (torch.sum if op == "sum" else torch.mean)
        # dim null = all elements (torch treats dim=[] the same way, but be explicit).
        dims = list(range(x.dim())) if a["dim"] is None else a["dim"]
        if a["dim"] is None and not a["keepdim"]:
            return (f(x),)
        return (f(x, dim=dims, keepdim=a["keepdim"]),)
    if op == "max":
        x = xs[0]
        if a["dim"] is None:
            return (torch.max(x),)
        values, indices = torch.max(x, dim=a["dim"], keepdim=a["keepdim"])
        return (values, indices)
    if op == "var":
        return (torch.var(xs[0], dim=a["dim"], correction=a["correction"], keepdim=a["keepdim"]),)
    if op == "matmul":
        return (torch.matmul(xs[0], xs[1]),)
    if op == "linear":
        return (F.linear(xs[0], xs[1], xs[2] if len(xs) == 3 else None),)
    if op == "softmax":
        return (F.softmax(xs[0], dim=a["dim"]),)
    if op == "log_softmax":
        return (F.log_softmax(xs[0], dim=a["dim"]),)
    if op == "layer_norm":
        w = xs[1] if len(xs) > 1 else None
        b = xs[2] if len(xs) > 2 else None
        return (F.layer_norm(xs[0], a["normalized_shape"], w, b, a["eps"]),)
    if op == "rms_norm":
        w = xs[1] if len(xs) > 1 else None
        return (F.rms_norm(xs[0], a["normalized_shape"], w, a["eps"]),)
    if op == "embedding":
        return (F.embedding(xs[0], xs[1], padding_idx=a.get("padding_idx")),)
    if op == "cross_entropy":
        return (F.cross_entropy(xs[0], xs[1], ignore_index=a["ignore_index"],
                                label_smoothing=a["label_smoothing"], reduction=a["reduction"]),)
    if op == "where":
        return (torch.where(xs[0], xs[1], xs[2]),)
    if op == "masked_fill":
        return (xs[0].masked_fill(xs[1], scalar_value(a["value"])),)
    if op == "scaled_dot_product_attention":
        return (sdpa(xs, a),)
    if op == "cat":
        return (torch.cat(xs, dim=a["dim"]),)
    if op == "stack":
        return (torch.stack(xs, dim=a["dim"]),)
    if op == "split":
        return tuple(torch.split(xs[0], a["split_size_or_sections"], dim=a["dim"]))
    if op == "narrow":
        return (xs[0].narrow(a["dim"], a["start"], a["length"]),)
    if op == "index_select":
        return (torch.index_select(xs[0], a["dim"], xs[1]),)
    if op == "gather":
        return (torch.gather(xs[0], a["dim"], xs[1]),)
    if op == "transpose":
        return (xs[0].transpose(a["dim0"], a["dim1"]),)
    if op == "permute":
        return (xs[0].permute(a["dims"]),)
    if op == "reshape":
        return (xs[0].reshape(a["shape"]),)
    if op == "expand":
        return (xs[0].expand(a["size"]),)
    if op == "contiguous":
        return (xs[0].contiguous(),)
    if op == "slice":
        return (slice_dim(xs[0], a["dim"], a["start"], a["stop"], a["step"]),)
    raise ValueError(f"unknown op {op!r}")


def sdpa(xs, a):
    """scaled_dot_product_attention with tslm's bottom-right aligned causal mask."""
    q, k, v = xs[0], xs[1], xs[2]
    mask = xs[3] if len(xs) > 3 else None
    tq, tk = q.shape[-2], k.shape[-2]
    is_causal = a["is_causal"]
    if is_causal and tq != tk:
        # PyTorch aligns is_causal top-left; tslm aligns it bottom-right (query i sees keys
        # j <= i + Tk - Tq). Express that as an explicit boolean mask (True = attend).
        assert mask is None and tq < tk, "causal with Tq != Tk needs Tq < Tk and no mask"
        mask = torch.ones(tq, tk, dtype=torch.bool).tril(diagonal=tk - tq)
        is_causal = False
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal,
                                          scale=a["scale"])


def evaluate(op, inputs, attrs, grad_outputs=None):
    """Forward + backward for one case.

    inputs: list of Inp. grad_outputs: None to draw randn ones (generation), or the
    recorded list (self-check). Returns (outputs, grad_outputs, grads).
    """
    bases, xs = [], []
    for inp in inputs:
        b = inp.base.detach().clone()
        if inp.requires_grad:
            b.requires_grad_(True)
        bases.append(b)
        xs.append(apply_view(b, inp.view))
    outs = run_op(op, xs, attrs)

    if grad_outputs is None:
        grad_outputs = [torch.randn(o.shape, dtype=torch.float32) if o.is_floating_point()
                        else None for o in outs]
    diff_outs, diff_gouts = [], []
    for o, g in zip(outs, grad_outputs):
        if g is not None and o.requires_grad:
            diff_outs.append(o)
            diff_gouts.append(g)
    wrt = [b for b in bases if b.requires_grad]
    got = torch.autograd.grad(diff_outs, wrt, diff_gouts, allow_unused=True) if wrt else ()
    got = iter(got)
    grads = []
    for b in bases:
        if not b.requires_grad:
            grads.append(None)
            continue
        g = next(got)
        grads.append(torch.zeros_like(b) if g is None else g)
    outs = [o.detach() for o in outs]
    return outs, grad_outputs, [None if g is None else g.detach() for g in grads]


# ----------------------------------------------------------------------------------------
# JSON writing: shortest float32 repr, non-finite as strings, one tensor per line
# ----------------------------------------------------------------------------------------

DTYPES = {torch.float32: "float32", torch.int64: "int64", torch.bool: "bool"}


def fmt_float(v):
    """Shortest decimal that reads back (rounded to float32) as exactly v."""
    if math.isnan(v):
        return '"nan"'
    if math.isinf(v):
        return '"inf"' if v > 0 else '"-inf"'
    s = str(v)  # numpy's shortest round-trip repr for np.float32 (e.g. 0.1, 1e-05)
    assert np.float32(float(s)) == v, (s, v)
    return s


def tensor_json(t, extra=None):
    """One tensor as a single-line JSON object string; extra keys (Input) go last."""
    dtype = DTYPES[t.dtype]
    flat = t.detach().contiguous().reshape(-1)
    if dtype == "float32":
        data = ",".join(fmt_float(v) for v in flat.numpy())
    elif dtype == "int64":
        data = ",".join(str(int(v)) for v in flat.tolist())
    else:
        data = ",".join("true" if v else "false" for v in flat.tolist())
    parts = [f'"shape": {json.dumps(list(t.shape))}', f'"dtype": "{dtype}"']
    for k, v in (extra or {}).items():
        parts.append(f'"{k}": {json.dumps(v)}')
    parts.append(f'"data": [{data}]')
    return "{" + ", ".join(parts) + "}"


def tensor_list_json(items, indent):
    if not items:
        return "[]"
    pad = " " * indent
    body = (",\n").join(pad + "  " + ("null" if s is None else s) for s in items)
    return "[\n" + body + "\n" + pad + "]"


def case_json(name, op, inputs, attrs, outs, gouts, grads):
    ind = 6
    inputs_j = [tensor_json(i.base, {"requires_grad": i.requires_grad, "view": i.view})
                for i in inputs]
    lines = [
        f'"name": {json.dumps(name)}',
        f'"op": {json.dumps(op)}',
        f'"inputs": {tensor_list_json(inputs_j, ind)}',
        f'"attrs": {json.dumps(attrs)}',
        f'"outputs": {tensor_list_json([tensor_json(o) for o in outs], ind)}',
        f'"grad_outputs": {tensor_list_json([None if g is None else tensor_json(g) for g in gouts], ind)}',
        f'"grads": {tensor_list_json([None if g is None else tensor_json(g) for g in grads], ind)}',
    ]
    return "    {\n" + ",\n".join(" " * ind + l for l in lines) + "\n    }"


def write_family(family):
    cases_j = []
    for name, op, attrs, make_inputs in CASES[family]:
        torch.manual_seed(seed_for(name))
        inputs = make_inputs()
        outs, gouts, grads = evaluate(op, inputs, attrs)
        for o in outs:
            if o.is_floating_point():
                assert not torch.isnan(o).any(), f"{name}: NaN in outputs"
        for g in grads:
            if g is not None:
                assert torch.isfinite(g).all(), f"{name}: non-finite grad"
        cases_j.append(case_json(name, op, inputs, attrs, outs, gouts, grads))
    text = ("{\n"
            f'  "generator": "{GENERATOR}",\n'
            f'  "torch_version": {json.dumps(torch.__version__)},\n'
            '  "cases": [\n' + ",\n".join(cases_j) + "\n  ]\n}\n")
    path = os.path.join(OUT_DIR, family + ".json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path, len(cases_j), len(text.encode("utf-8"))


# ----------------------------------------------------------------------------------------
# Cases: elementwise.json
# ----------------------------------------------------------------------------------------

E = "elementwise"

# Binary ops with broadcasting, scalar operands and non-contiguous views.
case(E, "add/same_shape_4x5", "add", {}, lambda: [Inp(randn(4, 5)), Inp(randn(4, 5))])
case(E, "add/broadcast_3x1_by_1x4", "add", {}, lambda: [Inp(randn(3, 1)), Inp(randn(1, 4))])
case(E, "add/broadcast_rank_2x3x4_by_4", "add", {}, lambda: [Inp(randn(2, 3, 4)), Inp(randn(4))])
case(E, "add/broadcast_13x1_by_7", "add", {}, lambda: [Inp(randn(13, 1)), Inp(randn(7))])
case(E, "add/scalar_other", "add", {"other": 2.5}, lambda: [Inp(randn(3, 7))])
case(E, "add/zero_dim_rhs", "add", {}, lambda: [Inp(randn(2, 3)), Inp(randn())])
case(E, "add/transposed_lhs", "add", {},
     lambda: [Inp(randn(5, 3), view=[["transpose", 0, 1]]), Inp(randn(3, 5))])
case(E, "add/expanded_rhs", "add", {},
     lambda: [Inp(randn(7, 13)), Inp(randn(1, 13), view=[["expand", [7, 13]]])])
case(E, "add/lhs_no_grad", "add", {},
     lambda: [Inp(randn(4, 3), requires_grad=False), Inp(randn(4, 3))])

case(E, "sub/same_shape_2x3x4", "sub", {}, lambda: [Inp(randn(2, 3, 4)), Inp(randn(2, 3, 4))])
case(E, "sub/broadcast_4x1x3_by_5x1", "sub", {}, lambda: [Inp(randn(4, 1, 3)), Inp(randn(5, 1))])
case(E, "sub/scalar_other", "sub", {"other": 1.5}, lambda: [Inp(randn(31))])
case(E, "sub/sliced_step2_lhs", "sub", {},
     lambda: [Inp(randn(6, 7), view=[["slice", 1, 0, 7, 2]]), Inp(randn(6, 4))])

case(E, "mul/same_shape_37", "mul", {}, lambda: [Inp(randn(37)), Inp(randn(37))])
case(E, "mul/broadcast_2x1x5_by_3x1", "mul", {}, lambda: [Inp(randn(2, 1, 5)), Inp(randn(3, 1))])
case(E, "mul/scalar_other", "mul", {"other": -0.5}, lambda: [Inp(randn(4, 6))])
case(E, "mul/permuted_lhs_broadcast_rhs", "mul", {},
     lambda: [Inp(randn(4, 3, 2), view=[["permute", [2, 0, 1]]]), Inp(randn(4, 3))])
case(E, "mul/both_broadcast_1x7_by_5x1", "mul", {}, lambda: [Inp(randn(1, 7)), Inp(randn(5, 1))])

case(E, "div/same_shape_3x5", "div", {}, lambda: [Inp(randn(3, 5)), Inp(away0(3, 5, margin=0.5))])
case(E, "div/broadcast_5x4_by_4", "div", {}, lambda: [Inp(randn(5, 4)), Inp(uniform(0.5, 2.0, 4))])
case(E, "div/broadcast_1x6_by_3x1", "div", {},
     lambda: [Inp(randn(1, 6)), Inp(away0(3, 1, margin=0.5))])
case(E, "div/scalar_other", "div", {"other": 4.0}, lambda: [Inp(randn(2, 13))])
case(E, "div/transposed_rhs", "div", {},
     lambda: [Inp(randn(2, 5)), Inp(uniform(0.5, 2.0, 5, 2), view=[["transpose", 0, 1]])])

# pow: tensor ** scalar and tensor ** tensor.
case(E, "pow/exponent_2", "pow", {"exponent": 2}, lambda: [Inp(randn(3, 5))])
case(E, "pow/exponent_3", "pow", {"exponent": 3}, lambda: [Inp(randn(13))])
case(E, "pow/exponent_0.5", "pow", {"exponent": 0.5}, lambda: [Inp(uniform(0.1, 4.0, 4, 4))])
case(E, "pow/exponent_-1", "pow", {"exponent": -1}, lambda: [Inp(uniform(0.3, 3.0, 2, 7))])
case(E, "pow/exponent_1.5", "pow", {"exponent": 1.5}, lambda: [Inp(uniform(0.1, 3.0, 31))])
case(E, "pow/exponent_2_transposed", "pow", {"exponent": 2},
     lambda: [Inp(randn(4, 3), view=[["transpose", 0, 1]])])
case(E, "pow/tensor_tensor_same_shape", "pow", {},
     lambda: [Inp(uniform(0.5, 2.0, 3, 4)), Inp(randn(3, 4))])
case(E, "pow/tensor_tensor_broadcast", "pow", {},
     lambda: [Inp(uniform(0.5, 2.0, 4, 1)), Inp(randn(1, 5))])

# Unary ops: a plain case and a non-contiguous case each.
UNARY_INPUTS = {
    "neg": lambda *s: randn(*s),
    "sqrt": lambda *s: uniform(0.1, 4.0, *s),
    "rsqrt": lambda *s: uniform(0.1, 4.0, *s),
    "exp": lambda *s: randn(*s, scale=2.0),
    "log": lambda *s: uniform(0.1, 4.0, *s),
    "tanh": lambda *s: randn(*s, scale=2.0),
    "sigmoid": lambda *s: randn(*s, scale=3.0),
    "relu": lambda *s: away0(*s),
    "silu": lambda *s: randn(*s, scale=2.0),
    "abs": lambda *s: away0(*s),
}
for _op, _gen in UNARY_INPUTS.items():
    case(E, f"{_op}/2x3x7", _op, {}, (lambda g: lambda: [Inp(g(2, 3, 7))])(_gen))
    case(E, f"{_op}/transposed_5x13", _op, {},
         (lambda g: lambda: [Inp(g(13, 5), view=[["transpose", 0, 1]])])(_gen))
case(E, "exp/sliced_step3", "exp", {},
     lambda: [Inp(randn(4, 10), view=[["slice", 1, 1, 10, 3]])])
case(E, "sigmoid/large_magnitude", "sigmoid", {}, lambda: [Inp(randn(31, scale=20.0))])
case(E, "tanh/large_magnitude", "tanh", {}, lambda: [Inp(randn(31, scale=10.0))])

case(E, "gelu/none_4x13", "gelu", {"approximate": "none"}, lambda: [Inp(randn(4, 13))])
case(E, "gelu/tanh_4x13", "gelu", {"approximate": "tanh"}, lambda: [Inp(randn(4, 13))])
case(E, "gelu/none_wide_range_97", "gelu", {"approximate": "none"},
     lambda: [Inp(randn(97, scale=4.0))])
case(E, "gelu/tanh_wide_range_97", "gelu", {"approximate": "tanh"},
     lambda: [Inp(randn(97, scale=4.0))])
case(E, "gelu/tanh_transposed", "gelu", {"approximate": "tanh"},
     lambda: [Inp(randn(7, 3, 2), view=[["transpose", 0, 2]])])

# ----------------------------------------------------------------------------------------
# reduce.json
# ----------------------------------------------------------------------------------------

R = "reduce"


def distinct_randn(*shape):
    """randn without ties (max must have a unique winner)."""
    x = randn(*shape)
    assert x.unique().numel() == x.numel()
    return x


for _op in ("sum", "mean"):
    case(R, f"{_op}/all_3x4", _op, {"dim": None, "keepdim": False}, lambda: [Inp(randn(3, 4))])
    case(R, f"{_op}/all_keepdim_2x3x4", _op, {"dim": None, "keepdim": True},
         lambda: [Inp(randn(2, 3, 4))])
    case(R, f"{_op}/dim1_2x3x4", _op, {"dim": [1], "keepdim": False},
         lambda: [Inp(randn(2, 3, 4))])
    case(R, f"{_op}/neg_dim_keepdim_13x7", _op, {"dim": [-1], "keepdim": True},
         lambda: [Inp(randn(13, 7))])
    case(R, f"{_op}/dims_0_and_-1_2x3x5", _op, {"dim": [0, -1], "keepdim": False},
         lambda: [Inp(randn(2, 3, 5))])
    case(R, f"{_op}/transposed_input_dim0", _op, {"dim": [0], "keepdim": False},
         lambda: [Inp(randn(5, 7), view=[["transpose", 0, 1]])])
    case(R, f"{_op}/size1_dim_4x1x3", _op, {"dim": [1], "keepdim": False},
         lambda: [Inp(randn(4, 1, 3))])
case(R, "sum/sliced_input_dims_0_2_keepdim", "sum", {"dim": [0, 2], "keepdim": True},
     lambda: [Inp(randn(3, 8, 5), view=[["slice", 1, 1, 8, 2]])])
case(R, "mean/expanded_input_dim1", "mean", {"dim": [1], "keepdim": False},
     lambda: [Inp(randn(4, 1), view=[["expand", [4, 6]]])])

case(R, "max/all_3x4", "max", {"dim": None, "keepdim": False}, lambda: [Inp(distinct_randn(3, 4))])
case(R, "max/all_97", "max", {"dim": None, "keepdim": False}, lambda: [Inp(distinct_randn(97))])
case(R, "max/dim1_5x7", "max", {"dim": 1, "keepdim": False}, lambda: [Inp(distinct_randn(5, 7))])
case(R, "max/dim0_keepdim_4x6", "max", {"dim": 0, "keepdim": True},
     lambda: [Inp(distinct_randn(4, 6))])
case(R, "max/neg_dim_2x3x5", "max", {"dim": -1, "keepdim": False},
     lambda: [Inp(distinct_randn(2, 3, 5))])
case(R, "max/middle_dim_3x13x2", "max", {"dim": 1, "keepdim": False},
     lambda: [Inp(distinct_randn(3, 13, 2))])
case(R, "max/transposed_input", "max", {"dim": 1, "keepdim": True},
     lambda: [Inp(distinct_randn(7, 4), view=[["transpose", 0, 1]])])
case(R, "max/size1_dim_4x1", "max", {"dim": 1, "keepdim": False},
     lambda: [Inp(distinct_randn(4, 1))])

case(R, "var/all_correction1_4x5", "var", {"dim": None, "correction": 1, "keepdim": False},
     lambda: [Inp(randn(4, 5))])
case(R, "var/all_correction0_keepdim", "var", {"dim": None, "correction": 0, "keepdim": True},
     lambda: [Inp(randn(3, 7))])
case(R, "var/neg_dim_correction1_6x13", "var", {"dim": [-1], "correction": 1, "keepdim": False},
     lambda: [Inp(randn(6, 13))])
case(R, "var/dim0_correction0_keepdim", "var", {"dim": [0], "correction": 0, "keepdim": True},
     lambda: [Inp(randn(7, 3))])
case(R, "var/dims_0_2_correction1", "var", {"dim": [0, 2], "correction": 1, "keepdim": False},
     lambda: [Inp(randn(3, 4, 5))])
case(R, "var/transposed_input", "var", {"dim": [1], "correction": 1, "keepdim": False},
     lambda: [Inp(randn(9, 4), view=[["transpose", 0, 1]])])
case(R, "var/offset_mean_10", "var", {"dim": [-1], "correction": 0, "keepdim": False},
     lambda: [Inp(randn(4, 31, shift=10.0))])

# ----------------------------------------------------------------------------------------
# matmul.json
# ----------------------------------------------------------------------------------------

M = "matmul"
case(M, "matmul/1d_by_1d_7", "matmul", {}, lambda: [Inp(randn(7)), Inp(randn(7))])
case(M, "matmul/1d_by_1d_97", "matmul", {}, lambda: [Inp(randn(97)), Inp(randn(97))])
case(M, "matmul/1d_by_2d", "matmul", {}, lambda: [Inp(randn(5)), Inp(randn(5, 3))])
case(M, "matmul/2d_by_1d", "matmul", {}, lambda: [Inp(randn(4, 6)), Inp(randn(6))])
case(M, "matmul/2d_by_2d", "matmul", {}, lambda: [Inp(randn(3, 4)), Inp(randn(4, 5))])
case(M, "matmul/primes_13x97_by_97x31", "matmul", {},
     lambda: [Inp(randn(13, 97)), Inp(randn(97, 31))])
case(M, "matmul/size1_1x7_by_7x1", "matmul", {}, lambda: [Inp(randn(1, 7)), Inp(randn(7, 1))])
case(M, "matmul/outer_7x1_by_1x5", "matmul", {}, lambda: [Inp(randn(7, 1)), Inp(randn(1, 5))])
case(M, "matmul/batched_3d", "matmul", {}, lambda: [Inp(randn(2, 3, 4)), Inp(randn(2, 4, 5))])
case(M, "matmul/batch_broadcast_2x1x5x7_by_3x7x4", "matmul", {},
     lambda: [Inp(randn(2, 1, 5, 7)), Inp(randn(3, 7, 4))])
case(M, "matmul/3d_by_2d", "matmul", {}, lambda: [Inp(randn(2, 3, 4)), Inp(randn(4, 5))])
case(M, "matmul/2d_by_3d", "matmul", {}, lambda: [Inp(randn(3, 4)), Inp(randn(2, 4, 5))])
case(M, "matmul/1d_by_3d", "matmul", {}, lambda: [Inp(randn(4)), Inp(randn(2, 4, 3))])
case(M, "matmul/3d_by_1d", "matmul", {}, lambda: [Inp(randn(2, 3, 4)), Inp(randn(4))])
case(M, "matmul/4d_by_4d", "matmul", {},
     lambda: [Inp(randn(2, 2, 3, 5)), Inp(randn(2, 2, 5, 4))])
case(M, "matmul/transposed_rhs", "matmul", {},
     lambda: [Inp(randn(5, 6)), Inp(randn(7, 6), view=[["transpose", 0, 1]])])
case(M, "matmul/transposed_lhs", "matmul", {},
     lambda: [Inp(randn(6, 5), view=[["transpose", 0, 1]]), Inp(randn(6, 4))])
case(M, "matmul/both_transposed_batched", "matmul", {},
     lambda: [Inp(randn(2, 6, 3), view=[["transpose", 1, 2]]),
              Inp(randn(2, 5, 6), view=[["transpose", 1, 2]])])
case(M, "matmul/expanded_batch_rhs", "matmul", {},
     lambda: [Inp(randn(3, 2, 4)), Inp(randn(1, 4, 3), view=[["expand", [3, 4, 3]]])])
case(M, "matmul/sliced_lhs_rows", "matmul", {},
     lambda: [Inp(randn(9, 4), view=[["slice", 0, 0, 9, 2]]), Inp(randn(4, 3))])

case(M, "linear/2d_with_bias", "linear", {},
     lambda: [Inp(randn(5, 7)), Inp(randn(3, 7)), Inp(randn(3))])
case(M, "linear/2d_no_bias", "linear", {}, lambda: [Inp(randn(5, 7)), Inp(randn(3, 7))])
case(M, "linear/3d_input_with_bias", "linear", {},
     lambda: [Inp(randn(2, 4, 6)), Inp(randn(5, 6)), Inp(randn(5))])
case(M, "linear/1d_input_with_bias", "linear", {},
     lambda: [Inp(randn(6)), Inp(randn(4, 6)), Inp(randn(4))])
case(M, "linear/4d_input_no_bias", "linear", {},
     lambda: [Inp(randn(2, 2, 3, 5)), Inp(randn(7, 5))])
case(M, "linear/transposed_weight_view", "linear", {},
     lambda: [Inp(randn(4, 7)), Inp(randn(7, 3), view=[["transpose", 0, 1]]), Inp(randn(3))])
case(M, "linear/out_features_1", "linear", {},
     lambda: [Inp(randn(3, 13)), Inp(randn(1, 13)), Inp(randn(1))])
case(M, "linear/primes_31x37", "linear", {},
     lambda: [Inp(randn(2, 3, 37)), Inp(randn(31, 37)), Inp(randn(31))])

# ----------------------------------------------------------------------------------------
# softmax.json
# ----------------------------------------------------------------------------------------

S = "softmax"


def with_large_rows(*shape):
    """randn with two rows of large logits (last dim), to catch a missing max-subtraction."""
    x = randn(*shape)
    n = shape[-1]
    x[0] = torch.linspace(-80.0, 80.0, n)
    x[1] = torch.tensor([100.0, 90.0, -100.0] + [80.0 - 7.0 * i for i in range(n - 3)])
    return x


for _op in ("softmax", "log_softmax"):
    case(S, f"{_op}/last_dim_4x7", _op, {"dim": 1}, lambda: [Inp(randn(4, 7))])
    case(S, f"{_op}/dim0_5x3", _op, {"dim": 0}, lambda: [Inp(randn(5, 3))])
    case(S, f"{_op}/neg_dim_middle_2x6x3", _op, {"dim": -2}, lambda: [Inp(randn(2, 6, 3))])
    case(S, f"{_op}/neg_dim_last_3x37", _op, {"dim": -1}, lambda: [Inp(randn(3, 37, scale=3.0))])
    case(S, f"{_op}/large_values", _op, {"dim": -1}, lambda: [Inp(with_large_rows(3, 9))])
    case(S, f"{_op}/transposed_input", _op, {"dim": -1},
         lambda: [Inp(randn(6, 4), view=[["transpose", 0, 1]])])
case(S, "softmax/size1_dim", "softmax", {"dim": 1}, lambda: [Inp(randn(4, 1))])
case(S, "softmax/4d_dim1", "softmax", {"dim": 1}, lambda: [Inp(randn(2, 3, 2, 4))])
case(S, "log_softmax/size1_dim", "log_softmax", {"dim": -1}, lambda: [Inp(randn(3, 1))])

# ----------------------------------------------------------------------------------------
# norm.json
# ----------------------------------------------------------------------------------------

N = "norm"
case(N, "layer_norm/x_only_4x8", "layer_norm", {"normalized_shape": [8], "eps": 1e-5},
     lambda: [Inp(randn(4, 8))])
case(N, "layer_norm/weight_only_3x13", "layer_norm", {"normalized_shape": [13], "eps": 1e-5},
     lambda: [Inp(randn(3, 13)), Inp(randn(13, scale=0.5, shift=1.0))])
case(N, "layer_norm/weight_bias_2x3x16", "layer_norm", {"normalized_shape": [16], "eps": 1e-5},
     lambda: [Inp(randn(2, 3, 16)), Inp(randn(16, scale=0.5, shift=1.0)), Inp(randn(16))])
case(N, "layer_norm/two_dim_normalized_shape", "layer_norm",
     {"normalized_shape": [4, 5], "eps": 1e-5},
     lambda: [Inp(randn(3, 4, 5)), Inp(randn(4, 5, scale=0.5, shift=1.0)), Inp(randn(4, 5))])
case(N, "layer_norm/single_row_1x1x31", "layer_norm", {"normalized_shape": [31], "eps": 1e-5},
     lambda: [Inp(randn(1, 1, 31)), Inp(randn(31)), Inp(randn(31))])
case(N, "layer_norm/sliced_input", "layer_norm", {"normalized_shape": [6], "eps": 1e-5},
     lambda: [Inp(randn(5, 12), view=[["slice", 1, 0, 12, 2]]), Inp(randn(6)), Inp(randn(6))])
case(N, "layer_norm/offset_mean_eps_0.1", "layer_norm", {"normalized_shape": [7], "eps": 0.1},
     lambda: [Inp(randn(4, 7, scale=0.5, shift=5.0)), Inp(randn(7)), Inp(randn(7))])
case(N, "layer_norm/transposed_input_x_only", "layer_norm", {"normalized_shape": [5], "eps": 1e-5},
     lambda: [Inp(randn(5, 3), view=[["transpose", 0, 1]])])

case(N, "rms_norm/x_only_4x8", "rms_norm", {"normalized_shape": [8], "eps": 1e-6},
     lambda: [Inp(randn(4, 8))])
case(N, "rms_norm/weight_2x3x16", "rms_norm", {"normalized_shape": [16], "eps": 1e-6},
     lambda: [Inp(randn(2, 3, 16)), Inp(randn(16, scale=0.5, shift=1.0))])
case(N, "rms_norm/two_dim_normalized_shape", "rms_norm", {"normalized_shape": [3, 5], "eps": 1e-5},
     lambda: [Inp(randn(2, 3, 5)), Inp(randn(3, 5, scale=0.5, shift=1.0))])
case(N, "rms_norm/transposed_input", "rms_norm", {"normalized_shape": [7], "eps": 1e-6},
     lambda: [Inp(randn(7, 4), view=[["transpose", 0, 1]]), Inp(randn(7))])
case(N, "rms_norm/single_row_1x37_eps_0.1", "rms_norm", {"normalized_shape": [37], "eps": 0.1},
     lambda: [Inp(randn(1, 37, scale=0.2)), Inp(randn(37))])
case(N, "rms_norm/weight_no_grad", "rms_norm", {"normalized_shape": [6], "eps": 1e-6},
     lambda: [Inp(randn(3, 6)), Inp(randn(6), requires_grad=False)])

# ----------------------------------------------------------------------------------------
# embedding.json
# ----------------------------------------------------------------------------------------

EM = "embedding"
case(EM, "embedding/1d_ids_with_repeats", "embedding", {},
     lambda: [Inp(torch.tensor([2, 5, 2, 0, 5, 5, 6])), Inp(randn(7, 4))])
case(EM, "embedding/2d_ids_b2_t5", "embedding", {},
     lambda: [Inp(torch.tensor([[1, 12, 3, 3, 0], [12, 7, 7, 1, 4]])), Inp(randn(13, 3))])
case(EM, "embedding/3d_ids_v31", "embedding", {},
     lambda: [Inp(ints(0, 31, 2, 2, 3)), Inp(randn(31, 5))])
case(EM, "embedding/zero_dim_id", "embedding", {},
     lambda: [Inp(torch.tensor(4)), Inp(randn(6, 5))])
case(EM, "embedding/padding_idx", "embedding", {"padding_idx": 1},
     lambda: [Inp(torch.tensor([[0, 1, 3, 1], [2, 2, 1, 4]])), Inp(randn(5, 3))])
case(EM, "embedding/transposed_weight_view", "embedding", {},
     lambda: [Inp(torch.tensor([3, 0, 3, 8])), Inp(randn(4, 9), view=[["transpose", 0, 1]])])

# ----------------------------------------------------------------------------------------
# loss.json
# ----------------------------------------------------------------------------------------

L = "loss"


def ce(ignore_index=-100, label_smoothing=0.0, reduction="mean"):
    return {"ignore_index": ignore_index, "label_smoothing": label_smoothing,
            "reduction": reduction}


case(L, "cross_entropy/mean_4x5", "cross_entropy", ce(),
     lambda: [Inp(randn(4, 5)), Inp(torch.tensor([1, 0, 4, 2]))])
case(L, "cross_entropy/ignore_index_some_rows", "cross_entropy", ce(),
     lambda: [Inp(randn(6, 7)), Inp(torch.tensor([3, -100, 0, 6, -100, 2]))])
case(L, "cross_entropy/label_smoothing_0.1", "cross_entropy", ce(label_smoothing=0.1),
     lambda: [Inp(randn(5, 6)), Inp(torch.tensor([0, 5, 2, 2, 1]))])
case(L, "cross_entropy/reduction_sum", "cross_entropy", ce(reduction="sum"),
     lambda: [Inp(randn(4, 5)), Inp(torch.tensor([4, 4, 0, 3]))])
case(L, "cross_entropy/reduction_none", "cross_entropy", ce(reduction="none"),
     lambda: [Inp(randn(5, 4)), Inp(torch.tensor([1, 3, -100, 0, 2]))])
case(L, "cross_entropy/all_but_one_ignored", "cross_entropy", ce(),
     lambda: [Inp(randn(5, 6)), Inp(torch.tensor([-100, -100, 4, -100, -100]))])
case(L, "cross_entropy/prime_classes_37", "cross_entropy", ce(),
     lambda: [Inp(randn(7, 37, scale=2.0)), Inp(ints(0, 37, 7))])
case(L, "cross_entropy/large_logits", "cross_entropy", ce(),
     lambda: [Inp(randn(4, 9, scale=40.0) + torch.tensor([100.0] + [0.0] * 8)),
              Inp(torch.tensor([0, 3, 8, 5]))])
case(L, "cross_entropy/label_smoothing_with_ignore", "cross_entropy",
     ce(label_smoothing=0.2),
     lambda: [Inp(randn(6, 5)), Inp(torch.tensor([1, -100, 4, 0, -100, 2]))])
case(L, "cross_entropy/label_smoothing_sum", "cross_entropy",
     ce(label_smoothing=0.1, reduction="sum"),
     lambda: [Inp(randn(3, 7)), Inp(torch.tensor([6, 0, 3]))])
case(L, "cross_entropy/label_smoothing_none_with_ignore", "cross_entropy",
     ce(label_smoothing=0.1, reduction="none"),
     lambda: [Inp(randn(4, 5)), Inp(torch.tensor([2, -100, 0, 4]))])
case(L, "cross_entropy/custom_ignore_index_0", "cross_entropy", ce(ignore_index=0),
     lambda: [Inp(randn(5, 4)), Inp(torch.tensor([0, 1, 3, 0, 2]))])
case(L, "cross_entropy/single_row", "cross_entropy", ce(),
     lambda: [Inp(randn(1, 13)), Inp(torch.tensor([12]))])
case(L, "cross_entropy/transposed_logits", "cross_entropy", ce(),
     lambda: [Inp(randn(6, 3), view=[["transpose", 0, 1]]), Inp(torch.tensor([5, 0, 2]))])

# ----------------------------------------------------------------------------------------
# where.json
# ----------------------------------------------------------------------------------------

W = "where"
case(W, "where/same_shape_3x4", "where", {},
     lambda: [Inp(bools(0.5, 3, 4)), Inp(randn(3, 4)), Inp(randn(3, 4))])
case(W, "where/broadcast_all_three", "where", {},
     lambda: [Inp(bools(0.5, 2, 1, 4)), Inp(randn(3, 1)), Inp(randn(4))])
case(W, "where/zero_dim_b", "where", {},
     lambda: [Inp(bools(0.5, 4, 5)), Inp(randn(4, 5)), Inp(randn())])
case(W, "where/transposed_a", "where", {},
     lambda: [Inp(bools(0.5, 5, 3)), Inp(randn(3, 5), view=[["transpose", 0, 1]]),
              Inp(randn(5, 3))])
case(W, "where/expanded_cond", "where", {},
     lambda: [Inp(bools(0.5, 1, 7), view=[["expand", [3, 7]]]), Inp(randn(3, 7)),
              Inp(randn(3, 1))])

case(W, "masked_fill/value_number", "masked_fill", {"value": 2.5},
     lambda: [Inp(randn(3, 5)), Inp(bools(0.4, 3, 5))])
case(W, "masked_fill/value_zero_broadcast_mask", "masked_fill", {"value": 0.0},
     lambda: [Inp(randn(2, 3, 4)), Inp(bools(0.5, 3, 1))])
case(W, "masked_fill/neg_inf_causal", "masked_fill", {"value": "-inf"},
     lambda: [Inp(randn(2, 5, 5)), Inp(torch.ones(5, 5, dtype=torch.bool).triu(diagonal=1))])
case(W, "masked_fill/transposed_x", "masked_fill", {"value": -1.0},
     lambda: [Inp(randn(4, 3), view=[["transpose", 0, 1]]), Inp(bools(0.5, 3, 4))])
case(W, "masked_fill/key_padding_4d", "masked_fill", {"value": -10000.0},
     lambda: [Inp(randn(2, 2, 3, 4)),
              Inp(torch.tensor([[False, False, True, True], [False, False, False, True]])
                  .reshape(2, 1, 1, 4))])

# ----------------------------------------------------------------------------------------
# attention.json
# ----------------------------------------------------------------------------------------

A = "attention"
SDPA = "scaled_dot_product_attention"


def attn(is_causal=False, scale=None):
    return {"is_causal": is_causal, "scale": scale}


def qkv(b, h, tq, tk, d, dv=None):
    dv = d if dv is None else dv
    return [Inp(randn(b, h, tq, d)), Inp(randn(b, h, tk, d)), Inp(randn(b, h, tk, dv))]


def random_bool_mask(*shape):
    """Random attend-mask (True = attend) with the last key always attended: no empty row."""
    m = bools(0.6, *shape)
    m[..., -1] = True
    return m


def key_padding_mask(b, tk, lengths):
    """[B, 1, 1, Tk] bool mask: batch i attends to its first lengths[i] keys."""
    ar = torch.arange(tk)
    return torch.stack([ar < n for n in lengths]).reshape(b, 1, 1, tk)


def neg_inf_float_mask(*shape):
    """Additive mask of 0 and -inf, with key 0 always allowed (no fully masked row)."""
    m = torch.where(bools(0.4, *shape), torch.tensor(float("-inf")), torch.tensor(0.0))
    m[..., 0] = 0.0
    return m


case(A, f"{SDPA}/basic_b1h1_t4_d8", SDPA, attn(), lambda: qkv(1, 1, 4, 4, 8))
case(A, f"{SDPA}/b2h3_t5_d4", SDPA, attn(), lambda: qkv(2, 3, 5, 5, 4))
case(A, f"{SDPA}/causal_b2h2_t5_d4", SDPA, attn(is_causal=True), lambda: qkv(2, 2, 5, 5, 4))
case(A, f"{SDPA}/causal_d64_t33", SDPA, attn(is_causal=True), lambda: qkv(1, 1, 33, 33, 64))
case(A, f"{SDPA}/causal_decode_tq1_tk9", SDPA, attn(is_causal=True),
     lambda: qkv(2, 2, 1, 9, 8))
case(A, f"{SDPA}/causal_chunk_tq3_tk8", SDPA, attn(is_causal=True),
     lambda: qkv(1, 2, 3, 8, 4))
case(A, f"{SDPA}/cross_tq3_tk7_not_causal", SDPA, attn(), lambda: qkv(2, 1, 3, 7, 5))
case(A, f"{SDPA}/dv_ne_d", SDPA, attn(), lambda: qkv(1, 2, 4, 6, 6, dv=10))
case(A, f"{SDPA}/causal_dv_ne_d", SDPA, attn(is_causal=True), lambda: qkv(1, 2, 5, 5, 3, dv=7))
case(A, f"{SDPA}/explicit_scale_0.25", SDPA, attn(scale=0.25), lambda: qkv(1, 2, 4, 4, 8))
case(A, f"{SDPA}/key_padding_bool_mask", SDPA, attn(),
     lambda: qkv(2, 2, 5, 5, 4) + [Inp(key_padding_mask(2, 5, [3, 5]))])
case(A, f"{SDPA}/key_padding_cross_tq2_tk7", SDPA, attn(),
     lambda: qkv(3, 1, 2, 7, 4) + [Inp(key_padding_mask(3, 7, [7, 1, 4]))])
case(A, f"{SDPA}/bool_mask_2d", SDPA, attn(),
     lambda: qkv(2, 2, 4, 6, 4) + [Inp(random_bool_mask(4, 6))])
case(A, f"{SDPA}/bool_mask_head_broadcast", SDPA, attn(),
     lambda: qkv(2, 3, 3, 5, 4) + [Inp(random_bool_mask(1, 3, 3, 5))])
case(A, f"{SDPA}/bool_mask_full_4d", SDPA, attn(scale=0.5),
     lambda: qkv(2, 2, 4, 4, 3) + [Inp(random_bool_mask(2, 2, 4, 4))])
case(A, f"{SDPA}/float_mask_additive_2d", SDPA, attn(),
     lambda: qkv(2, 2, 4, 5, 4) + [Inp(randn(4, 5), requires_grad=False)])
case(A, f"{SDPA}/float_mask_neg_inf_4d", SDPA, attn(),
     lambda: qkv(2, 2, 4, 6, 4) + [Inp(neg_inf_float_mask(2, 2, 4, 6), requires_grad=False)])
case(A, f"{SDPA}/permuted_bthd_inputs_causal", SDPA, attn(is_causal=True),
     lambda: [Inp(randn(2, 6, 2, 4), view=[["permute", [0, 2, 1, 3]]]),
              Inp(randn(2, 6, 2, 4), view=[["permute", [0, 2, 1, 3]]]),
              Inp(randn(2, 6, 2, 4), view=[["permute", [0, 2, 1, 3]]])])
case(A, f"{SDPA}/large_scores", SDPA, attn(),
     lambda: [Inp(randn(1, 2, 4, 8, scale=6.0)), Inp(randn(1, 2, 5, 8, scale=6.0)),
              Inp(randn(1, 2, 5, 8))])
case(A, f"{SDPA}/v_no_grad", SDPA, attn(is_causal=True),
     lambda: [Inp(randn(1, 1, 3, 4)), Inp(randn(1, 1, 3, 4)),
              Inp(randn(1, 1, 3, 4), requires_grad=False)])

# ----------------------------------------------------------------------------------------
# shape.json
# ----------------------------------------------------------------------------------------

SH = "shape"
case(SH, "cat/dim0_two", "cat", {"dim": 0}, lambda: [Inp(randn(2, 3)), Inp(randn(4, 3))])
case(SH, "cat/dim1_three", "cat", {"dim": 1},
     lambda: [Inp(randn(2, 1)), Inp(randn(2, 3)), Inp(randn(2, 2))])
case(SH, "cat/neg_dim_3d", "cat", {"dim": -1}, lambda: [Inp(randn(2, 3, 4)), Inp(randn(2, 3, 1))])
case(SH, "cat/transposed_input", "cat", {"dim": 0},
     lambda: [Inp(randn(3, 2), view=[["transpose", 0, 1]]), Inp(randn(1, 3))])
case(SH, "cat/single_input", "cat", {"dim": 0}, lambda: [Inp(randn(3, 2))])

case(SH, "stack/dim0_three", "stack", {"dim": 0},
     lambda: [Inp(randn(2, 3)), Inp(randn(2, 3)), Inp(randn(2, 3))])
case(SH, "stack/neg_dim_last", "stack", {"dim": -1}, lambda: [Inp(randn(3, 4)), Inp(randn(3, 4))])
case(SH, "stack/middle_dim_sliced_input", "stack", {"dim": 1},
     lambda: [Inp(randn(2, 6), view=[["slice", 1, 0, 6, 2]]), Inp(randn(2, 3))])

case(SH, "split/int_size_uneven", "split", {"split_size_or_sections": 3, "dim": 0},
     lambda: [Inp(randn(7, 3))])
case(SH, "split/sections_dim1", "split", {"split_size_or_sections": [2, 5, 6], "dim": 1},
     lambda: [Inp(randn(2, 13))])
case(SH, "split/neg_dim", "split", {"split_size_or_sections": 2, "dim": -1},
     lambda: [Inp(randn(3, 4))])
case(SH, "split/transposed_input", "split", {"split_size_or_sections": [1, 3], "dim": 0},
     lambda: [Inp(randn(5, 4), view=[["transpose", 0, 1]])])
case(SH, "split/size_larger_than_dim", "split", {"split_size_or_sections": 8, "dim": 1},
     lambda: [Inp(randn(2, 5))])

case(SH, "narrow/dim0", "narrow", {"dim": 0, "start": 1, "length": 3}, lambda: [Inp(randn(5, 3))])
case(SH, "narrow/neg_dim", "narrow", {"dim": -1, "start": 2, "length": 4},
     lambda: [Inp(randn(2, 3, 7))])
case(SH, "narrow/transposed_input", "narrow", {"dim": 1, "start": 0, "length": 2},
     lambda: [Inp(randn(4, 3), view=[["transpose", 0, 1]])])

case(SH, "index_select/dim0_repeats", "index_select", {"dim": 0},
     lambda: [Inp(randn(5, 3)), Inp(torch.tensor([4, 0, 4, 2, 4]))])
case(SH, "index_select/dim1", "index_select", {"dim": 1},
     lambda: [Inp(randn(3, 7)), Inp(torch.tensor([6, 1]))])
case(SH, "index_select/neg_dim_3d", "index_select", {"dim": -1},
     lambda: [Inp(randn(2, 3, 4)), Inp(torch.tensor([3, 3, 0]))])
case(SH, "index_select/transposed_input", "index_select", {"dim": 0},
     lambda: [Inp(randn(3, 4), view=[["transpose", 0, 1]]), Inp(torch.tensor([1, 3]))])

case(SH, "gather/dim1", "gather", {"dim": 1},
     lambda: [Inp(randn(3, 5)), Inp(torch.tensor([[0, 4, 4], [2, 2, 1], [3, 0, 3]]))])
case(SH, "gather/dim0", "gather", {"dim": 0},
     lambda: [Inp(randn(4, 3)), Inp(torch.tensor([[3, 0, 1], [3, 3, 2]]))])
case(SH, "gather/neg_dim_3d", "gather", {"dim": -1},
     lambda: [Inp(randn(2, 3, 4)), Inp(ints(0, 4, 2, 3, 2))])
case(SH, "gather/index_smaller_than_input", "gather", {"dim": 1},
     lambda: [Inp(randn(4, 6)), Inp(ints(0, 6, 2, 3))])

case(SH, "transpose/2d", "transpose", {"dim0": 0, "dim1": 1}, lambda: [Inp(randn(3, 5))])
case(SH, "transpose/3d_neg_dims", "transpose", {"dim0": -1, "dim1": -3},
     lambda: [Inp(randn(2, 3, 4))])
case(SH, "transpose/4d_middle", "transpose", {"dim0": 1, "dim1": 2},
     lambda: [Inp(randn(2, 3, 2, 4))])

case(SH, "permute/3d", "permute", {"dims": [2, 0, 1]}, lambda: [Inp(randn(2, 3, 4))])
case(SH, "permute/4d_heads", "permute", {"dims": [0, 2, 1, 3]}, lambda: [Inp(randn(2, 3, 2, 4))])
case(SH, "permute/neg_dims", "permute", {"dims": [-1, 0, 1]}, lambda: [Inp(randn(3, 2, 5))])

case(SH, "reshape/infer_dim", "reshape", {"shape": [3, -1]}, lambda: [Inp(randn(2, 3, 2))])
case(SH, "reshape/flatten", "reshape", {"shape": [-1]}, lambda: [Inp(randn(4, 3))])
case(SH, "reshape/non_contiguous_input", "reshape", {"shape": [2, 6]},
     lambda: [Inp(randn(3, 4), view=[["transpose", 0, 1]])])
case(SH, "reshape/add_size1_dims", "reshape", {"shape": [1, 5, 1, -1]},
     lambda: [Inp(randn(5, 2))])

case(SH, "expand/new_leading_dims_and_-1", "expand", {"size": [2, -1, 4]},
     lambda: [Inp(randn(3, 1))])
case(SH, "expand/size1_row", "expand", {"size": [4, -1]}, lambda: [Inp(randn(1, 5))])
case(SH, "expand/zero_dim", "expand", {"size": [2, 3]}, lambda: [Inp(randn())])
case(SH, "expand/1d_to_3d", "expand", {"size": [2, 3, 7]}, lambda: [Inp(randn(7))])

case(SH, "contiguous/transposed", "contiguous", {},
     lambda: [Inp(randn(3, 4), view=[["transpose", 0, 1]])])
case(SH, "contiguous/sliced_then_permuted", "contiguous", {},
     lambda: [Inp(randn(2, 6, 3), view=[["slice", 1, 1, 6, 2], ["permute", [2, 0, 1]]])])
case(SH, "contiguous/narrowed_expanded", "contiguous", {},
     lambda: [Inp(randn(1, 5), view=[["narrow", 1, 1, 3], ["expand", [2, 3]]])])

case(SH, "slice/dim0_step2", "slice", {"dim": 0, "start": 0, "stop": 7, "step": 2},
     lambda: [Inp(randn(7, 3))])
case(SH, "slice/neg_dim_step3", "slice", {"dim": -1, "start": 1, "stop": 6, "step": 3},
     lambda: [Inp(randn(2, 6))])
case(SH, "slice/step1_middle_dim", "slice", {"dim": 1, "start": 1, "stop": 3, "step": 1},
     lambda: [Inp(randn(2, 4, 3))])
case(SH, "slice/transposed_input", "slice", {"dim": 1, "start": 2, "stop": 5, "step": 2},
     lambda: [Inp(randn(5, 3), view=[["transpose", 0, 1]])])

# ----------------------------------------------------------------------------------------
# Self-check: reload every file, check its structure, replay every case.
# ----------------------------------------------------------------------------------------

TORCH_DTYPES = {"float32": torch.float32, "int64": torch.int64, "bool": torch.bool}


def load_tensor(tj, where):
    assert set(tj) >= {"shape", "dtype", "data"}, f"{where}: missing keys"
    n = math.prod(tj["shape"])
    assert len(tj["data"]) == n, f"{where}: {len(tj['data'])} values for shape {tj['shape']}"
    dt = tj["dtype"]
    assert dt in TORCH_DTYPES, f"{where}: dtype {dt}"
    if dt == "float32":
        vals = [float(v) if isinstance(v, str) else v for v in tj["data"]]
        assert all(isinstance(v, (int, float)) for v in vals), where
    elif dt == "int64":
        vals = tj["data"]
        assert all(isinstance(v, int) and not isinstance(v, bool) for v in vals), where
    else:
        vals = tj["data"]
        assert all(isinstance(v, bool) for v in vals), where
    return torch.tensor(vals, dtype=TORCH_DTYPES[dt]).reshape(tj["shape"])


def same(a, b):
    """Bitwise equality of two tensors (NaN equals NaN)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_floating_point():
        return bool(((a == b) | (torch.isnan(a) & torch.isnan(b))).all())
    return bool((a == b).all())


def self_check():
    names = set()
    total_cases = 0
    for fam in FAMILIES:
        path = os.path.join(OUT_DIR, fam + ".json")
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        assert doc["generator"] == GENERATOR and isinstance(doc["torch_version"], str)
        for c in doc["cases"]:
            name = c["name"]
            assert name not in names, f"duplicate case {name}"
            names.add(name)
            assert name.startswith(c["op"] + "/"), name
            assert list(c) == ["name", "op", "inputs", "attrs", "outputs", "grad_outputs",
                               "grads"], f"{name}: keys {list(c)}"
            inputs = []
            for j, ij in enumerate(c["inputs"]):
                base = load_tensor(ij, f"{name} input {j}")
                assert isinstance(ij["requires_grad"], bool) and isinstance(ij["view"], list)
                inputs.append(Inp(base, ij["view"], ij["requires_grad"]))
            outs = [load_tensor(t, f"{name} output {i}") for i, t in enumerate(c["outputs"])]
            assert len(c["grad_outputs"]) == len(outs), f"{name}: grad_outputs length"
            gouts = []
            for i, (o, g) in enumerate(zip(outs, c["grad_outputs"])):
                if o.is_floating_point():
                    g = load_tensor(g, f"{name} grad_output {i}")
                    assert g.shape == o.shape and g.dtype == torch.float32, name
                    gouts.append(g)
                else:
                    assert g is None, f"{name}: grad_output {i} must be null"
                    gouts.append(None)
            assert len(c["grads"]) == len(inputs), f"{name}: grads length"
            grads = []
            for j, (inp, g) in enumerate(zip(inputs, c["grads"])):
                if inp.requires_grad:
                    g = load_tensor(g, f"{name} grad {j}")
                    assert g.shape == inp.base.shape and g.dtype == torch.float32, name
                    grads.append(g)
                else:
                    assert g is None, f"{name}: grad {j} must be null"
                    grads.append(None)
            # Replay from the parsed JSON: same dispatch, so results must match bit for bit.
            r_outs, _, r_grads = evaluate(c["op"], inputs, c["attrs"], gouts)
            assert len(r_outs) == len(outs), f"{name}: output count"
            for i, (a, b) in enumerate(zip(r_outs, outs)):
                assert same(a.contiguous(), b), f"{name}: output {i} differs on replay"
            for j, (a, b) in enumerate(zip(r_grads, grads)):
                assert (a is None) == (b is None), name
                assert a is None or same(a, b), f"{name}: grad {j} differs on replay"
            total_cases += 1
    print(f"self-check ok: {total_cases} cases in {len(FAMILIES)} files")


def setup_torch():
    # One thread and deterministic kernels: byte-identical reruns on the same torch build.
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only self-check the existing files")
    args = ap.parse_args()
    setup_torch()
    if not args.check:
        os.makedirs(OUT_DIR, exist_ok=True)
        total = 0
        for fam in FAMILIES:
            path, n, size = write_family(fam)
            total += size
            print(f"{os.path.relpath(path, REPO_ROOT)}: {n} cases, {size} bytes")
        print(f"total: {sum(len(v) for v in CASES.values())} cases, {total} bytes")
    self_check()


if __name__ == "__main__":
    sys.exit(main())
