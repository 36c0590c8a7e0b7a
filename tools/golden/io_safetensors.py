#!/usr/bin/env python3
"""Golden safetensors fixtures for tslm's src/io, written by the reference library.

Writes fixtures/io/ (all small, committed; the TypeScript tests in test/io/ read them and never
need Python):

  f32.safetensors            F32 tensors of several shapes (0-d, zero-size, 1-d to 3-d, special
                             values), metadata {"format": "pt"}; written by
                             safetensors.torch.save_file. tslm must read it exactly AND, given the
                             same tensors, write a byte-identical file.
  f16.safetensors            F16 special values (+-0, subnormals, max, +-inf, NaNs) and a matrix.
  bf16.safetensors           BF16 likewise.
  f16_from_f32.safetensors   float32 values (rounding ties, overflow, subnormals) converted by
  bf16_from_f32.safetensors  PyTorch's .half() / .bfloat16(): tslm's floatDtype writer must match.
  int.safetensors            I64 (within int32), I32, U8 and BOOL tensors.
  int64_only.safetensors     I64 tensors only, for the byte-identity test of tslm's I64 writer.
  int64_big.safetensors      an I64 value outside int32: tslm must refuse it, naming the key.
  metadata.safetensors       several metadata entries.
  sharded/                   a 2-shard checkpoint (model-0000X-of-00002.safetensors +
                             model.safetensors.index.json) written by huggingface_hub's
                             save_torch_state_dict, the code transformers' save_pretrained uses.
  transformers_index.json    the index transformers' save_pretrained writes for that split.
  config_transformers.json   a config written as transformers writes config.json.
  python_floats.json         floats of many magnitudes as Python's json.dumps prints them.
  expected.json              for every tensor: shape, the float32 (or int) values PyTorch gives, and
                             for floats the exact float32 bit patterns (uint32), plus sha256 digests
                             of PyTorch's float32 conversion of all 65536 F16 and BF16 bit patterns.

Values are float32 bit patterns, so comparisons are exact. NaN payloads: PyTorch's bulk F16 ->
F32 conversion sets the quiet bit (x86 F16C behaviour); the digests record that.

Run from the repository root:
    .venv/bin/python tools/golden/io_safetensors.py
Reruns write identical files (fixed seed; safetensors 0.8 orders tensors deterministically;
metadata with more than one key is written in HashMap order, so metadata.safetensors may differ
byte-wise between runs, which no test depends on).
"""

import hashlib
import json
import os
import shutil

import numpy as np
import safetensors
import torch
from huggingface_hub import save_torch_state_dict, split_torch_state_dict_into_shards
from safetensors.torch import load_file, save_file

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(REPO_ROOT, "fixtures", "io")


def f32_bits(t: torch.Tensor) -> list:
    """uint32 bit patterns of a float32 tensor, row-major."""
    return [int(x) for x in t.contiguous().view(torch.int32).reshape(-1).numpy().astype(np.uint32)]


def readable(t: torch.Tensor) -> list:
    """Values for humans reading the JSON: floats as numbers, non-finite as strings."""
    out = []
    for x in t.reshape(-1).tolist():
        if isinstance(x, float):
            out.append("nan" if x != x else "inf" if x == float("inf") else "-inf" if x == float("-inf") else x)
        else:
            out.append(int(x))
    return out


def half_bits(bits: list, dtype) -> torch.Tensor:
    return torch.tensor(bits, dtype=torch.int32).to(torch.int16).view(dtype)


def main() -> None:
    torch.manual_seed(1234)
    # Only this script's outputs are replaced: io_pretrained.py writes into the same folder.
    os.makedirs(OUT, exist_ok=True)
    if os.path.isdir(os.path.join(OUT, "sharded")):
        shutil.rmtree(os.path.join(OUT, "sharded"))
    expected = {
        "generator": "tools/golden/io_safetensors.py",
        "torch_version": torch.__version__,
        "safetensors_version": safetensors.__version__,
        "files": {},
    }

    def record(name: str, tensors: dict, extra: dict = None) -> None:
        entry = {}
        for k, t in tensors.items():
            if t.is_floating_point():
                f = t.float()
                entry[k] = {"shape": list(t.shape), "file_dtype": str(t.dtype), "bits": f32_bits(f), "values": readable(f)}
            else:
                entry[k] = {"shape": list(t.shape), "file_dtype": str(t.dtype), "values": readable(t.to(torch.int64))}
        expected["files"][name] = {"tensors": entry, **(extra or {})}

    # --- F32: shapes incl. 0-d and zero-size, special values, a transposed (non-contiguous) source.
    base = torch.randn(3, 5)
    f32 = {
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 3),
        "specials": torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e-45, -1.1754942e-38, 3.4028235e38]),
        "vec": torch.randn(5),
        "mat": torch.randn(3, 4),
        "cube": torch.randn(2, 3, 4),
        # Key order: the reference sorts keys by bytes, so "layers.10" < "layers.2".
        "layers.2.weight": torch.randn(4, 2),
        "layers.10.weight": torch.randn(2),
        "transposed": base.t().contiguous(),
    }
    save_file(f32, os.path.join(OUT, "f32.safetensors"), metadata={"format": "pt"})
    record("f32.safetensors", f32, {"metadata": {"format": "pt"}, "transposed_base": {"shape": [3, 5], "bits": f32_bits(base)}})

    # --- F16 / BF16 special bit patterns.
    f16_bits = [0x0000, 0x8000, 0x3C00, 0xC000, 0x7BFF, 0xFBFF, 0x0400, 0x0001, 0x03FF, 0x8001, 0x83FF,
                0x7C00, 0xFC00, 0x7E00, 0xFE00, 0x7C01, 0x7DFF, 0x2E66, 0x3555]
    bf16_bits = [0x0000, 0x8000, 0x3F80, 0xC000, 0x7F7F, 0xFF7F, 0x0080, 0x0001, 0x007F, 0x8001,
                 0x7F80, 0xFF80, 0x7FC0, 0xFFC0, 0x7F81, 0x3DCD, 0x3EAB]
    f16 = {"specials": half_bits(f16_bits, torch.float16), "mat": torch.randn(2, 3).half(), "scalar": torch.tensor(-1.5, dtype=torch.float16)}
    bf16 = {"specials": half_bits(bf16_bits, torch.bfloat16), "mat": torch.randn(2, 3).bfloat16(), "scalar": torch.tensor(-1.5, dtype=torch.bfloat16)}
    save_file(f16, os.path.join(OUT, "f16.safetensors"))
    save_file(bf16, os.path.join(OUT, "bf16.safetensors"))
    record("f16.safetensors", f16, {"specials_source_bits": f16_bits})
    record("bf16.safetensors", bf16, {"specials_source_bits": bf16_bits})

    every = torch.arange(65536, dtype=torch.int32).to(torch.int16)
    expected["all_f16_to_f32_sha256"] = hashlib.sha256(every.view(torch.float16).float().numpy().tobytes()).hexdigest()
    expected["all_bf16_to_f32_sha256"] = hashlib.sha256(every.view(torch.bfloat16).float().numpy().tobytes()).hexdigest()

    # --- float32 -> F16 / BF16 as PyTorch rounds (for tslm's floatDtype writer option). No NaNs:
    # PyTorch's NaN results differ between its scalar and vectorised paths.
    tie16 = [1 + 2**-11, 1 + 3 * 2**-11, 65519.0, 65520.0, 70000.0, -1e10, 2**-25, 2**-25 * (1 + 2**-20), 3 * 2**-26, 2**-14 * (1 - 2**-12), 1e-10]
    tieb = [1 + 2**-8, 1 + 3 * 2**-8, 3.3895314e38, 3.4028235e38, -1e-39, 1e-45]
    half_src = {
        "ties": torch.tensor(tie16 + tieb + [0.0, -0.0, float("inf"), float("-inf")], dtype=torch.float32),
        "randn": torch.randn(4, 5) * 100,
        "tiny": torch.randn(7) * 1e-6,
        "scalar": torch.tensor(0.1),
    }
    save_file({k: t.half() for k, t in half_src.items()}, os.path.join(OUT, "f16_from_f32.safetensors"))
    save_file({k: t.bfloat16() for k, t in half_src.items()}, os.path.join(OUT, "bf16_from_f32.safetensors"))
    expected["half_source"] = {k: {"shape": list(t.shape), "bits": f32_bits(t)} for k, t in half_src.items()}
    # 2^20 float32 bit patterns spread over the whole space: p_i = i * 2654435761 mod 2^32, NaNs
    # replaced by 0 (test/io/safetensors.test.ts builds the same list).
    pat = ((np.arange(2**20, dtype=np.uint64) * 2654435761) % 2**32).astype(np.uint32)
    pf = torch.from_numpy(pat.view(np.float32).copy())
    pf[torch.isnan(pf)] = 0.0
    expected["patterns_to_f16_sha256"] = hashlib.sha256(pf.half().numpy().tobytes()).hexdigest()
    expected["patterns_to_bf16_sha256"] = hashlib.sha256(pf.bfloat16().view(torch.int16).numpy().tobytes()).hexdigest()

    # --- Integer types.
    ints = {
        "ids": torch.tensor([[0, 1, -1], [2147483647, -2147483648, 42]], dtype=torch.int64),
        "i32": torch.tensor([7, -7, 2147483647], dtype=torch.int32),
        "u8": torch.tensor([0, 1, 255], dtype=torch.uint8),
        "mask": torch.tensor([[True, False], [False, True]]),
        "empty_ids": torch.zeros(0, dtype=torch.int64),
    }
    save_file(ints, os.path.join(OUT, "int.safetensors"))
    record("int.safetensors", ints)
    i64 = {"position_ids": torch.arange(6, dtype=torch.int64).reshape(1, 6), "labels": torch.tensor([-100, 5, 2147483647, -2147483648], dtype=torch.int64)}
    save_file(i64, os.path.join(OUT, "int64_only.safetensors"))
    record("int64_only.safetensors", i64)
    big = {"ok": torch.tensor([1, 2], dtype=torch.int64), "too_big": torch.tensor([3, 2**40, 5], dtype=torch.int64)}
    save_file(big, os.path.join(OUT, "int64_big.safetensors"))
    expected["files"]["int64_big.safetensors"] = {"bad_key": "too_big", "bad_index": 1, "bad_value": 2**40}

    # --- Metadata with several entries.
    meta = {"format": "pt", "source": "tslm golden", "note": "caf\u00e9 \u2713"}
    save_file({"w": torch.ones(2)}, os.path.join(OUT, "metadata.safetensors"), metadata=meta)
    record("metadata.safetensors", {"w": torch.ones(2)}, {"metadata": meta})

    # --- A 2-shard checkpoint the way transformers writes one (max shard size in bytes).
    sd = {
        "model.embed.weight": torch.randn(8, 4),
        "model.layers.0.weight": torch.randn(4, 4),
        "model.layers.1.weight": torch.randn(4, 4),
        "lm_head.weight": torch.randn(8, 4),
    }
    shard_dir = os.path.join(OUT, "sharded")
    os.makedirs(shard_dir)
    save_torch_state_dict(sd, shard_dir, max_shard_size=200, metadata={"format": "pt"})
    files = sorted(os.listdir(shard_dir))
    assert "model.safetensors.index.json" in files and len([f for f in files if f.endswith(".safetensors")]) == 2, files
    record("sharded", sd, {"files": files, "max_shard_size": 200})

    # The index exactly as transformers' save_pretrained writes it for the same split
    # (modeling_utils.py: metadata total_parameters + total_size, json.dumps(indent=2, sort_keys=True)).
    split = split_torch_state_dict_into_shards(sd, max_shard_size=200, filename_pattern="model{suffix}.safetensors")
    index = {"metadata": {"total_parameters": sum(t.numel() for t in sd.values()), **split.metadata}, "weight_map": split.tensor_to_filename}
    with open(os.path.join(OUT, "transformers_index.json"), "w") as f:
        f.write(json.dumps(index, indent=2, sort_keys=True) + "\n")

    # config.json text as transformers writes it (json.dumps(indent=2, sort_keys=True) + "\n"):
    # floats in exponent and fixed ranges, nesting, non-ASCII, escapes, empty containers.
    config = {
        "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_embd": 64, "layer_norm_epsilon": 1e-05,
        "initializer_range": 0.02, "tiny": 1.5e-12, "huge": 3.25e+20, "neg": -0.000123, "ratio": 123.456,
        "rope_scaling": {"type": "llama3", "factor": 8.5, "low_freq_factor": 1.25}, "empty_list": [], "empty_dict": {},
        "flag": True, "none": None, "name": "caf\u00e9 \u2713 \U0001F600 \"q\" \\ \n\t\x7f", "id2label": {"0": "NEG", "1": "POS", "10": "X"},
        "big_int": 50257, "neg_int": -100, "nested": [[1, 2], {"b": 0.5, "a": [0.1, 0.2]}],
    }
    with open(os.path.join(OUT, "config_transformers.json"), "w") as f:
        f.write(json.dumps(config, indent=2, sort_keys=True) + "\n")

    # Python's float repr over many magnitudes (json.dumps uses it): tslm's stringifyHF must match.
    # Integer-valued floats are left out: JavaScript cannot tell 2.0 from 2 (documented in json.ts).
    rng = np.random.default_rng(7)
    floats = [1e-4, 9.999e-05, 0.0001234, 1e16 + 2, 1.5e16, 999999999999999.9, 123456789012345.6, 5e-324,
              1.7976931348623157e308, 0.1 + 0.2, -2.5e-07, 1e22 * 1.5, 3.14159, -0.5]
    for _ in range(300):
        x = float(rng.standard_normal() * 10.0 ** rng.integers(-30, 31))
        if x != int(x) if abs(x) < 1e300 else True:
            floats.append(x)
    floats = [x for x in floats if not float(x).is_integer()]
    with open(os.path.join(OUT, "python_floats.json"), "w") as f:
        f.write(json.dumps({"floats": floats}, indent=2, sort_keys=True) + "\n")

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")

    # Self-check: everything reloads through the reference reader with the recorded values.
    for name in ["f32.safetensors", "f16.safetensors", "bf16.safetensors", "int.safetensors"]:
        loaded = load_file(os.path.join(OUT, name))
        for k, e in expected["files"][name]["tensors"].items():
            t = loaded[k]
            assert list(t.shape) == e["shape"], (name, k)
            if "bits" in e:
                assert f32_bits(t.float()) == e["bits"], (name, k)
    for name in sorted(os.listdir(OUT)):
        p = os.path.join(OUT, name)
        print(f"{name}: {os.path.getsize(p) if os.path.isfile(p) else sorted(os.listdir(p))}")


if __name__ == "__main__":
    main()
