"""Golden fixtures for fine-tuning (issue 7): GPT2ForSequenceClassification and sacrebleu metrics.

Writes fixtures/finetune/:
  gpt2_cls/config.json, model.safetensors   a tiny random GPT2ForSequenceClassification (pad_token_id 0,
                                            3 labels with id2label names), saved by save_pretrained
  gpt2_cls/reference.safetensors            input_ids [3, 7] int64 (row 0 full, row 1 right-padded with
                                            the pad id, row 2 LEFT-padded), attention_mask, labels [3] int64,
                                            logits [3, 3] f32, loss [] f32, grad.<name> for every parameter
  metrics.json                              sacrebleu corpus BLEU (13a and zh tokenizers) and chrF (chrF2
                                            defaults) on hand-written hypothesis / reference sets, with the
                                            exact sacrebleu version; sentence-level cases too

Run from the repository root:  .venv/bin/python tools/golden/finetune.py
(needs torch, transformers, safetensors and sacrebleu in .venv). Deterministic: seeded, one thread, eval mode.
"""
import json
import os
import sys

sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import sacrebleu  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import GPT2Config, GPT2ForSequenceClassification  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "fixtures", "finetune")
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def gpt2_cls():
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=50, n_positions=16, n_embd=32, n_layer=2, n_head=4, pad_token_id=0, bos_token_id=49, eos_token_id=49,
                     num_labels=3, id2label={0: "neg", 1: "neu", 2: "pos"}, label2id={"neg": 0, "neu": 1, "pos": 2})
    model = GPT2ForSequenceClassification(cfg).eval()
    # The score head is zero-free random so pooling errors show up in the logits.
    d = os.path.join(OUT, "gpt2_cls")
    model.save_pretrained(d)
    ids = torch.tensor([[5, 9, 13, 2, 7, 31, 44], [6, 8, 21, 3, 0, 0, 0], [0, 0, 11, 12, 14, 15, 49]])
    mask = (ids != 0).long()
    mask[0] = 1
    labels = torch.tensor([2, 0, 1])
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    out.loss.backward()
    ref = {"input_ids": ids, "attention_mask": mask, "labels": labels, "logits": out.logits.detach().contiguous(), "loss": out.loss.detach().reshape(())}
    for n, p in model.named_parameters():
        ref["grad." + n] = p.grad.detach().contiguous()
    save_file(ref, os.path.join(d, "reference.safetensors"))
    # Reload check: the saved directory gives the same logits.
    again = GPT2ForSequenceClassification.from_pretrained(d).eval()
    assert torch.allclose(again(input_ids=ids, attention_mask=mask).logits, out.logits, atol=1e-6)


def metrics():
    en_sys = [
        "The cat sat on the mat.",
        "It's a truly wonderful day, isn't it?",
        "Open the file menu and choose Save As.",
        "He said \"no\" -- twice!",
        "Numbers like 3.14 and 1,000 stay together.",
    ]
    en_refs = [[
        "The cat is sitting on the mat.",
        "It is a truly wonderful day, is it not?",
        "Open the File menu and select Save As.",
        "He said \"no\" twice.",
        "Numbers like 3.14 and 1,000 stay together.",
    ]]
    zh_sys = ["选择文件菜单，然后选择另存为。", "单击确定按钮。", "此函数返回数字的绝对值。", "在LibreOffice Calc中插入图表", "Hello 世界 2024"]
    zh_refs = [["打开文件菜单并选择另存为。", "单击确定。", "此函数返回一个数字的绝对值。", "在 LibreOffice Calc 中插入图表", "你好 世界 2024"]]
    cases = []
    for name, sys_, refs, tok in [("en", en_sys, en_refs, "13a"), ("zh", zh_sys, zh_refs, "zh"), ("en_zh_tok13a", zh_sys, zh_refs, "13a")]:
        bleu = sacrebleu.corpus_bleu(sys_, refs, tokenize=tok)
        chrf = sacrebleu.corpus_chrf(sys_, refs)
        sent = [sacrebleu.sentence_bleu(h, [r], tokenize=tok).score for h, r in zip(sys_, refs[0])]
        cases.append({"name": name, "hypotheses": sys_, "references": refs, "tokenize": tok, "bleu": bleu.score, "bleu_counts": bleu.counts,
                      "bleu_totals": bleu.totals, "bp": bleu.bp, "sys_len": bleu.sys_len, "ref_len": bleu.ref_len, "chrf": chrf.score, "sentence_bleu": sent})
    # Two references per segment (multi-reference BLEU takes the closest reference length).
    multi_sys = ["the quick brown fox jumps over the dog", "a man walks"]
    multi_refs = [["the quick brown fox jumped over the lazy dog", "a man is walking"], ["a fast brown fox jumps over the dog", "one man walks"]]
    b = sacrebleu.corpus_bleu(multi_sys, multi_refs)
    cases.append({"name": "multi_ref", "hypotheses": multi_sys, "references": multi_refs, "tokenize": "13a", "bleu": b.score, "bleu_counts": b.counts,
                  "bleu_totals": b.totals, "bp": b.bp, "sys_len": b.sys_len, "ref_len": b.ref_len, "chrf": sacrebleu.corpus_chrf(multi_sys, multi_refs).score, "sentence_bleu": []})
    # Tokenizer outputs on their own, for the tokenizers' unit tests.
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
    from sacrebleu.tokenizers.tokenizer_zh import TokenizerZh
    t13, tzh = Tokenizer13a(), TokenizerZh()
    strings = ["Hello, world! It's 3.14 -- ok?", "a&quot;b &amp; c&lt;d&gt;", "(1,000) [x] {y}", "中文，English混合。", "LibreOffice Calc 中插入图表！", "tab\tand\nnewline"]
    toks = [{"text": s, "13a": t13(s), "zh": tzh(s)} for s in strings]
    json.dump({"sacrebleu": sacrebleu.__version__, "cases": cases, "tokenizers": toks}, open(os.path.join(OUT, "metrics.json"), "w"), ensure_ascii=False, indent=1)


def synthetic_sentiment():
    """fixtures/finetune/sentiment_tiny.jsonl: 320 synthetic movie-review sentences (written here, no
    outside text, so no licence question), {text, label: "pos" | "neg"}; the label follows the
    adjectives, with neutral filler around them and an occasional negation that flips them."""
    import random
    rng = random.Random(7)
    pos = ["great", "wonderful", "moving", "brilliant", "funny", "charming", "superb", "delightful"]
    neg = ["awful", "boring", "dull", "terrible", "clumsy", "tedious", "weak", "painful"]
    subj = ["the movie", "this film", "the story", "the acting", "the ending", "the script", "the cast", "the music"]
    filler = ["", "honestly", "from start to finish", "for most of its length", "in my opinion", "at the cinema"]
    rows = []
    for i in range(320):
        label = "pos" if i % 2 == 0 else "neg"
        negate = rng.random() < 0.15
        words = pos if (label == "pos") != negate else neg
        adj1, adj2 = rng.choice(words), rng.choice(words)
        text = f"{rng.choice(subj)} was {'not ' if negate else ''}{adj1} {rng.choice(filler)} and {rng.choice(subj)} felt {'not ' if negate else ''}{adj2}".replace("  ", " ")
        rows.append({"text": text.strip(), "label": label})
    rng.shuffle(rows)
    with open(os.path.join(OUT, "sentiment_tiny.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    gpt2_cls()
    metrics()
    synthetic_sentiment()
    print("wrote", OUT)
