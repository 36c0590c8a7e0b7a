#!/usr/bin/env python3
"""Golden fixtures for fromPretrained / savePretrained, made with transformers.

Two directions, both written to fixtures/io/:

  1. Hugging Face -> tslm. Tiny random models saved by transformers' save_pretrained:
       hf_gpt2_sharded/   GPT-2 (tied head) with a small max_shard_size, so it is sharded
       hf_llama/          LLaMA with grouped-query attention and an untied head, one file
     and the logits transformers computes for them. tslm's fromPretrained must load both and
     reproduce the logits (test/io/pretrained.test.ts).

  2. tslm -> Hugging Face. This script runs test/io/tiny_models.ts (through tsx) to let tslm
     build seeded tiny models and savePretrained them into a temporary directory; transformers
     then loads each with from_pretrained(output_loading_info=True) and computes logits. The
     loading info (missing / unexpected / mismatched keys, all of which must be empty) goes to
     pretrained_check.json, the logits to pretrained_reference.safetensors; the TS test rebuilds
     the same seeded models and compares its logits with what transformers computed.

pretrained_reference.safetensors keys: "<case>.input_ids" (int64 [2, 7]) and "<case>.logits"
(f32 [2, 7, V]) for hf_gpt2_sharded, hf_llama, tslm_gpt2, tslm_llama.

Run from the repository root (needs node_modules, for tsx):
    .venv/bin/python tools/golden/io_pretrained.py
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

# This folder holds tokenizers.py, which would shadow the `tokenizers` package transformers imports.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import AutoModelForCausalLM, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "fixtures", "io")
# Must equal TINY_INPUT_IDS in test/io/tiny_models.ts.
INPUT_IDS = torch.tensor([[1, 5, 9, 33, 63, 0, 17], [2, 40, 41, 42, 3, 8, 13]], dtype=torch.int64)

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def logits_of(model) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return model(input_ids=INPUT_IDS).logits.float().contiguous()


def main() -> None:
    reference = {}
    check = {"generator": "tools/golden/io_pretrained.py", "transformers_version": transformers.__version__, "torch_version": torch.__version__, "cases": {}}

    # 1. transformers-saved directories.
    torch.manual_seed(21)
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=64, n_positions=32, n_embd=16, n_layer=2, n_head=2, bos_token_id=0, eos_token_id=0, attn_implementation="eager")).eval()
    torch.manual_seed(22)
    llama = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=4,
                                         num_key_value_heads=2, max_position_embeddings=32, tie_word_embeddings=False, attn_implementation="eager")).eval()
    for name, model, shard in [("hf_gpt2_sharded", gpt2, "8KB"), ("hf_llama", llama, "5GB")]:
        d = os.path.join(OUT, name)
        if os.path.isdir(d):
            shutil.rmtree(d)
        model.save_pretrained(d, max_shard_size=shard)
        reloaded = AutoModelForCausalLM.from_pretrained(d, attn_implementation="eager")
        lg = logits_of(reloaded)
        assert torch.equal(lg, logits_of(model)), name
        reference[f"{name}.input_ids"] = INPUT_IDS.clone()
        reference[f"{name}.logits"] = lg
        check["cases"][name] = {"files": sorted(os.listdir(d))}
    assert "model.safetensors.index.json" in os.listdir(os.path.join(OUT, "hf_gpt2_sharded"))

    # 2. tslm-saved directories, loaded by transformers.
    with tempfile.TemporaryDirectory() as tmp:
        tsx = os.path.join(ROOT, "node_modules", ".bin", "tsx")
        subprocess.run([tsx, os.path.join(ROOT, "test", "io", "tiny_models.ts"), tmp], check=True, cwd=ROOT)
        for name in sorted(os.listdir(tmp)):
            d = os.path.join(tmp, name)
            model, info = AutoModelForCausalLM.from_pretrained(d, output_loading_info=True, attn_implementation="eager")
            info = {k: sorted(str(x) for x in v) for k, v in info.items()}
            problems = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
            assert not problems, (name, problems)
            reference[f"{name}.input_ids"] = INPUT_IDS.clone()
            reference[f"{name}.logits"] = logits_of(model)
            with open(os.path.join(d, "config.json")) as f:
                written = json.load(f)
            check["cases"][name] = {
                "files": sorted(os.listdir(d)),
                "loading_info": info,
                "architectures": written["architectures"],
                "loaded_class": type(model).__name__,
                "num_parameters": sum(p.numel() for p in model.parameters()),
            }

    save_file(reference, os.path.join(OUT, "pretrained_reference.safetensors"))
    with open(os.path.join(OUT, "pretrained_check.json"), "w") as f:
        json.dump(check, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(check["cases"], indent=1))


if __name__ == "__main__":
    main()
