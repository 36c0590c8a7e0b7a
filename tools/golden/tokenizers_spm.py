"""SentencePiece's precompiled normalization charsmap (helper of tools/golden/tokenizers_golden.py).

HF's `Precompiled` normalizer (T5, ALBERT, XLM-R style tokenizer.json files) carries SentencePiece's
compiled normalization rules. We obtain a real one by training a tiny SentencePiece model with the
`nmt_nfkc` rule (pip package `sentencepiece`) and reading `normalizer_spec.precompiled_charsmap`
out of the model protobuf with a minimal wire-format walker (no protobuf package needed).
"""

import io


def _varint(buf, i):
    shift = 0
    out = 0
    while True:
        b = buf[i]
        i += 1
        out |= (b & 0x7F) << shift
        if b < 0x80:
            return out, i
        shift += 7


def _fields(buf):
    """(field number, wire type, value) of one protobuf message; value is bytes for wire type 2."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 2:
            n, i = _varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wt}")
        yield num, wt, v


def precompiled_charsmap(rule="nmt_nfkc", corpus=None):
    import sentencepiece as spm

    corpus = corpus or ["Hello world.", "A small corpus for a tiny model.", "ﬁ ① Ｆｕｌｌ ｗｉｄｔｈ", "naïve café"] * 50
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus), model_writer=model, vocab_size=60, normalization_rule_name=rule,
        model_type="unigram", hard_vocab_limit=False, minloglevel=2,
    )
    proto = model.getvalue()
    for num, wt, v in _fields(proto):
        if num == 3 and wt == 2:  # ModelProto.normalizer_spec
            for n2, w2, v2 in _fields(v):
                if n2 == 2 and w2 == 2:  # NormalizerSpec.precompiled_charsmap
                    return bytes(v2)
    raise ValueError("no precompiled_charsmap in the trained model")


if __name__ == "__main__":
    cm = precompiled_charsmap()
    print(len(cm), "bytes")
