"""Golden fixtures for the encoder-only and encoder-decoder families (bert, t5, transformer) and
for the CLI commands `tslm fill-mask` and `tslm eval`.

Writes fixtures/models_encdec/ (not fixtures/models/: test/models/golden.test.ts treats every
directory there as a decoder-only case):

  bert_mlm/              BertForMaskedLM, WordPiece tokenizer (tokenizer.json), token_type_ids,
                         a right-padded batch, MLM labels (-100 except masked positions)
  bert_cls/              BertForSequenceClassification, 3 labels, single_label_classification
  t5_v1_0/               T5ForConditionalGeneration, feed_forward_proj "relu", tied lm_head (decoder
                         output scaled by d_model^-0.5), 2 encoder / 3 decoder layers
  t5_v1_1/               feed_forward_proj "gated-gelu", UNTIED lm_head, no output scaling
  transformer_base/      the original Transformer ("transformer" model_type, tslm's own), checked
                         against an independent model built on torch.nn.TransformerEncoderLayer /
                         TransformerDecoderLayer (norm_first=False), label smoothing 0.1
  gpt2_eval/             a tiny GPT-2 with a byte-level BPE tokenizer, and eval.json: HF's
                         sliding-window perplexity of eval_text.txt for two (seq_len, stride) pairs
  fill_mask.json         HF pipeline("fill-mask") output on bert_mlm for three inputs, top_k 5

Each model directory has config.json + model.safetensors (the checkpoint) and reference.safetensors:
inputs, logits, loss, grad.<name> for EVERY parameter (tied ones once, under the first name), and
sgd_losses / sgd_lr: the loss before each of 6 plain SGD steps on the same batch.

  .venv/bin/python tools/golden/models_encdec.py             # make the fixtures
  .venv/bin/python tools/golden/models_encdec.py roundtrip   # check tslm-written dirs (see below)

`roundtrip` runs tools/golden/models_encdec_save.ts (node + tsx), which loads every HF fixture with
tslm's fromPretrained and writes it back with savePretrained to a temp dir; transformers then loads
each written dir and its logits must equal the reference logits. The outcome goes to
fixtures/models_encdec/roundtrip.json, which test/models/transformer_family_roundtrip.test.ts asserts.

Deterministic: seeded torch, one thread, eval mode (dropout off), eager attention.
"""
import copy
import json
import math
import os
import subprocess
import sys
import tempfile

# This folder holds tokenizers.py, which would shadow the `tokenizers` package transformers imports.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from transformers import (  # noqa: E402
    BertConfig,
    BertForMaskedLM,
    BertForSequenceClassification,
    BertTokenizerFast,
    GPT2Config,
    GPT2LMHeadModel,
    PreTrainedTokenizerFast,
    T5Config,
    T5ForConditionalGeneration,
    pipeline,
)

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "fixtures", "models_encdec")

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def grads(model, ref):
    for pname, p in model.named_parameters():
        ref["grad." + pname] = (p.grad if p.grad is not None else torch.zeros_like(p)).detach().contiguous()


TRAJ_STEPS = 6
TRAJ_LR = 0.2


def sgd_trajectory(model, loss_fn, ref):
    """llm.c's test_gpt2 idea: the loss before each of TRAJ_STEPS plain SGD steps (p -= lr * grad)
    on the same batch, eval mode (no dropout), from a copy of the model's starting weights."""
    m = copy.deepcopy(model)
    m.zero_grad(set_to_none=True)
    losses = []
    for _ in range(TRAJ_STEPS):
        loss = loss_fn(m)
        losses.append(loss.item())
        m.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            for p in m.parameters():
                if p.grad is not None:
                    p -= TRAJ_LR * p.grad
    ref["sgd_losses"] = torch.tensor(losses, dtype=torch.float32)
    ref["sgd_lr"] = torch.tensor([TRAJ_LR], dtype=torch.float32)


def write_ref(d, ref):
    save_file({k: v.contiguous() for k, v in ref.items()}, os.path.join(d, "reference.safetensors"), metadata={"generator": "tools/golden/models_encdec.py"})
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print(f"{os.path.basename(d)}: {size / 1024:.0f} KiB")


# ---------------------------------------------------------------------------------------------
# BERT

WORDS = (
    "the a an of to in on is was and or but not it this that he she they we you i my his her "
    "cat dog mat sat ran big small red blue house tree car road city paris france capital river "
    "water fire king queen man woman day night good bad new old first last . , ! ? ' - "
    "##s ##ed ##ing ##ly ##er ##est ##es"
).split()
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
LETTERS = list("abcdefghijklmnopqrstuvwxyz") + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"]


def bert_tokenizer(d):
    """A BERT uncased WordPiece tokenizer over a small hand-written vocabulary, saved to d."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = SPECIALS + WORDS + [w for w in LETTERS if w not in WORDS]
    os.makedirs(d, exist_ok=True)
    tk = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]", max_input_chars_per_word=100))
    tk.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    tk.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tk.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    tk.decoder = decoders.WordPiece(prefix="##")
    tok = BertTokenizerFast(tokenizer_object=tk, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]", do_lower_case=True)
    tok.save_pretrained(d)
    assert len(tok) == len(vocab), (len(tok), len(vocab))
    return tok


def bert_config(V, **kw):
    base = dict(
        vocab_size=V,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        hidden_act="gelu",
        max_position_embeddings=64,
        type_vocab_size=2,
        layer_norm_eps=1e-12,
        pad_token_id=0,
        initializer_range=0.2,  # large enough that fill-mask scores are well separated
    )
    base.update(kw)
    return BertConfig(**base)


def bert_batch(tok, seed):
    texts = [("the cat sat on the mat", "a dog ran in the city"), ("paris is the capital of france", None)]
    enc = tok([t[0] for t in texts], [t[1] or "" for t in texts], padding=True, return_tensors="pt")
    # Row 1 has no second segment: re-encode it alone so it is genuinely shorter (right padding).
    single = tok(texts[1][0], return_tensors="pt")
    ids, tt, am = enc["input_ids"].clone(), enc["token_type_ids"].clone(), enc["attention_mask"].clone()
    n = single["input_ids"].shape[1]
    ids[1] = 0
    tt[1] = 0
    am[1] = 0
    ids[1, :n] = single["input_ids"][0]
    am[1, :n] = 1
    return ids, tt, am


def make_bert():
    d = os.path.join(OUT, "bert_mlm")
    tok = bert_tokenizer(d)
    V = len(tok)
    ids, tt, am = bert_batch(tok, 0)
    # MLM: mask three real positions per row; labels hold the original ids there, -100 elsewhere.
    g = torch.Generator().manual_seed(7)
    labels = torch.full_like(ids, -100)
    inp = ids.clone()
    for b in range(ids.shape[0]):
        real = [t for t in range(1, int(am[b].sum()) - 1)]
        pick = [real[i] for i in torch.randperm(len(real), generator=g)[:3].tolist()]
        for t in pick:
            labels[b, t] = ids[b, t]
            inp[b, t] = tok.mask_token_id
    torch.manual_seed(2000)
    model = BertForMaskedLM(bert_config(V))
    model.config._attn_implementation = "eager"
    model.eval()
    out = model(input_ids=inp, token_type_ids=tt, attention_mask=am, labels=labels)
    out.loss.backward()
    ref = {"input_ids": inp, "token_type_ids": tt, "attention_mask": am, "labels": labels, "logits": out.logits.detach(), "loss": out.loss.detach().reshape([])}
    grads(model, ref)
    sgd_trajectory(model, lambda m: m(input_ids=inp, token_type_ids=tt, attention_mask=am, labels=labels).loss, ref)
    model.save_pretrained(d)
    write_ref(d, ref)

    # fill-mask pipeline on the saved directory (what `tslm fill-mask` must reproduce).
    fm = pipeline("fill-mask", model=d, tokenizer=d, device="cpu")
    cases = []
    for text in ["the cat sat on the [MASK] .", "paris is the [MASK] of france", "[MASK] dog ran in the big city"]:
        res = fm(text, top_k=5)
        cases.append({"text": text, "top_k": 5, "results": [{k: (float(r[k]) if k == "score" else r[k]) for k in ("score", "token", "token_str", "sequence")} for r in res]})
    with open(os.path.join(OUT, "fill_mask.json"), "w") as f:
        json.dump({"generator": "tools/golden/models_encdec.py", "model": "fixtures/models_encdec/bert_mlm", "cases": cases}, f, indent=1)
        f.write("\n")

    # Sequence classification, 3 labels with names; same batch without masking.
    d = os.path.join(OUT, "bert_cls")
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(2001)
    cfg = bert_config(V, num_labels=3, id2label={0: "neg", 1: "neutral", 2: "pos"}, label2id={"neg": 0, "neutral": 1, "pos": 2}, initializer_range=0.02, classifier_dropout=0.2)
    model = BertForSequenceClassification(cfg)
    model.config._attn_implementation = "eager"
    model.eval()
    y = torch.tensor([2, 0])
    out = model(input_ids=ids, token_type_ids=tt, attention_mask=am, labels=y)
    out.loss.backward()
    ref = {"input_ids": ids, "token_type_ids": tt, "attention_mask": am, "labels": y, "logits": out.logits.detach(), "loss": out.loss.detach().reshape([])}
    grads(model, ref)
    sgd_trajectory(model, lambda m: m(input_ids=ids, token_type_ids=tt, attention_mask=am, labels=y).loss, ref)
    model.save_pretrained(d)
    write_ref(d, ref)


# ---------------------------------------------------------------------------------------------
# T5


def t5_config(**kw):
    base = dict(
        vocab_size=64,
        d_model=32,
        d_kv=8,
        d_ff=48,
        num_layers=2,
        num_decoder_layers=3,
        num_heads=4,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=12,
        dropout_rate=0.1,
        layer_norm_epsilon=1e-6,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    base.update(kw)
    return T5Config(**base)


def make_t5(name, seed, **kw):
    untied = kw.pop("untied", False)
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(t5_config(**kw))
    if untied:
        # transformers 5 forces T5's tie_word_embeddings to True (scale_decoder_outputs records the
        # v1.0/v1.1 difference); an untied lm_head, as T5 v1.1 checkpoints have, is set up by hand.
        model.lm_head.weight = nn.Parameter(torch.randn(model.config.vocab_size, model.config.d_model))
        model.config.scale_decoder_outputs = False
    model.config._attn_implementation = "eager"
    model.eval()
    g = torch.Generator().manual_seed(seed + 1)
    B, S, T = 2, 14, 9  # S > max_distance exercises the clamp of the logarithmic buckets
    ids = torch.randint(2, 64, (B, S), generator=g)
    am = torch.ones(B, S, dtype=torch.long)
    ids[1, S - 4 :] = 0
    am[1, S - 4 :] = 0
    labels = torch.randint(2, 64, (B, T), generator=g)
    labels[1, T - 3 :] = -100
    out = model(input_ids=ids, attention_mask=am, labels=labels)
    out.loss.backward()
    ref = {"input_ids": ids, "attention_mask": am, "labels": labels, "decoder_input_ids": model._shift_right(labels), "logits": out.logits.detach(), "loss": out.loss.detach().reshape([])}
    grads(model, ref)
    sgd_trajectory(model, lambda m: m(input_ids=ids, attention_mask=am, labels=labels).loss, ref)
    # A decoder padding mask (row 1's last 3 decoder positions are padding) on top of causality.
    dmask = torch.ones(B, T, dtype=torch.long)
    dmask[1, T - 3 :] = 0
    with torch.no_grad():
        ref["dec_masked_logits"] = model(input_ids=ids, attention_mask=am, decoder_input_ids=ref["decoder_input_ids"], decoder_attention_mask=dmask).logits
    ref["decoder_attention_mask"] = dmask
    # Greedy generation with the KV cache: tslm's cached decoding must give the same ids.
    with torch.no_grad():
        # An explicit cache: transformers sizes its default one by num_layers, not num_decoder_layers.
        from transformers import DynamicCache, EncoderDecoderCache

        cache = EncoderDecoderCache(DynamicCache(), DynamicCache())
        gen = model.generate(input_ids=ids, attention_mask=am, max_new_tokens=6, do_sample=False, num_beams=1, min_new_tokens=6, past_key_values=cache)
    ref["generated"] = gen
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    model.save_pretrained(d)
    if untied:
        # save_pretrained drops lm_head.weight as "tied": write the real checkpoint ourselves.
        sd = {k: v.detach().contiguous() for k, v in model.state_dict().items() if k not in ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight")}
        save_file(sd, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
        cfg = json.load(open(os.path.join(d, "config.json")))
        cfg["tie_word_embeddings"] = False
        cfg.pop("scale_decoder_outputs", None)
        json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=2)
    write_ref(d, ref)


def load_t5_untied(d):
    """A T5 directory with lm_head.weight of its own, loaded strictly despite transformers 5's forced tie."""
    cfg = json.load(open(os.path.join(d, "config.json")))
    cfg.pop("tie_word_embeddings", None)
    cfg.pop("architectures", None)
    cfg.pop("model_type", None)
    for k in ("initializer_factor", "dropout_rate", "layer_norm_epsilon", "classifier_dropout"):
        if isinstance(cfg.get(k), int):
            cfg[k] = float(cfg[k])  # see load_with_float_fix
    model = T5ForConditionalGeneration(T5Config(**cfg))
    model.lm_head.weight = nn.Parameter(torch.zeros(model.config.vocab_size, model.config.d_model))
    model.config.scale_decoder_outputs = False
    sd = load_file(os.path.join(d, "model.safetensors"))
    sd["encoder.embed_tokens.weight"] = sd["shared.weight"]
    sd["decoder.embed_tokens.weight"] = sd["shared.weight"]
    model.load_state_dict(sd, strict=True)
    model.config._attn_implementation = "eager"
    return model.eval()


# ---------------------------------------------------------------------------------------------
# The original Transformer, independently on torch.nn


def sinusoid(n, d):
    pe = torch.zeros(n, d, dtype=torch.float64)
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    k2 = torch.arange(0, d, 2, dtype=torch.float64)
    freq = 1.0 / torch.pow(10000.0, k2 / d)
    pe[:, 0::2] = torch.sin(pos * freq)  # PE[i, 2k]   = sin(i / 10000^(2k/d))
    pe[:, 1::2] = torch.cos(pos * freq)  # PE[i, 2k+1] = cos(i / 10000^(2k/d))
    return pe.float()


class RefTransformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        C = c["d_model"]
        self.shared = nn.Embedding(c["vocab_size"], C)
        nn.init.normal_(self.shared.weight, std=C**-0.5)
        enc = nn.TransformerEncoderLayer(C, c["encoder_attention_heads"], c["encoder_ffn_dim"], dropout=0.0, activation="relu", batch_first=True, norm_first=False)
        dec = nn.TransformerDecoderLayer(C, c["decoder_attention_heads"], c["decoder_ffn_dim"], dropout=0.0, activation="relu", batch_first=True, norm_first=False)
        self.encoder = nn.TransformerEncoder(enc, c["encoder_layers"], norm=None, enable_nested_tensor=False)
        self.decoder = nn.TransformerDecoder(dec, c["decoder_layers"], norm=None)
        # Non-trivial biases and norm parameters, so that their gradients are tested too.
        for n, p in list(self.encoder.named_parameters()) + list(self.decoder.named_parameters()):
            if p.dim() == 1:
                with torch.no_grad():
                    p.copy_(torch.randn_like(p) * 0.1 + (1.0 if ".norm" in n and n.endswith("weight") else 0.0))
        self.register_buffer("pe", sinusoid(c["max_position_embeddings"], C))

    def embed(self, ids):
        return self.shared(ids) * math.sqrt(self.c["d_model"]) + self.pe[: ids.shape[1]]

    def forward(self, ids, am, dec_ids):
        T = dec_ids.shape[1]
        mem = self.encoder(self.embed(ids), src_key_padding_mask=(am == 0))
        causal = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
        h = self.decoder(self.embed(dec_ids), mem, tgt_mask=causal, memory_key_padding_mask=(am == 0))
        return h @ self.shared.weight.T


def ref_to_hf_keys(sd, c):
    """torch.nn key names -> tslm's HF-style "transformer" key names (see src/models/transformer.ts)."""
    out = {"model.shared.weight": sd["shared.weight"]}
    C = c["d_model"]

    def attn(src, dst):
        w, b = sd[src + ".in_proj_weight"], sd[src + ".in_proj_bias"]
        for i, n in enumerate(("q_proj", "k_proj", "v_proj")):
            out[f"{dst}.{n}.weight"] = w[i * C : (i + 1) * C]
            out[f"{dst}.{n}.bias"] = b[i * C : (i + 1) * C]
        out[dst + ".out_proj.weight"] = sd[src + ".out_proj.weight"]
        out[dst + ".out_proj.bias"] = sd[src + ".out_proj.bias"]

    def copy(src, dst):
        out[dst + ".weight"] = sd[src + ".weight"]
        out[dst + ".bias"] = sd[src + ".bias"]

    for i in range(c["encoder_layers"]):
        s, t = f"encoder.layers.{i}", f"model.encoder.layers.{i}"
        attn(s + ".self_attn", t + ".self_attn")
        copy(s + ".norm1", t + ".self_attn_layer_norm")
        copy(s + ".linear1", t + ".fc1")
        copy(s + ".linear2", t + ".fc2")
        copy(s + ".norm2", t + ".final_layer_norm")
    for i in range(c["decoder_layers"]):
        s, t = f"decoder.layers.{i}", f"model.decoder.layers.{i}"
        attn(s + ".self_attn", t + ".self_attn")
        copy(s + ".norm1", t + ".self_attn_layer_norm")
        attn(s + ".multihead_attn", t + ".encoder_attn")
        copy(s + ".norm2", t + ".encoder_attn_layer_norm")
        copy(s + ".linear1", t + ".fc1")
        copy(s + ".linear2", t + ".fc2")
        copy(s + ".norm3", t + ".final_layer_norm")
    return {k: v.detach().contiguous().clone() for k, v in out.items()}


def make_transformer():
    c = dict(
        model_type="transformer",
        architectures=["TransformerForConditionalGeneration"],
        vocab_size=50,
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        dropout=0.1,
        attention_dropout=0.0,
        activation_dropout=0.0,
        max_position_embeddings=64,
        layer_norm_eps=1e-5,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=1,
        scale_embedding=True,
        tie_word_embeddings=True,
        label_smoothing=0.1,
        init_std=0.02,
    )
    torch.manual_seed(3000)
    ref_model = RefTransformer(c).eval()
    g = torch.Generator().manual_seed(3001)
    B, S, T = 2, 11, 8
    ids = torch.randint(3, 50, (B, S), generator=g)
    am = torch.ones(B, S, dtype=torch.long)
    ids[1, S - 3 :] = 0
    am[1, S - 3 :] = 0
    labels = torch.randint(3, 50, (B, T), generator=g)
    labels[1, T - 2 :] = -100
    dec = torch.cat([torch.full((B, 1), c["decoder_start_token_id"]), labels[:, :-1]], 1)
    dec = dec.masked_fill(dec == -100, c["pad_token_id"])
    logits = ref_model(ids, am, dec)
    loss = F.cross_entropy(logits.reshape(-1, 50), labels.reshape(-1), ignore_index=-100, label_smoothing=c["label_smoothing"])
    loss.backward()
    sd = dict(ref_model.named_parameters())
    weights = ref_to_hf_keys({k: v for k, v in sd.items()}, c)
    gsd = {k: v.grad for k, v in sd.items()}
    gmapped = ref_to_hf_keys(gsd, c)
    ref = {"input_ids": ids, "attention_mask": am, "labels": labels, "decoder_input_ids": dec, "logits": logits.detach(), "loss": loss.detach().reshape([])}
    for k, v in gmapped.items():
        ref["grad." + k] = v
    sgd_trajectory(ref_model, lambda m: F.cross_entropy(m(ids, am, dec).reshape(-1, 50), labels.reshape(-1), ignore_index=-100, label_smoothing=c["label_smoothing"]), ref)
    ref["pe"] = ref_model.pe[:16].clone()
    d = os.path.join(OUT, "transformer_base")
    os.makedirs(d, exist_ok=True)
    save_file(weights, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    write_ref(d, ref)


# ---------------------------------------------------------------------------------------------
# tslm eval: a tiny GPT-2 with a tokenizer, and HF's sliding-window perplexity

EVAL_TEXT = (
    "The quick brown fox jumps over the lazy dog. A language model assigns a probability to every "
    "sequence of words, and its perplexity on a text is the exponential of the average negative "
    "log-likelihood per token. When the text is longer than the model's context, the text is cut "
    "into windows that overlap: each window predicts only its new tokens, and the tokens before them "
    "serve as context. A smaller stride gives every prediction more context and a lower perplexity.\n"
)


def make_gpt2_eval():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    d = os.path.join(OUT, "gpt2_eval")
    os.makedirs(d, exist_ok=True)
    text_path = os.path.join(OUT, "eval_text.txt")
    with open(text_path, "w") as f:
        f.write(EVAL_TEXT)
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    tk.train_from_iterator([EVAL_TEXT], trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|endoftext|>", bos_token="<|endoftext|>")
    tok.save_pretrained(d)
    V = tk.get_vocab_size()
    torch.manual_seed(4000)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=V, n_positions=32, n_embd=32, n_layer=2, n_head=4, bos_token_id=0, eos_token_id=0, initializer_range=0.1))
    model.config._attn_implementation = "eager"
    model.eval()
    model.save_pretrained(d)
    ids = torch.tensor([tok(EVAL_TEXT)["input_ids"]])
    runs = []
    for max_length, stride in [(32, 16), (32, 32), (24, 7)]:
        # The recipe of transformers' docs "Perplexity of fixed-length models".
        seq_len = ids.size(1)
        nll_sum, n_tokens, prev_end = 0.0, 0, 0
        windows = 0
        for begin in range(0, seq_len, stride):
            end = min(begin + max_length, seq_len)
            trg_len = end - prev_end
            inp = ids[:, begin:end]
            target = inp.clone()
            target[:, :-trg_len] = -100
            with torch.no_grad():
                loss = model(inp, labels=target).loss
            num_valid = (target != -100).sum().item()
            num_loss_tokens = num_valid - inp.size(0)  # the labels are shifted inside the model
            nll_sum += loss.item() * num_loss_tokens
            n_tokens += num_loss_tokens
            windows += 1
            prev_end = end
            if end == seq_len:
                break
        avg = nll_sum / n_tokens
        runs.append({"seq_len": max_length, "stride": stride, "tokens": seq_len, "windows": windows, "predicted": n_tokens, "loss": avg, "perplexity": math.exp(avg)})
    with open(os.path.join(OUT, "eval.json"), "w") as f:
        json.dump({"generator": "tools/golden/models_encdec.py", "model": "fixtures/models_encdec/gpt2_eval", "text": "fixtures/models_encdec/eval_text.txt", "input_ids": ids[0].tolist(), "runs": runs}, f, indent=1)
        f.write("\n")
    print("gpt2_eval:", runs)


# ---------------------------------------------------------------------------------------------
# Round trip: directories written by tslm's savePretrained, loaded by transformers


def load_with_float_fix(cls, d):
    """from_pretrained; when transformers' strict config validation rejects an int where it wants a
    float (JSON from JavaScript cannot tell 1.0 from 1), that field is rewritten as a float and the
    load retried. Returns the model and the fields that needed it (reported in roundtrip.json)."""
    import re
    import shutil

    fixed = []
    for _ in range(20):
        try:
            return cls.from_pretrained(d, attn_implementation="eager").eval(), fixed
        except Exception as e:  # huggingface_hub StrictDataclassFieldValidationError
            m = re.search(r"field '([A-Za-z0-9_]+)':\s*TypeError: Field '\1' expected float, got int", str(e))
            if not m:
                raise
            if not fixed:
                d2 = tempfile.mkdtemp(prefix="tslm-floatfix-")
                for f in os.listdir(d):
                    shutil.copy(os.path.join(d, f), d2)
                d = d2
            fixed.append(m.group(1))
            p = os.path.join(d, "config.json")
            cfg = json.load(open(p))
            cfg[m.group(1)] = float(cfg[m.group(1)])
            json.dump(cfg, open(p, "w"), indent=2)
    raise RuntimeError("too many float fixes")


def roundtrip():
    tmp = tempfile.mkdtemp(prefix="tslm-roundtrip-")
    subprocess.run(["npx", "tsx", os.path.join(ROOT, "tools", "golden", "models_encdec_save.ts"), tmp], cwd=ROOT, check=True)
    result = {"generator": "tools/golden/models_encdec.py roundtrip", "cases": {}}
    def load(name, d):
        if name == "t5_v1_1":
            return load_t5_untied(d), [], "T5ForConditionalGeneration + manual untie of lm_head + load_state_dict(strict=True) (transformers 5 forces T5's tie_word_embeddings)"
        cls = {"bert_mlm": BertForMaskedLM, "bert_cls": BertForSequenceClassification, "t5_v1_0": T5ForConditionalGeneration}[name]
        model, fixed = load_with_float_fix(cls, d)
        return model, fixed, cls.__name__ + ".from_pretrained"

    def logits_of(name, model, ref):
        with torch.no_grad():
            if name.startswith("bert"):
                return model(input_ids=ref["input_ids"], token_type_ids=ref["token_type_ids"], attention_mask=ref["attention_mask"]).logits
            return model(input_ids=ref["input_ids"], attention_mask=ref["attention_mask"], decoder_input_ids=ref["decoder_input_ids"]).logits

    for name in ("bert_mlm", "bert_cls", "t5_v1_0", "t5_v1_1"):
        d = os.path.join(tmp, name)
        ref = load_file(os.path.join(OUT, name, "reference.safetensors"))
        model, fixed, loader = load(name, d)
        # The same loader on the Hugging Face-written fixture: the tslm-written directory must give
        # bit-identical logits (and both match the training-graph reference to float noise).
        hf_model, _, _ = load(name, os.path.join(OUT, name))
        logits, hf_logits = logits_of(name, model, ref), logits_of(name, hf_model, ref)
        diff = (logits - hf_logits).abs().max().item()
        diff_ref = (logits - ref["logits"]).abs().max().item()
        sd_tslm, sd_hf = model.state_dict(), hf_model.state_dict()
        same_weights = sd_tslm.keys() == sd_hf.keys() and all(torch.equal(sd_tslm[k], sd_hf[k]) for k in sd_hf)
        result["cases"][name] = {
            "loader": loader,
            "files": sorted(os.listdir(d)),
            "config_fields_written_as_int_needing_float": fixed,
            "weights_identical": same_weights,
            "logits_max_abs_diff_vs_hf_dir": diff,
            "logits_max_abs_diff_vs_reference": diff_ref,
            "identical": diff == 0.0 and same_weights,
        }
        print(f"roundtrip {name}: {loader}; fixed {fixed}; weights identical {same_weights}; max |diff| {diff} (vs reference {diff_ref})")
    with open(os.path.join(OUT, "roundtrip.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


def main():
    import transformers

    os.makedirs(OUT, exist_ok=True)
    if sys.argv[1:] == ["roundtrip"]:
        roundtrip()
        return
    only = sys.argv[1:]
    steps = {"bert": make_bert, "t5": lambda: (make_t5("t5_v1_0", 2100, feed_forward_proj="relu"), make_t5("t5_v1_1", 2200, feed_forward_proj="gated-gelu", untied=True)), "transformer": make_transformer, "eval": make_gpt2_eval}
    for k, f in steps.items():
        if not only or k in only:
            f()
    with open(os.path.join(OUT, "VERSIONS.json"), "w") as f:
        json.dump({"torch": torch.__version__, "transformers": transformers.__version__}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
