#!/usr/bin/python3
"""Makes the committed reference fixtures under tests/fixtures/models/: small random GPT-2
and GPT-1 checkpoints with real structure (tools/make_checkpoint.py), plus expected.json
holding the float64 PyTorch reference (tools/gpt_reference.py): per-token logprobs, greedy
continuations with their top-1/top-2 margins, and sliding-window scores. CI needs no
PyTorch: it compares the engine with these files.

    /usr/bin/python3 tools/make_fixtures.py            # rewrites every fixture
"""
import argparse
import json
import os
import random
import shutil

import torch

import make_checkpoint
from gpt_reference import Reference

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "models")

# name: checkpoint options (see make_checkpoint.py)
FIXTURES = {
    "gpt2-f32": dict(arch="gpt2", n_layer=2, n_embd=64, n_head=4, n_positions=64, vocab=1000,
                     dtype="f32", prefix=True),
    "gpt2-f16": dict(arch="gpt2", n_layer=2, n_embd=96, n_head=4, n_positions=64, vocab=999,
                     dtype="f16"),
    # One c_fc weight beyond F16's range: that matrix must stay F32 on the device.
    "gpt2-bf16": dict(arch="gpt2", n_layer=2, n_embd=80, n_head=5, n_positions=64, vocab=1000,
                      dtype="bf16", poke=["h.1.mlp.c_fc.weight", "1234", "66000"]),
    "gpt2-oldstyle-f32": dict(arch="gpt2", n_layer=3, n_embd=64, n_head=4, n_positions=64,
                              vocab=1000, dtype="f32", attn_bias_buffers=True,
                              activation="gelu", inverse_layer_scale=True, untied_lm_head=True,
                              prefix=True),
    "gpt2-relu-f32": dict(arch="gpt2", n_layer=2, n_embd=48, n_head=3, n_positions=64,
                          vocab=1000, n_inner=131, dtype="f32", activation="relu"),
    "openai-gpt-f32": dict(arch="openai-gpt", n_layer=2, n_embd=64, n_head=4, n_positions=64,
                           vocab=600, dtype="f32", prefix=True),
    "openai-gpt-f16": dict(arch="openai-gpt", n_layer=2, n_embd=64, n_head=4, n_positions=64,
                           vocab=600, dtype="f16"),
}
WINDOWS = {"gpt2-f32", "openai-gpt-f32"}


def checkpoint_args(name, opts, seed):
    a = make_checkpoint.parser().parse_args(["--out", os.path.join(OUT, name)])
    for k, v in opts.items():
        setattr(a, k, v)
    if a.activation is None:
        a.activation = "gelu_new" if a.arch == "gpt2" else "gelu"
    a.seed = seed
    return a


def cases(ref, rng, vocab, ctx):
    def ids(n):
        return [rng.randrange(vocab) for _ in range(n)]

    out = []
    for label, n, prompt_len in [("one_token", 1, 1), ("two_tokens", 2, 2), ("odd_17", 17, 9),
                                 ("odd_37", 37, 5), ("full_context", ctx, 20)]:
        seq = ids(n)
        prompt = seq[:prompt_len]
        greedy, margins = ref.greedy(prompt, min(24, ctx - prompt_len))
        out.append({"name": label, "ids": seq, "logprobs": ref.logprobs(seq) if n > 1 else [],
                    "greedy_prompt": prompt, "greedy": greedy, "greedy_margins": margins})
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="*", help="fixture names to remake")
    args = p.parse_args()
    torch.manual_seed(0)
    for i, (name, opts) in enumerate(sorted(FIXTURES.items())):
        if args.only and name not in args.only:
            continue
        d = os.path.join(OUT, name)
        shutil.rmtree(d, ignore_errors=True)
        a = checkpoint_args(name, opts, seed=100 + i)
        make_checkpoint.make(a)
        ref = Reference(d)
        rng = random.Random(1000 + i)
        expected = {"generator": "tools/make_fixtures.py", "dtype": a.dtype,
                    "cases": cases(ref, rng, a.vocab, a.n_positions)}
        if name in WINDOWS:
            seq = [rng.randrange(a.vocab) for _ in range(150)]
            expected["window_cases"] = [
                {"ids": seq, "stride": s, "logprobs": ref.window_logprobs(seq, s)}
                for s in (24, a.n_positions - 1)]
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump(expected, f)
        distinct = sorted({t for c in expected["cases"] for t in c["greedy"]})
        print(f"{name}: {len(distinct)} distinct greedy tokens; "
              f"min margin {min(m for c in expected['cases'] for m in c['greedy_margins']):.4f}")


if __name__ == "__main__":
    main()
