"""Golden fixtures for tslm's decoding loop on the tiny models: fixtures/generate/models_generate.json.

Run from the repository root:  .venv/bin/python tools/golden/generate_models.py

Builds three tiny random checkpoints of its own (so these fixtures do not move when the model
fixtures are regenerated), saves them as Hugging Face directories under fixtures/generate/
(tiny_gpt2/, tiny_llama/, tiny_t5/: config.json, generation_config.json, model.safetensors), and runs
transformers' `generate` on them (initializer_range 0.3, so outputs vary and top-1 margins are
wide): greedy, greedy with processors, beam search (several beams, return counts, length
penalties), each for one prompt and for a left-padded batch of prompts of different lengths, and
runs where frequent tokens are declared EOS so rows finish early and get padded. The fixture stores the settings, prompts,
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
from transformers import (  # noqa: E402
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    T5Config,
    T5ForConditionalGeneration,
)

OUT = os.path.join("fixtures", "generate", "models_generate.json")
# directory -> (builder, pad id used for left padding)
MODELS = {
    "tiny_gpt2": (lambda: GPT2LMHeadModel(GPT2Config(vocab_size=99, n_positions=64, n_embd=32, n_layer=2, n_head=4,
                                                    bos_token_id=98, eos_token_id=98, initializer_range=0.3)), 98),
    "tiny_llama": (lambda: LlamaForCausalLM(LlamaConfig(vocab_size=99, hidden_size=32, intermediate_size=64,
                                                        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                                        max_position_embeddings=64, bos_token_id=1, eos_token_id=2,
                                                        pad_token_id=0, initializer_range=0.3)), 0),
    # Encoder-decoder: the prompts are encoder inputs; decoding starts from decoder_start_token_id 0.
    "tiny_t5": (lambda: T5ForConditionalGeneration(T5Config(vocab_size=99, d_model=32, d_kv=8, d_ff=64, num_layers=2,
                                                            num_decoder_layers=2, num_heads=4,
                                                            relative_attention_num_buckets=8,
                                                            decoder_start_token_id=0, pad_token_id=0,
                                                            eos_token_id=1, initializer_factor=3.0)), 0),
}


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
    cases = []
    for model_dir, (build, pad) in MODELS.items():
        torch.manual_seed(0)
        model = build().eval()
        model.save_pretrained(os.path.join("fixtures", "generate", model_dir))
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
        early = {"tiny_gpt2": [79, 49], "tiny_llama": [72, 85], "tiny_t5": [80, 72]}[model_dir]
        cases.append(run(model, f"{model_dir}/greedy-eos/batch", model_dir, batch, pad,
                         {"max_new_tokens": 12, "do_sample": False, "eos_token_id": early}))
        cases.append(run(model, f"{model_dir}/beam3-eos/batch", model_dir, batch, pad,
                         {"max_new_tokens": 10, "do_sample": False, "eos_token_id": early, "num_beams": 3,
                          "num_return_sequences": 3, "length_penalty": 1.2}))
    for c in cases:
        flag = "  FRAGILE" if c["min_margin"] < 1e-5 else ""
        print(f"{c['name']}: min top-1/top-2 margin {c['min_margin']:.2e}{flag}")
    data = {"transformers_version": transformers.__version__, "torch_version": torch.__version__, "cases": cases}
    with open(OUT, "w") as f:
        json.dump(data, f)
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
