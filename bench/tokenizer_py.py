"""Python `tokenizers` side of bench/tokenizer.ts (run by it when .venv exists; prints one JSON line).

    .venv/bin/python bench/tokenizer_py.py encode TOKENIZER_JSON ROUNDS FILE...
    .venv/bin/python bench/tokenizer_py.py train VOCAB_SIZE ROUNDS FILE...

encode: the same ~4 KB chunks as the TypeScript side (lines grouped until a chunk reaches 4096
bytes), encoded one by one on one thread (`encode`, like the JS libraries) and, separately, with
`encode_batch` on all cores. Reports wall seconds per round (and CPU seconds for the one-thread
loop) and the token count.
train: BpeTrainer with a ByteLevel pre-tokenizer (add_prefix_space=False), the 256-character
initial alphabet, special token <|endoftext|>, min_frequency 0, from the files; seconds per round
and the sha256 of the vocabulary and merges, to compare with tslm's.
"""

import hashlib
import json
import sys
import time

CHUNK = 4096


def chunks(files):
    out = []
    for f in files:
        data = open(f, "rb").read()
        cur = bytearray()
        for line in data.splitlines(keepends=True):
            cur += line
            if len(cur) >= CHUNK:
                out.append(cur.decode("utf-8"))
                cur = bytearray()
        if cur:
            out.append(cur.decode("utf-8"))
    return out


def encode(tok_path, rounds, files):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(tok_path)
    texts = chunks(files)
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    single, single_cpu, batch, ntok = [], [], [], 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        c0 = time.process_time()
        n = 0
        for t in texts:
            n += len(tok.encode(t, add_special_tokens=False).ids)
        single.append(time.perf_counter() - t0)
        single_cpu.append(time.process_time() - c0)
        ntok = n
        t0 = time.perf_counter()
        tok.encode_batch(texts, add_special_tokens=False)
        batch.append(time.perf_counter() - t0)
    print(json.dumps({"bytes": nbytes, "tokens": ntok, "single_s": single, "single_cpu_s": single_cpu, "batch_s": batch}))


def train(vocab_size, rounds, files):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    times, digest = [], None
    for _ in range(rounds):
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=["<|endoftext|>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        t0 = time.perf_counter()
        tok.train(files, trainer)
        times.append(time.perf_counter() - t0)
        model = json.loads(tok.to_str())["model"]
        vocab = sorted(model["vocab"].items(), key=lambda kv: kv[1])
        digest = hashlib.sha256(
            json.dumps([[t for t, _ in vocab], model["merges"]], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        ).hexdigest()
    print(json.dumps({"train_s": times, "sha256": digest}))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "encode":
        encode(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    elif mode == "train":
        train(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:])
    else:
        raise SystemExit(f"unknown mode {mode}")
