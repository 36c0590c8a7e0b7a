"""Golden tables for T5 span corruption (fixtures/data/t5_spans.json).

What it pins: the length arithmetic of Hugging Face's T5 pretraining example
(examples/flax/language-modeling/run_t5_mlm_flax.py, `compute_input_and_target_lengths`) and the
span counts of T5's `random_spans_noise_mask` (t5/data/preprocessors.py). Neither function ships in
an installed package, so this script restates them from their documented behaviour, in Python, where
`round()` / `np.round()` round halves to even exactly as the references do; and histograms of
noise-span and kept-span lengths over many masks drawn by T5's shuffled-indicator segmentation,
which tslm's (different, partial Fisher-Yates) draw must match in distribution; and, for a few
fixed masks, the exact input_ids / labels that HF's T5 collator (create_sentinel_ids +
filter_input_ids, sentinels counting down from len(tokenizer) - 1) builds. The TypeScript
implementation (src/data/collators/spans.ts) is checked against this table by
test/data/spans.test.ts, which catches any slip in rounding or in the search loop.

Run:  .venv/bin/python tools/golden/data_spans.py
"""
import json
import os

import numpy as np


def lengths_for(tokens_length, noise_density, mean_noise_span_length):
    """Corrupted input and target lengths for a raw length (HF: _tokens_length_to_inputs_length_targets_length)."""
    num_noise_tokens = int(round(tokens_length * noise_density))
    num_nonnoise_tokens = tokens_length - num_noise_tokens
    num_noise_spans = int(round(num_noise_tokens / mean_noise_span_length))
    # Inputs: kept tokens, one sentinel per span, EOS. Targets: noise tokens, one sentinel per span, EOS.
    return num_nonnoise_tokens + num_noise_spans + 1, num_noise_tokens + num_noise_spans + 1


def compute_input_and_target_lengths(inputs_length, noise_density, mean_noise_span_length):
    """Longest raw length whose corrupted inputs fit in inputs_length, and its target length."""
    tokens_length = inputs_length
    while lengths_for(tokens_length + 1, noise_density, mean_noise_span_length)[0] <= inputs_length:
        tokens_length += 1
    _, targets_length = lengths_for(tokens_length, noise_density, mean_noise_span_length)
    # HF keeps targets no longer than the raw length when noise_density is exactly 0.5.
    if noise_density == 0.5 and targets_length > tokens_length:
        targets_length -= 1
    return tokens_length, targets_length


def noise_span_counts(length, noise_density, mean_noise_span_length):
    """Noise tokens and noise spans that T5's random_spans_noise_mask uses for a raw length."""
    num_noise_tokens = int(np.round(length * noise_density))
    num_noise_tokens = min(max(num_noise_tokens, 1), length - 1)
    num_nonnoise_tokens = length - num_noise_tokens
    num_noise_spans = int(np.round(min(num_noise_tokens, num_nonnoise_tokens) / mean_noise_span_length))
    return num_noise_tokens, max(num_noise_spans, 1)


def random_spans_noise_mask(length, noise_density, mean_noise_span_length, rng):
    """T5's random_spans_noise_mask restated with numpy (non-noise span first, noise span last)."""
    num_noise_tokens, num_noise_spans = noise_span_counts(length, noise_density, mean_noise_span_length)
    num_nonnoise_tokens = length - num_noise_tokens

    def segmentation(num_items, num_segments):
        # A shuffled indicator of the num_segments - 1 segment starts among num_items - 1 gaps.
        first = np.arange(num_items - 1) < (num_segments - 1)
        rng.shuffle(first)
        first = np.pad(first, [[1, 0]])
        return np.bincount(np.cumsum(first))

    noise = segmentation(num_noise_tokens, num_noise_spans)
    keep = segmentation(num_nonnoise_tokens, num_noise_spans)
    starts = np.cumsum(np.stack([keep, noise], axis=1).reshape(-1))[:-1]
    indicator = np.zeros(length, dtype=np.int64)
    indicator[starts] = 1
    return np.cumsum(indicator) % 2 == 1


def span_histograms(length, noise_density, mean_noise_span_length, draws, seed):
    """Histogram of noise span lengths and of kept-span lengths over many masks."""
    rng = np.random.default_rng(seed)
    noise_hist, keep_hist = {}, {}
    for _ in range(draws):
        m = random_spans_noise_mask(length, noise_density, mean_noise_span_length, rng)
        edges = np.flatnonzero(np.diff(np.concatenate([[-1], m.astype(np.int64), [-1]])) != 0)
        runs = np.diff(edges)
        vals = m[edges[:-1]]
        for r, v in zip(runs.tolist(), vals.tolist()):
            h = noise_hist if v else keep_hist
            h[r] = h.get(r, 0) + 1
    return {"length": length, "noise_density": noise_density, "mean_noise_span_length": mean_noise_span_length,
            "draws": draws,
            "noise_span_lengths": sorted([k, v] for k, v in noise_hist.items()),
            "kept_span_lengths": sorted([k, v] for k, v in keep_hist.items())}


def create_sentinel_ids(mask_indices, vocab_size):
    """HF FlaxDataCollatorForT5MLM.create_sentinel_ids, restated: the first token of each masked
    span gets a sentinel counting down from vocab_size - 1, the other masked tokens get -1."""
    start_indices = mask_indices - np.roll(mask_indices, 1, axis=-1) * mask_indices
    start_indices[:, 0] = mask_indices[:, 0]
    sentinel_ids = np.where(start_indices != 0, np.cumsum(start_indices, axis=-1), start_indices)
    sentinel_ids = np.where(sentinel_ids != 0, vocab_size - sentinel_ids, 0)
    sentinel_ids -= mask_indices - start_indices
    return sentinel_ids


def filter_input_ids(input_ids, sentinel_ids, eos_id):
    """HF filter_input_ids, restated: sentinels replace span starts, span continuations are dropped,
    EOS is appended."""
    batch_size = input_ids.shape[0]
    fused = np.where(sentinel_ids != 0, sentinel_ids, input_ids)
    fused = fused[fused >= 0].reshape((batch_size, -1))
    return np.concatenate([fused, np.full((batch_size, 1), eos_id, dtype=np.int32)], axis=-1)


def corruption_cases(vocab_size=32100, eos_id=1):
    """Exact inputs / labels for given masks, as HF's T5 collator builds them from a noise mask."""
    rng = np.random.default_rng(3)
    cases = []
    for length, density, mean in [(12, 0.15, 3.0), (40, 0.15, 3.0), (114, 0.3, 2.0), (568, 0.15, 3.0)]:
        mask = random_spans_noise_mask(length, density, mean, rng)
        ids = (np.arange(length, dtype=np.int32) * 7919) % 30000 + 2
        m = mask[None, :].astype(np.int8)
        inputs = filter_input_ids(ids[None, :], create_sentinel_ids(m, vocab_size), eos_id)[0]
        labels = filter_input_ids(ids[None, :], create_sentinel_ids((~mask)[None, :].astype(np.int8), vocab_size), eos_id)[0]
        cases.append({"tokens": ids.tolist(), "mask": mask.astype(int).tolist(),
                      "input_ids": inputs.tolist(), "labels": labels.tolist()})
    return {"vocab_size": vocab_size, "eos_id": eos_id, "cases": cases}


def main():
    densities = [0.15, 0.1, 0.25, 0.3, 0.5]
    means = [3.0, 1.0, 2.0, 2.5, 5.0]
    input_lengths = [4, 8, 10, 16, 31, 32, 64, 100, 128, 256, 512, 568, 1024]
    lengths = []
    for d in densities:
        for m in means:
            for n in input_lengths:
                t, g = compute_input_and_target_lengths(n, d, m)
                lengths.append([n, d, m, t, g])
    counts = []
    for d in densities:
        for m in means:
            for length in list(range(2, 80)) + [100, 114, 128, 256, 512, 568]:
                nt, ns = noise_span_counts(length, d, m)
                counts.append([length, d, m, nt, ns])
    hists = [span_histograms(568, 0.15, 3.0, 4000, 1), span_histograms(100, 0.3, 2.0, 4000, 2)]
    out = {
        "source": "tools/golden/data_spans.py (HF run_t5_mlm_flax.py compute_input_and_target_lengths; "
                  "T5 random_spans_noise_mask counts)",
        "numpy_version": np.__version__,
        "lengths_columns": ["inputs_length", "noise_density", "mean_noise_span_length", "tokens_length", "targets_length"],
        "lengths": lengths,
        "span_counts_columns": ["length", "noise_density", "mean_noise_span_length", "noise_tokens", "noise_spans"],
        "span_counts": counts,
        "span_length_histograms": hists,
        "corruption": corruption_cases(),
    }
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    path = os.path.join(root, "fixtures", "data", "t5_spans.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        # One row per line: small, and diffs stay readable.
        f.write("{\n")
        items = list(out.items())
        for i, (k, v) in enumerate(items):
            end = "," if i + 1 < len(items) else ""
            if isinstance(v, list) and v and isinstance(v[0], list):
                rows = ",\n".join("  " + json.dumps(r) for r in v)
                f.write(f"{json.dumps(k)}: [\n{rows}\n]{end}\n")
            else:
                f.write(f"{json.dumps(k)}: {json.dumps(v)}{end}\n")
        f.write("}\n")
    # The classic T5 setting: 512 input tokens come from 568 raw tokens, with 114 target tokens.
    assert compute_input_and_target_lengths(512, 0.15, 3.0) == (568, 114), compute_input_and_target_lengths(512, 0.15, 3.0)
    print(f"wrote {path}: {len(lengths)} length cases, {len(counts)} span-count cases")


if __name__ == "__main__":
    main()
