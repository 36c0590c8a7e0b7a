"""Golden fixtures for decoder-only models: tiny random Hugging Face GPT-2 and LLaMA checkpoints.

For each case this writes fixtures/models/<name>/:
  config.json, model.safetensors   the checkpoint exactly as `save_pretrained` writes it
                                   (tied weights are omitted, as transformers does)
  reference.safetensors            inputs and expected outputs:
      input_ids [B, T] int64, attention_mask [B, T] int64 (row 1 right-padded),
      labels [B, T] int64 (-100 at padding), logits [B, T, V] f32, loss [] f32,
      grad.<parameter name> f32 for EVERY parameter in model.named_parameters()
      (tied parameters appear once, under the embedding's name),
      left_input_ids, left_attention_mask, left_position_ids [B, T] int64 and left_logits [B, T, V]:
      the same batch left-padded with generate()-style position ids,
      sgd_losses [6] f32: the loss before each of 6 plain SGD steps (p -= sgd_lr * grad) on the
      same batch, starting from the saved weights; sgd_lr [1] f32

Run from the repository root:  .venv/bin/python tools/golden/models.py
Deterministic: torch seeded per case, one thread, eval mode (dropout off), eager attention.
After writing, every directory is reloaded with from_pretrained and its logits are re-checked.
"""
import json
import os
import sys

# This folder holds tokenizers.py, which would shadow the `tokenizers` package transformers imports.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "fixtures", "models")

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def llama(**kw):
    base = dict(
        vocab_size=99,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        rms_norm_eps=1e-6,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
    )
    base.update(kw)
    return lambda: LlamaForCausalLM(LlamaConfig(**base))


CASES = {
    # GPT-2 as HF defines it: Conv1D weights [in, out], tied lm_head, gelu_new, dropout 0.1 (off in eval).
    "gpt2_tiny": (lambda: GPT2LMHeadModel(GPT2Config(vocab_size=99, n_positions=64, n_embd=32, n_layer=2, n_head=4, bos_token_id=98, eos_token_id=98)), 10),
    # GPT-2 config variants: exact-erf GELU, explicit n_inner, attention scaled by 1/(layer_idx + 1),
    # an untied lm_head.
    "gpt2_variants": (
        lambda: GPT2LMHeadModel(
            GPT2Config(
                vocab_size=99, n_positions=64, n_embd=32, n_layer=2, n_head=2, n_inner=48, activation_function="gelu",
                scale_attn_by_inverse_layer_idx=True, tie_word_embeddings=False, bos_token_id=98, eos_token_id=98,
            )
        ),
        9,
    ),
    # Grouped-query attention (4 query heads share 2 key/value heads), default RoPE, pad_token_id 0.
    "llama_gqa": (llama(), 10),
    # LLaMA-3.1 RoPE scaling and tied embeddings. head_dim 8 gives wavelengths 6.3, 63, 628, 6283:
    # with original_max_position_embeddings 64 (low 64, high 16) one frequency is kept, one smoothed,
    # two divided by the factor, so all three branches of _compute_llama3_parameters are exercised.
    "llama_rope3_tied": (
        llama(
            rope_theta=10000.0,
            rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
            max_position_embeddings=128,
            tie_word_embeddings=True,
            num_key_value_heads=1,
        ),
        10,
    ),
    # Linear RoPE scaling with biases on attention and MLP projections, and head_dim (12) set apart
    # from hidden_size / num_attention_heads (8).
    "llama_linear_bias": (llama(rope_scaling={"rope_type": "linear", "factor": 2.0}, attention_bias=True, mlp_bias=True, num_key_value_heads=4, head_dim=12), 10),
    # Dynamic NTK RoPE, with a sequence (12) longer than max_position_embeddings (8) so the base is rescaled.
    "llama_dynamic": (llama(rope_scaling={"rope_type": "dynamic", "factor": 2.0}, max_position_embeddings=8, rope_theta=500.0), 12),
}


TRAJ_STEPS = 6
TRAJ_LR = 0.2


def make(name, build, T, seed):
    torch.manual_seed(seed)
    model = build()
    model.config._attn_implementation = "eager"
    model.eval()
    V = model.config.vocab_size
    B = 2
    g = torch.Generator().manual_seed(seed + 1)
    input_ids = torch.randint(3, V, (B, T), generator=g)
    attention_mask = torch.ones(B, T, dtype=torch.long)
    attention_mask[1, T - 3 :] = 0  # right padding: no fully-masked query rows
    input_ids[1, T - 3 :] = 0
    labels = input_ids.clone()
    labels[attention_mask == 0] = -100
    out = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
    out.loss.backward()
    ref = {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "labels": labels,
        "logits": out.logits.detach().contiguous(),
        "loss": out.loss.detach().reshape([]),
    }
    for pname, p in model.named_parameters():
        ref["grad." + pname] = p.grad.detach().contiguous()
    # Left padding as batched generation uses it: row 1 shifted right by 3 pad tokens, position ids
    # from the mask as generate() computes them (cumsum - 1, pads at 1). Only real positions are
    # compared (padding query rows see no real key; their values are a masking convention).
    left_ids = torch.zeros_like(input_ids)
    left_mask = torch.zeros_like(attention_mask)
    left_ids[0] = input_ids[0]
    left_mask[0] = 1
    left_ids[1, 3:] = input_ids[1, : T - 3]
    left_mask[1, 3:] = 1
    left_pos = (left_mask.cumsum(-1) - 1).masked_fill(left_mask == 0, 1)
    with torch.no_grad():
        ref["left_logits"] = model(input_ids=left_ids, attention_mask=left_mask, position_ids=left_pos).logits.contiguous()
    ref["left_input_ids"] = left_ids
    ref["left_attention_mask"] = left_mask
    ref["left_position_ids"] = left_pos
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    model.save_pretrained(d)
    # A short training trajectory from the saved weights (llm.c's test_gpt2 idea): plain SGD,
    # p -= lr * grad, eval mode (no dropout), same batch; loss before each of TRAJ_STEPS updates.
    traj_model = type(model).from_pretrained(d, attn_implementation="eager").eval()
    losses = []
    for _ in range(TRAJ_STEPS):
        loss = traj_model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss
        losses.append(loss.item())
        traj_model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in traj_model.parameters():
                p -= TRAJ_LR * p.grad
    ref["sgd_losses"] = torch.tensor(losses, dtype=torch.float32)
    ref["sgd_lr"] = torch.tensor([TRAJ_LR], dtype=torch.float32)
    save_file(ref, os.path.join(d, "reference.safetensors"), metadata={"generator": "tools/golden/models.py", "torch": torch.__version__})
    # Self-check: the saved directory reloads to the same logits.
    m2 = type(model).from_pretrained(d, attn_implementation="eager").eval()
    with torch.no_grad():
        l2 = m2(input_ids=input_ids, attention_mask=attention_mask).logits
    diff = (l2 - out.logits).abs().max().item()
    assert diff == 0.0, f"{name}: reloaded logits differ by {diff}"
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print(f"{name}: {sum(p.numel() for p in model.parameters())} params, loss {out.loss.item():.6f}, {size / 1024:.0f} KiB")


def rope_tables():
    """inv_freq from transformers' ROPE_INIT_FUNCTIONS for realistic configs -> fixtures/models/rope.json."""
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    cases = {
        "default_llama2": (dict(hidden_size=4096, num_attention_heads=32, max_position_embeddings=4096, rope_theta=10000.0), None, None),
        "linear_x4": (dict(hidden_size=4096, num_attention_heads=32, max_position_embeddings=4096, rope_theta=10000.0, rope_scaling={"rope_type": "linear", "factor": 4.0}), "linear", None),
        "dynamic_x2_len6000": (dict(hidden_size=4096, num_attention_heads=32, max_position_embeddings=4096, rope_theta=10000.0, rope_scaling={"rope_type": "dynamic", "factor": 2.0}), "dynamic", 6000),
        "llama3_1_8b": (
            dict(
                hidden_size=4096,
                num_attention_heads=32,
                max_position_embeddings=131072,
                rope_theta=500000.0,
                rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
            ),
            "llama3",
            None,
        ),
        "llama3_2_1b": (
            dict(
                hidden_size=2048,
                num_attention_heads=32,
                max_position_embeddings=131072,
                rope_theta=500000.0,
                rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
            ),
            "llama3",
            None,
        ),
    }
    out = {}
    for name, (kw, rtype, seq_len) in cases.items():
        cfg = LlamaConfig(vocab_size=8, intermediate_size=8, num_hidden_layers=1, **kw)
        if rtype is None:
            from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

            inv = LlamaRotaryEmbedding.compute_default_rope_parameters(cfg)[0]
        elif rtype == "dynamic":
            inv = ROPE_INIT_FUNCTIONS[rtype](cfg, None, seq_len=torch.tensor(seq_len))[0]
        else:
            inv = ROPE_INIT_FUNCTIONS[rtype](cfg, None)[0]
        out[name] = {"config": cfg.to_dict() | {"rope_parameters": cfg.rope_parameters}, "seq_len": seq_len, "inv_freq": [float(x) for x in inv.float().tolist()]}
        out[name]["config"] = {k: out[name]["config"][k] for k in ("hidden_size", "num_attention_heads", "head_dim", "max_position_embeddings", "rope_parameters")}
    with open(os.path.join(OUT, "rope.json"), "w") as f:
        json.dump({"generator": "tools/golden/models.py", "cases": out}, f, indent=1)
        f.write("\n")
    print(f"rope.json: {len(out)} cases")


def t5_buckets():
    """T5Attention._relative_position_bucket over -300..300 -> fixtures/models/t5_buckets.json (for nn/positions)."""
    from transformers.models.t5.modeling_t5 import T5Attention

    rel = torch.arange(-300, 301)
    out = {"generator": "tools/golden/models.py", "relative_position": rel.tolist(), "cases": []}
    for bidirectional, nb, md in [(True, 32, 128), (False, 32, 128), (True, 16, 64), (False, 64, 256)]:
        b = T5Attention._relative_position_bucket(rel, bidirectional=bidirectional, num_buckets=nb, max_distance=md)
        out["cases"].append({"bidirectional": bidirectional, "num_buckets": nb, "max_distance": md, "buckets": b.tolist()})
    with open(os.path.join(OUT, "t5_buckets.json"), "w") as f:
        json.dump(out, f)
        f.write("\n")
    print("t5_buckets.json written")


def main():
    import transformers

    rope_tables()
    t5_buckets()

    only = sys.argv[1:]
    for i, (name, (build, T)) in enumerate(CASES.items()):
        if only and name not in only:
            continue
        make(name, build, T, 1000 + i)
    with open(os.path.join(OUT, "VERSIONS.json"), "w") as f:
        json.dump({"torch": torch.__version__, "transformers": transformers.__version__}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
