"""Golden fixtures for tslm's decoding loop on the tiny models: fixtures/generate/models_generate.json.

Run from the repository root:  .venv/bin/python tools/golden/generate_models.py

Loads the tiny random GPT-2 and LLaMA checkpoints committed under fixtures/models/ (made by
tools/golden/models.py) with transformers and runs `generate`: greedy, greedy with processors,
beam search (several beams, return counts, length penalties), each for one prompt and for a
left-padded batch of prompts of different lengths. The fixture stores the settings, prompts,
attention masks and HF's output ids (and beam scores). Every step's top-1 / top-2 logit margin is
recorded as `min_margin`: random tiny models give small margins, and a margin near float32
rounding noise (< 1e-5) would make a case fragile, so the script reports it.
"""
import json
import os
import sys

# This folder holds a tokenizers.py that would shadow the `tokenizers` package transformers imports.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

OUT = os.path.join("fixtures", "generate", "models_generate.json")
MODELS = {"gpt2_tiny": 98, "llama_gqa": 0}  # directory -> pad id used for left padding


def left_pad(prompts, pad):
    T = max(len(p) for p in prompts)
    ids = [[pad] * (T - len(p)) + p for p in prompts]
    mask = [[0] * (T - len(p)) + [1] * len(p) for p in prompts]
    return ids, mask


def run(model, name, model_dir, prompts, pad, gen):
    ids, mask = left_pad(prompts, pad)
    out = model.generate(
        torch.tensor(ids), attention_mask=torch.tensor(mask), pad_token_id=pad, return_dict_in_generate=True,
        output_logits=True, output_scores=True, **gen)
    margins = []
    for step in out.logits:  # [B*K, V] raw logits per step
        top2 = torch.topk(step.float(), 2, dim=-1).values
        margins.append(float((top2[:, 0] - top2[:, 1]).min()))
    case = {"name": name, "model": model_dir, "prompts": prompts, "input_ids": ids, "attention_mask": mask,
            "config": {**gen, "pad_token_id": pad}, "sequences": out.sequences.tolist(), "min_margin": min(margins)}
    if gen.get("num_beams", 1) > 1:
        case["sequences_scores"] = [float(x) for x in out.sequences_scores.tolist()]
    return case


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    cases = []
    for model_dir, pad in MODELS.items():
        model = AutoModelForCausalLM.from_pretrained(os.path.join("fixtures", "models", model_dir)).eval()
        eos = model.config.eos_token_id
        one = [[5, 17, 42, 7, 63]]
        batch = [[5, 17, 42, 7, 63], [11, 3], [88, 21, 40]]
        for label, prompts in (("one", one), ("batch", batch)):
            cases.append(run(model, f"{model_dir}/greedy/{label}", model_dir, prompts, pad,
                             {"max_new_tokens": 12, "do_sample": False, "eos_token_id": eos}))
            cases.append(run(model, f"{model_dir}/greedy-processors/{label}", model_dir, prompts, pad,
                             {"max_new_tokens": 12, "do_sample": False, "eos_token_id": eos, "repetition_penalty": 1.3,
                              "no_repeat_ngram_size": 2, "min_new_tokens": 3}))
            cases.append(run(model, f"{model_dir}/beam3/{label}", model_dir, prompts, pad,
                             {"max_new_tokens": 8, "do_sample": False, "eos_token_id": eos, "num_beams": 3,
                              "num_return_sequences": 2}))
            cases.append(run(model, f"{model_dir}/beam4-lp/{label}", model_dir, prompts, pad,
                             {"max_new_tokens": 6, "do_sample": False, "eos_token_id": eos, "num_beams": 4,
                              "length_penalty": 0.5, "early_stopping": True, "num_return_sequences": 4}))
    for c in cases:
        flag = "  FRAGILE" if c["min_margin"] < 1e-5 else ""
        print(f"{c['name']}: min top-1/top-2 margin {c['min_margin']:.2e}{flag}")
    data = {"transformers_version": transformers.__version__, "torch_version": torch.__version__, "cases": cases}
    with open(OUT, "w") as f:
        json.dump(data, f)
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
