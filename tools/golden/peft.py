"""Golden fixtures for parameter-efficient tuning against Hugging Face `peft` (fixtures/peft/).

For each case this builds a tiny random GPT-2 or LLaMA with transformers, applies one peft method
with a fixed seed, and writes fixtures/peft/<case>/:
  base/config.json, base/model.safetensors   the base checkpoint (save_pretrained)
  adapter/adapter_config.json,
  adapter/adapter_model.safetensors           the adapter exactly as PeftModel.save_pretrained writes it
  reference.safetensors                       inputs and expected outputs (gen_input_ids [2, 6] and
                                              gen_sequences: greedy generate() of 5 new tokens):
      input_ids, attention_mask (row 1 right-padded), labels (-100 at padding) [B, T] int64,
      logits [B, T(+virtual), V] f32, loss [] f32,
      grad.<peft parameter name> f32 for every trainable parameter (peft's named_parameters names),
      param.<peft parameter name> f32 every trainable parameter's value (prefix-projection encoders
      are not in the adapter file: peft saves only their output)
  meta.json                                   trainable / total parameter counts
                                              (get_nb_trainable_parameters), saved key list, extras
Extra adapters (several adapters on one base) sit in adapter_<name>/ with logits_<name> in the
reference file.

Round trip (--roundtrip, run after the fixtures exist; also run by default at the end): runs
`node --import tsx tools/golden/peft_roundtrip.ts`, which loads each base in tslm, builds adapters
with tslm (LoRA, prefix, prompt tuning), saves them in peft's format to a temporary directory together
with tslm's logits; this script then loads each with PeftModel.from_pretrained on the HF base and
compares logits. The outcome is committed as fixtures/peft/roundtrip.json and asserted by
test/peft/roundtrip.test.ts.

Bottleneck adapters (tslm's own TSLM_BOTTLENECK type; peft has no Houlsby adapter) are checked
against the PyTorch re-implementation `HoulsbyAdapter` below, labeled as such in the fixture.

Run from the repository root:  .venv/bin/python tools/golden/peft.py
Deterministic: torch seeded per case, one thread, eval mode (dropout off), eager attention.
"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import torch  # noqa: E402
import peft  # noqa: E402
import transformers  # noqa: E402
from peft import IA3Config, LoraConfig, PeftModel, PrefixTuningConfig, PromptTuningConfig, get_peft_model  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from transformers import BertConfig, BertForSequenceClassification, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM  # noqa: E402

# peft keeps target_modules as a set: fix the hash seed so adapter_config.json lists come out in one order.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "fixtures", "peft")

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def gpt2():
    return GPT2LMHeadModel(GPT2Config(vocab_size=99, n_positions=64, n_embd=32, n_layer=2, n_head=4, bos_token_id=98, eos_token_id=98))


def llama():
    return LlamaForCausalLM(
        LlamaConfig(
            vocab_size=99, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-6, pad_token_id=0, bos_token_id=1, eos_token_id=2,
        )
    )


def bert():
    return BertForSequenceClassification(
        BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, max_position_embeddings=64, num_labels=3)
    )


B, T = 2, 10


def batch(seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, 99, (B, T), generator=g)
    mask = torch.ones(B, T, dtype=torch.long)
    mask[1, 7:] = 0  # row 1 right-padded
    labels = ids.clone()
    labels[mask == 0] = -100
    return ids, mask, labels


# name -> (base builder, base family, {adapter name: peft config}, note)
CASES = {
    # GPT-2 Conv1D targets (fan_in_fan_out), B initialised random (init_lora_weights=False) so that
    # the adapter changes the logits and every gradient is non-zero; ln_f in modules_to_save.
    "gpt2_lora": (gpt2, "gpt2", {
        "default": LoraConfig(r=4, lora_alpha=8, target_modules=["c_attn", "c_proj"], lora_dropout=0.0, fan_in_fan_out=True,
                              init_lora_weights=False, bias="lora_only", modules_to_save=["ln_f"], task_type="CAUSAL_LM"),
    }),
    # bias "all": every bias of the model trains and is saved; c_fc targeted with all-linear-like names.
    "gpt2_lora_bias_all": (gpt2, "gpt2", {
        "default": LoraConfig(r=2, lora_alpha=4, target_modules=["c_fc"], lora_dropout=0.0, fan_in_fan_out=True, init_lora_weights="gaussian",
                              bias="all", task_type="CAUSAL_LM"),
    }),
    # LLaMA, targets as a regex string (fullmatch), rsLoRA scaling, a LoRA on the embedding, and a
    # second adapter on other modules to switch to.
    "llama_lora": (llama, "llama", {
        "default": LoraConfig(r=8, lora_alpha=16, target_modules=r"model\.(embed_tokens|layers\.\d+\.self_attn\.(q_proj|v_proj))",
                              lora_dropout=0.0, use_rslora=True, init_lora_weights=False, task_type="CAUSAL_LM"),
        "second": LoraConfig(r=2, lora_alpha=4, target_modules=["o_proj", "down_proj"], lora_dropout=0.0, init_lora_weights=False,
                             task_type="CAUSAL_LM"),
    }),
    "gpt2_prefix": (gpt2, "gpt2", {"default": PrefixTuningConfig(num_virtual_tokens=3, task_type="CAUSAL_LM")}),
    # Grouped-query attention: peft sizes the prefix by the key/value heads; a projection MLP.
    "llama_prefix": (llama, "llama", {"default": PrefixTuningConfig(num_virtual_tokens=4, prefix_projection=True, encoder_hidden_size=24, task_type="CAUSAL_LM")}),
    "gpt2_prompt": (gpt2, "gpt2", {"default": PromptTuningConfig(num_virtual_tokens=4, prompt_tuning_init="RANDOM", task_type="CAUSAL_LM")}),
    "llama_prompt": (llama, "llama", {"default": PromptTuningConfig(num_virtual_tokens=3, prompt_tuning_init="RANDOM", task_type="CAUSAL_LM")}),
    # BERT sequence classification: LoRA on query/value; peft adds the "classifier" head to
    # modules_to_save for SEQ_CLS itself (a trainable copy, saved under classifier.*).
    "bert_lora_cls": (bert, "bert", {
        "default": LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value"], lora_dropout=0.0, init_lora_weights=False, task_type="SEQ_CLS"),
    }),
    "gpt2_ia3": (gpt2, "gpt2", {"default": IA3Config(target_modules=["c_attn", "mlp.c_proj"], feedforward_modules=["mlp.c_proj"], fan_in_fan_out=True, task_type="CAUSAL_LM")}),
    "llama_ia3": (llama, "llama", {"default": IA3Config(target_modules=["k_proj", "v_proj", "down_proj"], feedforward_modules=["down_proj"], task_type="CAUSAL_LM")}),
}


def perturb_prompt_learning(model):
    # Random init already; IA3 vectors start at ones, so move them off identity to test something.
    with torch.no_grad():
        for n, p in model.named_parameters():
            if p.requires_grad and "ia3_l" in n:
                p.add_(0.3 * torch.randn_like(p))


def run_case(name, build, family, adapters):
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    torch.manual_seed(sum(map(ord, name)))
    base = build().eval()
    base.config.name_or_path = f"fixtures/peft/{name}/base"
    base.save_pretrained(os.path.join(d, "base"))
    names = list(adapters)
    model = get_peft_model(base, adapters[names[0]], adapter_name=names[0])
    for n in names[1:]:
        model.add_adapter(n, adapters[n])
    perturb_prompt_learning(model)
    model.eval()
    ids, mask, labels = batch(sum(map(ord, name)) + 1)
    if family == "bert":
        labels = torch.tensor([2, 0])
    ref = {"input_ids": ids, "attention_mask": mask, "labels": labels}
    meta = {"peft_version": peft.__version__, "transformers_version": transformers.__version__, "torch_version": torch.__version__, "family": family, "adapters": {}}
    for n in names:
        model.set_adapter(n)
        trainable, total = model.get_nb_trainable_parameters()
        sub = "adapter" if n == names[0] else f"adapter_{n}"
        tmp = tempfile.mkdtemp()
        model.save_pretrained(tmp, selected_adapters=[n])
        src = tmp if n == "default" else os.path.join(tmp, n)
        shutil.copytree(src, os.path.join(d, sub))
        shutil.rmtree(tmp)
        saved = load_file(os.path.join(d, sub, "adapter_model.safetensors"))
        model.zero_grad()
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        out.loss.backward()
        suffix = "" if n == names[0] else f"_{n}"
        ref["logits" + suffix] = out.logits.detach()
        ref["loss" + suffix] = out.loss.detach()
        params = [(k, p) for k, p in model.named_parameters() if p.requires_grad]
        for k, p in params:
            if p.grad is not None:
                ref[f"grad{suffix}.{k}"] = p.grad.detach().clone()
            ref[f"param{suffix}.{k}"] = p.detach().clone()
        meta["adapters"][n] = {"dir": sub, "trainable": trainable, "total": total, "saved_keys": sorted(saved), "trainable_names": [k for k, _ in params]}
        print(f"{name}/{n}: trainable {trainable} / {total}; loss {out.loss.item():.6f}; saved {sorted(saved)[:4]}...")
    # Greedy generation (unpadded prompts) with the first adapter, for prompt learning and LoRA.
    model.set_adapter(names[0])
    if family != "bert":
        g = torch.Generator().manual_seed(5)
        gids = torch.randint(3, 90, (2, 6), generator=g)
        with torch.no_grad():
            seq = model.generate(input_ids=gids, attention_mask=torch.ones_like(gids), max_new_tokens=5, do_sample=False, pad_token_id=0)
        ref["gen_input_ids"] = gids
        ref["gen_sequences"] = seq
    # Reload check: the saved adapter reproduces the logits through PeftModel.from_pretrained.
    fresh = type(base).from_pretrained(os.path.join(d, "base")).eval()
    re = PeftModel.from_pretrained(fresh, os.path.join(d, "adapter")).eval()
    with torch.no_grad():
        diff = (re(input_ids=ids, attention_mask=mask).logits - ref["logits"]).abs().max().item()
    assert diff < 1e-5, f"{name}: reload diff {diff}"
    meta["reload_max_abs_diff"] = diff
    save_file({k: v.contiguous() for k, v in ref.items()}, os.path.join(d, "reference.safetensors"))
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


# ---------------------------------------------------------------------------------------------
# Bottleneck adapters: a PyTorch re-implementation of tslm's TSLM_BOTTLENECK (Houlsby et al. 2019):
# h + up(act(down(h))) applied to the output of a sublayer, before the residual add. Not peft.


class HoulsbyAdapter(torch.nn.Module):
    def __init__(self, dim, bottleneck, act):
        super().__init__()
        self.down = torch.nn.Linear(dim, bottleneck)
        self.up = torch.nn.Linear(bottleneck, dim)
        self.act = act

    def forward(self, h):
        return h + self.up(self.act(self.down(h)))


def run_bottleneck():
    """GPT-2 with adapters after attention (attn output, before the residual) and after the MLP."""
    name = "gpt2_bottleneck"
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    torch.manual_seed(sum(map(ord, name)))
    base = gpt2().eval()
    base.save_pretrained(os.path.join(d, "base"))
    for p in base.parameters():
        p.requires_grad_(False)
    act = transformers.activations.ACT2FN["gelu_new"]
    adapters = {}
    for i, blk in enumerate(base.transformer.h):
        for where, mod in (("attn", blk.attn), ("mlp", blk.mlp)):
            a = HoulsbyAdapter(32, 6, act)
            with torch.no_grad():
                a.up.weight.normal_(0, 0.2)  # non-zero so the adapter is visible (tslm initialises up to zero)
                a.up.bias.normal_(0, 0.2)
            adapters[f"transformer.h.{i}.{where}"] = a
            # The sublayer returns its output (a tuple for attention); the adapter acts on it before the residual add.
            def hook(m, inp, out, a=a):
                return (a(out[0]),) + tuple(out[1:]) if isinstance(out, tuple) else a(out)
            mod.register_forward_hook(hook)
    ids, mask, labels = batch(7)
    out = base(input_ids=ids, attention_mask=mask, labels=labels)
    out.loss.backward()
    ref = {"input_ids": ids, "attention_mask": mask, "labels": labels, "logits": out.logits.detach(), "loss": out.loss.detach()}
    tensors = {}
    for path, a in adapters.items():
        for k, p in a.named_parameters():
            key = f"base_model.model.{path}.adapter.{k}"
            tensors[key] = p.detach().clone()
            ref[f"grad.{key}"] = p.grad.detach().clone()
    os.makedirs(os.path.join(d, "adapter"))
    save_file(tensors, os.path.join(d, "adapter", "adapter_model.safetensors"))
    cfg = {
        "peft_type": "TSLM_BOTTLENECK", "task_type": "CAUSAL_LM", "base_model_name_or_path": f"fixtures/peft/{name}/base", "revision": None,
        "inference_mode": True, "bottleneck_size": 6, "non_linearity": "gelu_new", "adapter_locations": ["attn", "mlp"],
        "target_modules": None, "init_scale": 0.0,
    }
    with open(os.path.join(d, "adapter", "adapter_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    save_file({k: v.contiguous() for k, v in ref.items()}, os.path.join(d, "reference.safetensors"))
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump({"reference": "tools/golden/peft.py HoulsbyAdapter (a PyTorch re-implementation; peft has no bottleneck adapter)",
                   "trainable": sum(t.numel() for t in tensors.values()), "torch_version": torch.__version__}, f, indent=2)
        f.write("\n")
    print(f"{name}: loss {out.loss.item():.6f}")


# ---------------------------------------------------------------------------------------------
# Round trip: tslm-saved adapters loaded by peft


def roundtrip():
    tmp = tempfile.mkdtemp()
    subprocess.run(["node", "--import", "tsx", "tools/golden/peft_roundtrip.ts", tmp], cwd=ROOT, check=True)
    results = {}
    for case in sorted(os.listdir(tmp)):
        cd = os.path.join(tmp, case)
        info = json.load(open(os.path.join(cd, "info.json")))
        ref = load_file(os.path.join(cd, "tslm_logits.safetensors"))
        base_cls = {"gpt2": GPT2LMHeadModel, "llama": LlamaForCausalLM, "bert": BertForSequenceClassification}[info["family"]]
        base = base_cls.from_pretrained(os.path.join(ROOT, info["base"])).eval()
        try:
            m = PeftModel.from_pretrained(base, os.path.join(cd, "adapter")).eval()
            with torch.no_grad():
                logits = m(input_ids=ref["input_ids"].long(), attention_mask=ref["attention_mask"].long()).logits
            diff = (logits - ref["logits"]).abs().max().item()
            ok = diff <= 1e-4
            results[case] = {"loaded": True, "max_abs_diff": diff, "ok": ok, "peft_type": info["peft_type"]}
        except Exception as e:  # noqa: BLE001 -- recorded in the fixture, the test fails on it
            results[case] = {"loaded": False, "error": str(e)[:500], "ok": False, "peft_type": info["peft_type"]}
        print(f"roundtrip {case}: {results[case]}")
    shutil.rmtree(tmp)
    with open(os.path.join(OUT, "roundtrip.json"), "w") as f:
        json.dump({"peft_version": peft.__version__, "tolerance": 1e-4, "cases": results}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    if "--roundtrip" not in sys.argv:
        for name, (build, family, adapters) in CASES.items():
            run_case(name, build, family, adapters)
        run_bottleneck()
    if "--no-roundtrip" not in sys.argv:
        roundtrip()
