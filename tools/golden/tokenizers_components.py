"""Component fixtures for tslm's tokenizers (helper of tools/golden/tokenizers_golden.py).

The five reference tokenizers exercise only some components. Here each case takes a base (one of
the reference tokenizers, or a small model trained here by Python `tokenizers` on the string table)
and replaces parts of its tokenizer.json (a "patch": normalizer, pre_tokenizer, post_processor,
decoder, added_tokens, or fields of the model), so that every normalizer, pre-tokenizer,
post-processor, decoder, model option and added-token flag tslm supports is compared with Python.

fixtures/tokenizers/components.json holds, per case: the base name, the patch, the full
tokenizer.json for trained bases, and for a subset of the string table the ids, offsets,
special-tokens mask, type ids, ids without special tokens and decode results.
"""

import json

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

SUBSET_STEP = 4  # every fourth string of the table


def train_small(table):
    """Small trained models (their JSON is stored in the fixture; training is not what is tested)."""
    # Latin-script strings only: everything else exercises the unknown-char paths.
    corpus = [s for s in table if s and all(ord(c) < 0x250 for c in s)] * 3
    out = {}

    uni = Tokenizer(models.Unigram())
    uni.normalizer = normalizers.NFKC()
    uni.pre_tokenizer = pre_tokenizers.Metaspace()
    uni.train_from_iterator(corpus, trainers.UnigramTrainer(vocab_size=400, unk_token="<unk>", special_tokens=["<unk>", "<s>", "</s>"]))
    out["unigram"] = json.loads(uni.to_str())

    # Unigram with byte fallback: the trained vocabulary plus the 256 <0xXX> pieces.
    d = json.loads(uni.to_str())
    have = {p for p, _ in d["model"]["vocab"]}
    d["model"]["vocab"] += [[f"<0x{b:02X}>", -20.0] for b in range(256) if f"<0x{b:02X}>" not in have]
    d["model"]["byte_fallback"] = True
    out["unigram_bytes"] = d

    wp = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wp.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wp.train_from_iterator(corpus, trainers.WordPieceTrainer(vocab_size=500, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    out["wordpiece"] = json.loads(wp.to_str())

    bpe = Tokenizer(models.BPE(unk_token="[UNK]", end_of_word_suffix="</w>", continuing_subword_prefix="##", fuse_unk=True))
    bpe.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents(), normalizers.Lowercase()])
    bpe.pre_tokenizer = pre_tokenizers.Whitespace()
    bpe.train_from_iterator(
        corpus,
        trainers.BpeTrainer(vocab_size=500, special_tokens=["[UNK]", "<s>", "</s>"], end_of_word_suffix="</w>", continuing_subword_prefix="##"),
    )
    out["bpe_suffix"] = json.loads(bpe.to_str())

    wl = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    wl.pre_tokenizer = pre_tokenizers.Whitespace()
    wl.train_from_iterator(corpus, trainers.WordLevelTrainer(vocab_size=300, special_tokens=["[PAD]", "[UNK]"]))
    out["wordlevel"] = json.loads(wl.to_str())
    return out


def _tok(content, id_, special=False, **kw):
    d = {"id": id_, "content": content, "single_word": False, "lstrip": False, "rstrip": False, "normalized": not special, "special": special}
    d.update(kw)
    return d


def _tpl(spec):
    """Template pieces as tokenizer.json writes them, from the "<s> $A </s> $B:1" notation."""
    out = []
    for part in spec.split():
        name, _, type_id = part.partition(":")
        type_id = int(type_id or 0)
        if name in ("$A", "$B"):
            out.append({"Sequence": {"id": name[1], "type_id": type_id}})
        else:
            out.append({"SpecialToken": {"id": name, "type_id": type_id}})
    return out


def _bytelevel_split(pattern, behavior, invert=False):
    return {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "Split", "pattern": pattern, "behavior": behavior, "invert": invert},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        ],
    }


def cases():
    """(name, base, patch). Patches replace top-level sections; a "model" patch merges fields."""
    import base64

    from tokenizers_spm import precompiled_charsmap

    charsmap = base64.b64encode(precompiled_charsmap("nmt_nfkc")).decode("ascii")
    eot = 50256
    return [
        # --- normalizers (on LLaMA-2's byte-fallback BPE, which can spell anything)
        ("llama2_normalizers", "llama2", {"normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFKC"}, {"type": "Strip", "strip_left": True, "strip_right": True}, {"type": "Lowercase"},
            {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
            {"type": "Prepend", "prepend": "\u2581"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}}),
        ("llama2_nfd_strip", "llama2", {"normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFD"}, {"type": "StripAccents"}, {"type": "Strip", "strip_left": False, "strip_right": True},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}}),
        ("llama2_nfkd", "llama2", {"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKD"}, {"type": "Prepend", "prepend": "\u2581"}]}}),
        # --- Metaspace pre-tokenizer and decoder
        ("llama2_metaspace_first", "llama2", {"normalizer": None,
            "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True},
            "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True}}),
        ("llama2_metaspace_never_nosplit", "llama2", {"normalizer": None,
            "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "never", "split": False},
            "decoder": {"type": "Sequence", "decoders": [{"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "never", "split": False}, {"type": "ByteFallback"}, {"type": "Fuse"}]}}),
        ("llama2_metaspace_always_template", "llama2", {"normalizer": None,
            "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
            "post_processor": {"type": "TemplateProcessing", "single": _tpl("<s> $A </s>"), "pair": _tpl("<s> $A </s> </s>:1 $B:1 </s>:1"),
                               "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}, "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}}}),
        # --- byte-level options, trimming, RoBERTa processing
        ("gpt2_prefix_space_trim", "gpt2", {
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}}),
        ("gpt2_roberta", "gpt2", {
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "post_processor": {"type": "RobertaProcessing", "sep": ["<|endoftext|>", eot], "cls": ["<|endoftext|>", eot], "trim_offsets": True, "add_prefix_space": True}}),
        ("gpt2_sequence_processor", "gpt2", {
            "post_processor": {"type": "Sequence", "processors": [
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
                {"type": "TemplateProcessing", "single": _tpl("$A <|endoftext|>"), "pair": _tpl("$A <|endoftext|> $B:1 <|endoftext|>:1"),
                 "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [eot], "tokens": ["<|endoftext|>"]}}}]}}),
        # --- added-token flags
        ("gpt2_added_flags", "gpt2", {"added_tokens": [
            _tok("<|endoftext|>", eot, special=True),
            _tok("<mask>", eot + 1, special=True, lstrip=True),
            _tok("<rs>", eot + 2, special=True, rstrip=True),
            _tok("hello", 31373, single_word=True),
            _tok("world", 6894, normalized=False, lstrip=True, rstrip=True),
        ]}),
        ("bert_added_normalized", "bert", {"added_tokens": [
            _tok("[PAD]", 0, special=True), _tok("[UNK]", 100, special=True), _tok("[CLS]", 101, special=True),
            _tok("[SEP]", 102, special=True), _tok("[MASK]", 103, special=True),
            _tok("Hello", 30522, normalized=True), _tok("WORLD", 30523, normalized=False, single_word=True)]}),
        # --- Split behaviours (byte-level BPE can encode any piece)
        ("gpt2_split_removed", "gpt2", {"pre_tokenizer": _bytelevel_split({"Regex": "\\s+"}, "Removed")}),
        ("gpt2_split_isolated_str", "gpt2", {"pre_tokenizer": _bytelevel_split({"String": " "}, "Isolated")}),
        ("gpt2_split_prev", "gpt2", {"pre_tokenizer": _bytelevel_split({"Regex": "[,.!?]"}, "MergedWithPrevious")}),
        ("gpt2_split_next", "gpt2", {"pre_tokenizer": _bytelevel_split({"String": " "}, "MergedWithNext")}),
        ("gpt2_split_contiguous", "gpt2", {"pre_tokenizer": _bytelevel_split({"Regex": "\\p{N}"}, "Contiguous")}),
        ("gpt2_split_invert", "gpt2", {"pre_tokenizer": _bytelevel_split({"Regex": "\\p{L}+"}, "Removed", invert=True)}),
        ("gpt2_split_casefold", "gpt2", {"pre_tokenizer": _bytelevel_split({"Regex": "(?i:hello|the)|\\d{2}"}, "Isolated")}),
        # --- other pre-tokenizers
        ("gpt2_digits_punct", "gpt2", {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "WhitespaceSplit"}, {"type": "Digits", "individual_digits": True}, {"type": "Punctuation", "behavior": "Isolated"},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]}}),
        ("gpt2_digits_contiguous", "gpt2", {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Whitespace"}, {"type": "Digits", "individual_digits": False}, {"type": "Punctuation", "behavior": "MergedWithNext"},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]}}),
        # --- BERT variants
        ("bert_processing", "bert", {"post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 102], "cls": ["[CLS]", 101]}}),
        ("bert_cased_no_chinese", "bert", {"normalizer": {"type": "BertNormalizer", "clean_text": False, "handle_chinese_chars": False, "strip_accents": False, "lowercase": True}}),
        ("bert_whitespace_maxchars", "bert", {"pre_tokenizer": {"type": "Whitespace"}, "model": {"max_input_chars_per_word": 8},
            "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": False}}),
        # --- trained small models
        ("unigram_metaspace", "trained:unigram", {
            "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
            "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
            "post_processor": {"type": "TemplateProcessing", "single": _tpl("<s> $A </s>"), "pair": _tpl("<s> $A </s> $B:1 </s>:1"),
                               "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}, "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}}}),
        ("unigram_bytes", "trained:unigram_bytes", {
            "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False},
            "decoder": {"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"},
                {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}}),
        ("wordpiece_trained", "trained:wordpiece", {"decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True}}),
        ("bpe_suffix", "trained:bpe_suffix", {"decoder": {"type": "BPEDecoder", "suffix": "</w>"}}),
        ("wordlevel_ctc", "trained:wordlevel", {"decoder": {"type": "CTC", "pad_token": "[PAD]", "word_delimiter_token": "|", "cleanup": True}}),
        # --- tokenizer.json truncation and padding settings (HF applies them in encode)
        ("bert_truncation_padding", "bert", {
            "truncation": {"direction": "Right", "max_length": 9, "strategy": "LongestFirst", "stride": 0},
            "padding": {"strategy": {"Fixed": 12}, "direction": "Right", "pad_to_multiple_of": None, "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"}}),
        ("qwen3_truncation_left_padding_multiple", "qwen3", {
            "truncation": {"direction": "Left", "max_length": 7, "strategy": "LongestFirst", "stride": 0},
            "padding": {"strategy": "BatchLongest", "direction": "Left", "pad_to_multiple_of": 4, "pad_id": 151643, "pad_type_id": 1, "pad_token": "<|endoftext|>"}}),
        # --- the less common components
        ("llama2_nmt", "llama2", {"normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Nmt"}, {"type": "Prepend", "prepend": "\u2581"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}}),
        ("gpt2_bytelevel_normalizer", "gpt2", {"normalizer": {"type": "ByteLevel"},
            "pre_tokenizer": {"type": "Split", "pattern": {"String": "\u0120"}, "behavior": "MergedWithNext", "invert": False}}),
        ("gpt2_chardelimiter", "gpt2", {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "CharDelimiterSplit", "delimiter": " "}, {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]}}),
        ("llama2_precompiled", "llama2", {"normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": charsmap}, {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}}),
        ("llama2_unicode_scripts", "llama2", {"normalizer": None, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "UnicodeScripts"}, {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}]}}),
        ("gpt2_fixedlength", "gpt2", {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "FixedLength", "length": 4}, {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]}}),
    ]


def apply_patch(base_json, patch):
    d = json.loads(json.dumps(base_json))
    for k, v in patch.items():
        if k == "model":
            d["model"].update(v)
        else:
            d[k] = v
    return d


def build(bases, trained, table, pairs):
    """bases: name -> Python Tokenizer of the reference tokenizers."""
    out = {"subset_step": SUBSET_STEP, "trained": trained, "cases": []}
    subset = [i for i in range(len(table)) if i % SUBSET_STEP == 0]
    for name, base, patch in cases():
        base_json = trained[base.split(":", 1)[1]] if base.startswith("trained:") else json.loads(bases[base].to_str())
        tok = Tokenizer.from_str(json.dumps(apply_patch(base_json, patch)))
        for t in patch.get("added_tokens", []):
            got = tok.token_to_id(t["content"])
            if got != t["id"]:
                raise SystemExit(f"{name}: Python gave {t['content']!r} id {got}, the patch says {t['id']}")
        rows = []
        for i in subset:
            s = table[i]
            if any(0xD800 <= ord(c) <= 0xDFFF for c in s):
                s = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in s)
            e = tok.encode(s)
            n = tok.encode(s, add_special_tokens=False)
            rows.append({
                "i": i, "ids": e.ids, "offsets": [list(o) for o in e.offsets], "special": e.special_tokens_mask, "type_ids": e.type_ids,
                "attention": e.attention_mask, "ids_ns": n.ids, "decode": tok.decode(e.ids, skip_special_tokens=False), "decode_skip": tok.decode(e.ids, skip_special_tokens=True),
            })
        prs = []
        for a, b in pairs:
            e = tok.encode(a, b)
            prs.append({"ids": e.ids, "type_ids": e.type_ids, "offsets": [list(o) for o in e.offsets], "special": e.special_tokens_mask,
                        "attention": e.attention_mask})
        out["cases"].append({"name": name, "base": base, "patch": patch, "rows": rows, "pairs": prs})
        print("component case", name, len(rows), "strings")
    return out
