"""Golden fixtures for tslm's beam search scorer and processor composition: fixtures/generate/beam_search.json.

Run from the repository root:  .venv/bin/python tools/golden/generate_beam.py

A deterministic fake causal LM stands in for a model: its next-token logits depend only on the
last token and the position, logits[t] = TABLE[id_t] + POS[t] (fixed float32 tables stored in the
fixture; the position term keeps permuted paths from reaching exactly equal scores, whose order
torch.topk leaves unspecified). It plugs into transformers' own `generate` (no KV cache), so
greedy decoding and beam search run exactly as for a real model. For each case the fixture keeps the settings, the prompts, HF's output sequences,
and for beam search its sequences_scores and beam_indices. The TypeScript test replays the table
through BeamSearchScorer (and the processor list + greedy argmax) and must get the same ids.
"""
import json
import os
import sys

# This folder holds a tokenizers.py that would shadow the `tokenizers` package transformers imports.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import GenerationMixin, PretrainedConfig, PreTrainedModel  # noqa: E402
from transformers.modeling_outputs import CausalLMOutputWithPast  # noqa: E402

OUT = os.path.join("fixtures", "generate", "beam_search.json")


class FakeConfig(PretrainedConfig):
    model_type = "tslm_fake_lm"

    def __init__(self, vocab_size=16, **kw):
        self.vocab_size = vocab_size
        super().__init__(**kw)


class FakeLM(PreTrainedModel, GenerationMixin):
    config_class = FakeConfig
    main_input_name = "input_ids"

    def __init__(self, config, table, pos):
        super().__init__(config)
        self.table = torch.nn.Parameter(table.clone(), requires_grad=False)
        self.pos = torch.nn.Parameter(pos.clone(), requires_grad=False)
        self.post_init()

    def _init_weights(self, module):
        pass

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        T = input_ids.shape[1]
        return CausalLMOutputWithPast(logits=self.table[input_ids] + self.pos[:T][None])

    def prepare_inputs_for_generation(self, input_ids, **kwargs):
        return {"input_ids": input_ids, "attention_mask": kwargs.get("attention_mask")}


def make_tables(vocab_size, seed, scale=3.0, max_positions=32):
    g = torch.Generator().manual_seed(seed)
    table = (torch.randn(vocab_size, vocab_size, generator=g) * scale).to(torch.float32)
    pos = torch.randn(max_positions, vocab_size, generator=g).to(torch.float32)
    return table, pos


def f32list(t):
    return [float(x) for x in t.reshape(-1).tolist()]


def run(name, table_seed, V, prompts, **gen):
    table, pos = make_tables(V, table_seed)
    model = FakeLM(FakeConfig(vocab_size=V), table, pos).eval()
    ids = torch.tensor(prompts, dtype=torch.long)
    out = model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        use_cache=False,
        return_dict_in_generate=True,
        output_scores=True,
        **gen,
    )
    case = {
        "name": name,
        "vocab_size": V,
        "table": f32list(table),
        "pos": f32list(pos),
        "prompts": prompts,
        "config": gen,
        "sequences": out.sequences.tolist(),
    }
    if gen.get("num_beams", 1) > 1:
        case["sequences_scores"] = [float(x) for x in out.sequences_scores.tolist()]
        case["beam_indices"] = out.beam_indices.tolist()
    return case


def main():
    torch.set_num_threads(1)
    cases = []
    P = [[1, 2, 3], [4, 5, 6]]
    # Beam search: lengths, penalties, early stopping modes, several EOS ids, return counts.
    for es in (False, True, "never"):
        for lp in (1.0, 0.0, 2.0, -1.0):
            cases.append(run(f"beam/k3/es={es}/lp={lp}", 1, 12, P, num_beams=3, max_new_tokens=7, eos_token_id=0,
                             pad_token_id=11, do_sample=False, early_stopping=es, length_penalty=lp,
                             num_return_sequences=2))
    for seed in (2, 3, 4, 5):
        cases.append(run(f"beam/k4/eos2/seed{seed}", seed, 10, [[7, 8], [9, 1]], num_beams=4, max_new_tokens=9,
                         eos_token_id=[0, 1], pad_token_id=9, do_sample=False, num_return_sequences=4))
    cases.append(run("beam/k2/no-eos", 6, 8, [[3]], num_beams=2, max_new_tokens=5, do_sample=False))
    cases.append(run("beam/k5/max_length", 7, 16, [[2, 3, 4, 5]], num_beams=5, max_length=10, eos_token_id=15,
                     pad_token_id=0, do_sample=False, num_return_sequences=3))
    cases.append(run("beam/k3/processors", 8, 12, P, num_beams=3, max_new_tokens=8, eos_token_id=0, pad_token_id=11,
                     do_sample=False, repetition_penalty=1.5, no_repeat_ngram_size=2, min_new_tokens=3))
    # An EOS-heavy table so hypotheses finish early and the early-stop heuristics matter.
    for es in (False, True, "never"):
        cases.append(run(f"beam/k2/eos-likely/es={es}", 11, 6, [[1, 2]], num_beams=2, max_new_tokens=10,
                         eos_token_id=5, pad_token_id=0, do_sample=False, early_stopping=es, length_penalty=1.5))
    for lp, k in ((0.5, 3), (-0.5, 3), (3.0, 2)):
        for es in (False, True, "never"):
            cases.append(run(f"beam/k{k}/eos-likely/es={es}/lp={lp}", 12, 6, [[1, 2], [3, 4]], num_beams=k,
                             max_new_tokens=8, eos_token_id=5, pad_token_id=0, do_sample=False, early_stopping=es,
                             length_penalty=lp, num_return_sequences=k))
    # Greedy decoding through HF's processor list (composition order and each processor in a loop).
    cases.append(run("greedy/plain", 1, 12, P, max_new_tokens=8, eos_token_id=0, pad_token_id=11, do_sample=False))
    cases.append(run("greedy/processors", 1, 12, P, max_new_tokens=10, eos_token_id=0, pad_token_id=11,
                     do_sample=False, repetition_penalty=1.3, no_repeat_ngram_size=2, min_new_tokens=4))
    cases.append(run("greedy/forced", 9, 12, [[5]], max_length=7, eos_token_id=[0, 2], pad_token_id=11,
                     do_sample=False, forced_bos_token_id=3, forced_eos_token_id=2, min_length=4,
                     suppress_tokens=[4, 6], sequence_bias=[[[7], -2.0], [[3, 8], 5.0]]))
    cases.append(run("greedy/bad-words-decay", 13, 12, [[1, 2]], max_new_tokens=9, eos_token_id=0, pad_token_id=11,
                     do_sample=False, bad_words_ids=[[8], [4, 7], [0]], exponential_decay_length_penalty=(3, 1.8)))
    cases.append(run("beam/k3/bad-words-decay", 13, 12, [[1, 2], [5, 6]], num_beams=3, max_new_tokens=8, eos_token_id=0,
                     pad_token_id=11, do_sample=False, bad_words_ids=[[8], [4, 7]], exponential_decay_length_penalty=(2, 1.5),
                     num_return_sequences=3))
    cases.append(run("greedy/renorm-begin", 10, 12, [[1, 2]], max_new_tokens=6, eos_token_id=0, pad_token_id=11,
                     do_sample=False, begin_suppress_tokens=[5, 9], renormalize_logits=True))
    data = {"transformers_version": transformers.__version__, "torch_version": torch.__version__, "cases": cases}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(data, f)
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
