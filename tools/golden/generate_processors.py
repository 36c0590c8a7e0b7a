"""Golden fixtures for tslm's logits processors and warpers: fixtures/generate/processors.json.

Run from the repository root:  .venv/bin/python tools/golden/generate_processors.py

Each case applies one Hugging Face processor (transformers.generation.logits_process) to fixed
float32 scores [B, V] and input ids [B, T], and stores the settings, the inputs and the output.
The TypeScript test builds the tslm processor with the same settings and compares: -inf positions
exactly, other values within 1e-6. Edge cases: ties at the top-k threshold, -inf scores, top_p
keeping min_tokens_to_keep, repetition penalty on negative scores, n-gram bans, forced tokens.
Frequency/presence penalties and logit_bias (OpenAI semantics, no HF class) are computed here in
float32 from their definition: logit -= f * count + p * (count > 0) over generated tokens.
"""
import json
import os
import sys

# This folder holds a tokenizers.py that would shadow the `tokenizers` package transformers imports.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers.generation import logits_process as lp  # noqa: E402

OUT = os.path.join("fixtures", "generate", "processors.json")
V = 12


def enc(x):
    x = float(x)
    if x == float("inf"):
        return "inf"
    if x == float("-inf"):
        return "-inf"
    if x != x:
        return "nan"
    return x


def scores_random(seed, B=2, n=V, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, n, generator=g) * scale).to(torch.float32)


cases = []


def case(name, processor, args, proc, ids, scores):
    ids_t = torch.tensor(ids, dtype=torch.long)
    out = proc(ids_t, scores.clone())
    cases.append({
        "name": name,
        "processor": processor,
        "args": args,
        "input_ids": ids,
        "scores": [enc(v) for v in scores.reshape(-1).tolist()],
        "vocab_size": scores.shape[1],
        "expected": [enc(v) for v in out.reshape(-1).tolist()],
    })


def main():
    torch.set_num_threads(1)
    ids = [[1, 2, 3, 2], [4, 4, 5, 11]]
    s = scores_random(0)
    s_inf = s.clone()
    s_inf[0, [0, 3, 7]] = float("-inf")
    s_inf[1, [2, 5, 6, 8, 9, 10]] = float("-inf")
    # Ties: several equal scores around the thresholds.
    s_tie = torch.tensor([[1.0, 3.0, 2.0, 2.0, 2.0, 0.5, -1.0, 2.0, 3.0, 0.0, -2.0, 1.0],
                          [0.0] * 12], dtype=torch.float32)
    s_neg = -scores_random(3).abs() - 0.1  # all negative
    s_peak = scores_random(4, scale=0.5)
    s_peak[0, 6] = 8.0
    s_peak[1, 1] = 5.0

    for t in (0.5, 0.7, 1.3, 2.0):
        case(f"temperature/{t}", "temperature", {"temperature": t}, lp.TemperatureLogitsWarper(t), ids, s)
    case("temperature/0.3/-inf", "temperature", {"temperature": 0.3}, lp.TemperatureLogitsWarper(0.3), ids, s_inf)

    for k in (1, 3, 5, 12, 20):
        case(f"top_k/{k}", "top_k", {"top_k": k}, lp.TopKLogitsWarper(k), ids, s)
    for k in (2, 3, 4, 6):
        case(f"top_k/{k}/ties", "top_k", {"top_k": k}, lp.TopKLogitsWarper(k), ids, s_tie)
    case("top_k/5/-inf", "top_k", {"top_k": 5}, lp.TopKLogitsWarper(5), ids, s_inf)
    case("top_k/2/keep4", "top_k", {"top_k": 2, "min_tokens_to_keep": 4}, lp.TopKLogitsWarper(2, min_tokens_to_keep=4), ids, s)

    for p in (0.9, 0.5, 0.1, 0.3, 1.0, 0.0):
        case(f"top_p/{p}", "top_p", {"top_p": p}, lp.TopPLogitsWarper(p), ids, s)
    for p in (0.5, 0.8):
        case(f"top_p/{p}/peaked", "top_p", {"top_p": p}, lp.TopPLogitsWarper(p), ids, s_peak)
    case("top_p/0.1/keep3", "top_p", {"top_p": 0.1, "min_tokens_to_keep": 3}, lp.TopPLogitsWarper(0.1, min_tokens_to_keep=3), ids, s)
    case("top_p/0.5/peaked/keep2", "top_p", {"top_p": 0.5, "min_tokens_to_keep": 2}, lp.TopPLogitsWarper(0.5, min_tokens_to_keep=2), ids, s_peak)
    case("top_p/0.7/-inf", "top_p", {"top_p": 0.7}, lp.TopPLogitsWarper(0.7), ids, s_inf)
    for p in (0.5, 0.6, 0.25):
        case(f"top_p/{p}/ties", "top_p", {"top_p": p}, lp.TopPLogitsWarper(p), ids, s_tie)

    for m in (0.05, 0.1, 0.5, 0.9, 0.0, 1.0):
        case(f"min_p/{m}", "min_p", {"min_p": m}, lp.MinPLogitsWarper(m), ids, s)
    case("min_p/0.9/keep3", "min_p", {"min_p": 0.9, "min_tokens_to_keep": 3}, lp.MinPLogitsWarper(0.9, min_tokens_to_keep=3), ids, s)
    case("min_p/0.2/-inf", "min_p", {"min_p": 0.2}, lp.MinPLogitsWarper(0.2), ids, s_inf)
    case("min_p/0.3/peaked", "min_p", {"min_p": 0.3}, lp.MinPLogitsWarper(0.3), ids, s_peak)

    for m in (0.2, 0.5, 0.9, 0.99):
        case(f"typical_p/{m}", "typical_p", {"mass": m}, lp.TypicalLogitsWarper(m), ids, s)
    case("typical_p/0.3/keep3", "typical_p", {"mass": 0.3, "min_tokens_to_keep": 3}, lp.TypicalLogitsWarper(0.3, min_tokens_to_keep=3), ids, s)
    case("typical_p/0.7/-inf", "typical_p", {"mass": 0.7}, lp.TypicalLogitsWarper(0.7), ids, s_inf)
    case("typical_p/0.5/peaked", "typical_p", {"mass": 0.5}, lp.TypicalLogitsWarper(0.5), ids, s_peak)
    for e in (0.01, 0.05, 0.2):
        case(f"epsilon/{e}", "epsilon_cutoff", {"epsilon": e}, lp.EpsilonLogitsWarper(e), ids, s)
        case(f"eta/{e}", "eta_cutoff", {"epsilon": e}, lp.EtaLogitsWarper(e), ids, s)
    case("epsilon/0.5/keep2", "epsilon_cutoff", {"epsilon": 0.5, "min_tokens_to_keep": 2}, lp.EpsilonLogitsWarper(0.5, min_tokens_to_keep=2), ids, s)
    case("eta/0.3/keep3/-inf", "eta_cutoff", {"epsilon": 0.3, "min_tokens_to_keep": 3}, lp.EtaLogitsWarper(0.3, min_tokens_to_keep=3), ids, s_inf)
    case("eta/0.1/peaked", "eta_cutoff", {"epsilon": 0.1}, lp.EtaLogitsWarper(0.1), ids, s_peak)

    bw = [[5], [2, 7], [3, 2, 9], [11, 1], [0], [5]]
    case("bad_words", "bad_words_ids", {"bad_words_ids": bw, "eos_token_id": 0}, lp.NoBadWordsLogitsProcessor(bw, 0), ids, s)
    case("bad_words/no-eos", "bad_words_ids", {"bad_words_ids": bw, "eos_token_id": None}, lp.NoBadWordsLogitsProcessor(bw), ids, s)
    for T_extra, fac in ((0, 1.5), (2, 1.5), (1, 0.8)):
        case(f"exp_decay/start{T_extra}/{fac}", "exponential_decay_length_penalty",
             {"start": T_extra, "factor": fac, "eos_token_id": [2, 9], "prompt_length": 1},
             lp.ExponentialDecayLengthPenalty((T_extra, fac), [2, 9], 1), ids, s_neg if fac < 1 else s)

    for pen in (1.2, 0.8, 2.0):
        case(f"repetition_penalty/{pen}", "repetition_penalty", {"penalty": pen}, lp.RepetitionPenaltyLogitsProcessor(pen), ids, s)
        case(f"repetition_penalty/{pen}/negative", "repetition_penalty", {"penalty": pen}, lp.RepetitionPenaltyLogitsProcessor(pen), ids, s_neg)
    case("repetition_penalty/1.5/-inf", "repetition_penalty", {"penalty": 1.5}, lp.RepetitionPenaltyLogitsProcessor(1.5), ids, s_inf)
    case("repetition_penalty/1.5/ignore2", "repetition_penalty", {"penalty": 1.5, "prompt_ignore_length": 2},
         lp.RepetitionPenaltyLogitsProcessor(1.5, prompt_ignore_length=2), ids, s)
    # Ids beyond the scores' vocabulary (embedding larger than lm_head) are skipped.
    case("repetition_penalty/1.3/oov", "repetition_penalty", {"penalty": 1.3}, lp.RepetitionPenaltyLogitsProcessor(1.3),
         [[1, 14, 3, 20], [4, 12, 5, 11]], s)

    ng_ids = [[1, 2, 3, 1, 2, 4, 1, 2], [5, 5, 5, 6, 5, 5, 7, 5]]
    for n in (1, 2, 3, 4):
        case(f"no_repeat_ngram/{n}", "no_repeat_ngram", {"ngram_size": n}, lp.NoRepeatNGramLogitsProcessor(n), ng_ids, s)
    case("no_repeat_ngram/5/short", "no_repeat_ngram", {"ngram_size": 5}, lp.NoRepeatNGramLogitsProcessor(5), ids, s)
    case("no_repeat_ngram/2/oov", "no_repeat_ngram", {"ngram_size": 2}, lp.NoRepeatNGramLogitsProcessor(2),
         [[3, 15, 3, 15, 3], [1, 2, 1, 2, 1]], s)

    case("min_length/5/T4", "min_length", {"min_length": 5, "eos_token_id": 2}, lp.MinLengthLogitsProcessor(5, 2), ids, s)
    case("min_length/4/T4", "min_length", {"min_length": 4, "eos_token_id": 2}, lp.MinLengthLogitsProcessor(4, 2), ids, s)
    case("min_length/6/eos-list", "min_length", {"min_length": 6, "eos_token_id": [0, 9]}, lp.MinLengthLogitsProcessor(6, [0, 9]), ids, s)
    case("min_new_tokens/p2/m3", "min_new_tokens", {"prompt_length": 2, "min_new_tokens": 3, "eos_token_id": [1, 7]},
         lp.MinNewTokensLengthLogitsProcessor(2, 3, [1, 7]), ids, s)
    case("min_new_tokens/p2/m2", "min_new_tokens", {"prompt_length": 2, "min_new_tokens": 2, "eos_token_id": 7},
         lp.MinNewTokensLengthLogitsProcessor(2, 2, 7), ids, s)

    case("forced_bos/T1", "forced_bos", {"bos_token_id": 5}, lp.ForcedBOSTokenLogitsProcessor(5), [[3], [4]], s)
    case("forced_bos/T4", "forced_bos", {"bos_token_id": 5}, lp.ForcedBOSTokenLogitsProcessor(5), ids, s)
    case("forced_eos/T4", "forced_eos", {"max_length": 5, "eos_token_id": 2}, lp.ForcedEOSTokenLogitsProcessor(5, 2), ids, s)
    case("forced_eos/T4/list", "forced_eos", {"max_length": 5, "eos_token_id": [2, 8]}, lp.ForcedEOSTokenLogitsProcessor(5, [2, 8]), ids, s)
    case("forced_eos/T4/other", "forced_eos", {"max_length": 7, "eos_token_id": 2}, lp.ForcedEOSTokenLogitsProcessor(7, 2), ids, s)

    case("suppress_tokens", "suppress_tokens", {"suppress_tokens": [0, 4, 11]}, lp.SuppressTokensLogitsProcessor([0, 4, 11]), ids, s)
    case("begin_suppress/at", "begin_suppress_tokens", {"begin_suppress_tokens": [3, 6], "begin_index": 4},
         lp.SuppressTokensAtBeginLogitsProcessor([3, 6], 4), ids, s)
    case("begin_suppress/not", "begin_suppress_tokens", {"begin_suppress_tokens": [3, 6], "begin_index": 3},
         lp.SuppressTokensAtBeginLogitsProcessor([3, 6], 3), ids, s)

    sb = [[[5], 2.5], [[3, 2, 7], -3.0], [[2, 9], 1.25], [[11, 0], 4.0], [[1], -1.5]]
    case("sequence_bias", "sequence_bias", {"sequence_bias": sb}, lp.SequenceBiasLogitsProcessor(sb), ids, s)
    # logit_bias == one-token sequence biases.
    lb = {"3": -100.0, "7": 5.5, "0": 0.25}
    case("logit_bias", "logit_bias", {"logit_bias": lb},
         lp.SequenceBiasLogitsProcessor([[[int(k)], v] for k, v in lb.items()]), ids, s)

    case("logit_normalization", "renormalize_logits", {}, lp.LogitNormalization(), ids, s)
    case("logit_normalization/-inf", "renormalize_logits", {}, lp.LogitNormalization(), ids, s_inf)

    # OpenAI frequency / presence penalties (no HF class): float32 from the definition.
    for fp, pp, plen in ((0.5, 0.0, 0), (0.0, 0.7, 0), (1.2, -0.4, 1), (-0.8, 1.5, 2)):
        def fpp(input_ids, scores, fp=fp, pp=pp, plen=plen):
            out = scores.clone()
            for b in range(input_ids.shape[0]):
                counts = torch.bincount(input_ids[b, plen:], minlength=scores.shape[1]).to(torch.float32)
                out[b] = (scores[b].double() - (counts.double() * fp + (counts > 0).double() * pp)).to(torch.float32)
            return out
        case(f"frequency_presence/{fp}/{pp}/p{plen}", "frequency_presence",
             {"frequency_penalty": fp, "presence_penalty": pp, "prompt_length": plen}, fpp, ids, s)

    # Whole lists as transformers' generate builds them (_get_logits_processor), sampling mode
    # included: composition order and the min_tokens_to_keep that beams impose on the warpers.
    from transformers import GenerationConfig, GPT2Config, GPT2LMHeadModel
    lm = GPT2LMHeadModel(GPT2Config(vocab_size=V, n_positions=16, n_embd=8, n_layer=1, n_head=2)).eval()
    lists = [
        {"do_sample": True, "temperature": 0.7, "top_k": 6, "top_p": 0.8, "min_p": 0.05, "repetition_penalty": 1.2,
         "eos_token_id": 2},
        {"do_sample": True, "top_k": 0, "top_p": 0.3, "num_beams": 3, "eos_token_id": [2, 5]},
        {"do_sample": True, "temperature": 1.5, "top_k": 3, "typical_p": 0.7, "no_repeat_ngram_size": 2,
         "min_new_tokens": 5, "eos_token_id": 2},
        {"do_sample": True, "top_k": 0, "epsilon_cutoff": 0.05, "eta_cutoff": 0.01, "bad_words_ids": [[7], [2, 3]],
         "eos_token_id": 2, "renormalize_logits": True},
        {"do_sample": False, "temperature": 0.5, "top_k": 2, "repetition_penalty": 0.8, "sequence_bias": [[[4], 3.0]],
         "forced_eos_token_id": 9, "max_length": 5, "eos_token_id": 9, "suppress_tokens": [0, 1]},
    ]
    for i, fields in enumerate(lists):
        gc = GenerationConfig(**fields)
        lm._prepare_special_tokens(gc, kwargs_has_attention_mask=True, device="cpu")
        procs = lm._get_logits_processor(generation_config=gc, input_ids_seq_length=2, device="cpu")
        for label, sc in (("random", s), ("peaked", s_peak)):
            case(f"list/{i}/{label}", "list", {"config": fields, "prompt_length": 2}, procs, ids, sc)

    data = {"transformers_version": transformers.__version__, "torch_version": torch.__version__, "cases": cases}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(data, f)
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
