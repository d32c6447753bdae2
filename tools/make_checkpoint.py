#!/usr/bin/python3
"""Makes a random GPT-2 or GPT-1 checkpoint in Hugging Face layout (config.json,
model.safetensors, vocab.json, merges.txt, generation_config.json), for tests and
benchmarks: weights cannot be downloaded here, so the real loading code is exercised on
checkpoints with real structure and random values. Presets make full-size GPT-2 shapes
(124M, 1.5B) for benchmarks; those are never committed."""
import argparse
import json
import os

import torch

from safetensors_io import StreamingWriter
from tokenizer_files import write_gpt1_tokenizer, write_gpt2_tokenizer

PRESETS = {
    "gpt2-124m": dict(n_layer=12, n_embd=768, n_head=12, n_positions=1024, vocab=50257),
    "gpt2-355m": dict(n_layer=24, n_embd=1024, n_head=16, n_positions=1024, vocab=50257),
    "gpt2-1.5b": dict(n_layer=48, n_embd=1600, n_head=25, n_positions=1024, vocab=50257),
}
TORCH_DTYPE = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def tensor_specs(a):
    """(name, shape, init) in file order; init: ("normal", std) | ("ln_weight",) | ("bias",)."""
    e, inner = a.n_embd, a.n_inner or 4 * a.n_embd
    gpt2 = a.arch == "gpt2"
    embd = a.embd_std if a.embd_std is not None else a.std
    specs = [("wte.weight" if gpt2 else "tokens_embed.weight", (a.vocab, e), ("normal", embd)),
             ("wpe.weight" if gpt2 else "positions_embed.weight", (a.n_positions, e),
              ("normal", embd / 2))]
    for i in range(a.n_layer):
        h = f"h.{i}."
        specs += [(h + "ln_1.weight", (e,), ("ln_weight",)), (h + "ln_1.bias", (e,), ("bias",)),
                  (h + "attn.c_attn.weight", (e, 3 * e), ("normal", a.std)),
                  (h + "attn.c_attn.bias", (3 * e,), ("bias",)),
                  (h + "attn.c_proj.weight", (e, e), ("normal", a.std)),
                  (h + "attn.c_proj.bias", (e,), ("bias",)),
                  (h + "ln_2.weight", (e,), ("ln_weight",)), (h + "ln_2.bias", (e,), ("bias",)),
                  (h + "mlp.c_fc.weight", (e, inner), ("normal", a.std)),
                  (h + "mlp.c_fc.bias", (inner,), ("bias",)),
                  (h + "mlp.c_proj.weight", (inner, e), ("normal", a.std)),
                  (h + "mlp.c_proj.bias", (e,), ("bias",))]
        if a.attn_bias_buffers:
            # Old GPT-2 files carry the causal mask as buffers; loaders must skip them.
            specs += [(h + "attn.bias", (1, 1, a.n_positions, a.n_positions), ("mask",)),
                      (h + "attn.masked_bias", (), ("masked_bias",))]
    if gpt2:
        specs += [("ln_f.weight", (e,), ("ln_weight",)), ("ln_f.bias", (e,), ("bias",))]
    if a.untied_lm_head:
        specs += [("lm_head.weight", (a.vocab, e), ("normal", a.std))]
    return specs


def make_tensor(shape, init, gen):
    kind = init[0]
    if kind == "normal":
        return torch.randn(shape, generator=gen) * init[1]
    if kind == "ln_weight":  # near 1, not 1: a bug in the affine part must show
        return 1.0 + 0.1 * torch.randn(shape, generator=gen)
    if kind == "bias":
        return 0.05 * torch.randn(shape, generator=gen)
    if kind == "mask":
        n = shape[-1]
        return torch.tril(torch.ones(n, n)).view(shape)
    if kind == "masked_bias":
        return torch.tensor(-1e4)
    raise ValueError(kind)


def write_config(a, out):
    inner = a.n_inner
    if a.arch == "gpt2":
        cfg = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
               "activation_function": a.activation, "attn_pdrop": 0.1, "embd_pdrop": 0.1,
               "resid_pdrop": 0.1, "bos_token_id": a.vocab - 1, "eos_token_id": a.vocab - 1,
               "initializer_range": 0.02, "layer_norm_epsilon": 1e-5, "n_ctx": a.n_positions,
               "n_embd": a.n_embd, "n_head": a.n_head, "n_inner": inner, "n_layer": a.n_layer,
               "n_positions": a.n_positions, "scale_attn_weights": True,
               "scale_attn_by_inverse_layer_idx": a.inverse_layer_scale,
               "reorder_and_upcast_attn": False, "summary_type": "cls_index",
               "summary_use_proj": True, "torch_dtype": {"f32": "float32", "f16": "float16",
                                                         "bf16": "bfloat16"}[a.dtype],
               "summary_activation": None, "summary_first_dropout": 0.1,
               "summary_proj_to_labels": True,
               "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}},
               "transformers_version": "4.35.2", "use_cache": True, "vocab_size": a.vocab}
        if a.attn_bias_buffers:
            # Files with mask buffers predate these keys: leave them out, so that readers
            # must apply Hugging Face's defaults (scale_attn_weights true, n_inner 4*n_embd).
            for k in ("n_inner", "reorder_and_upcast_attn", "scale_attn_weights", "use_cache",
                      "torch_dtype", "transformers_version"):
                if k != "n_inner" or inner is None:
                    cfg.pop(k)
        with open(os.path.join(out, "generation_config.json"), "w") as f:
            json.dump({"_from_model_config": True, "bos_token_id": a.vocab - 1,
                       "eos_token_id": a.vocab - 1, "transformers_version": "4.35.2"}, f, indent=2)
    else:
        cfg = {"architectures": ["OpenAIGPTLMHeadModel"], "model_type": "openai-gpt",
               "afn": a.activation, "attn_pdrop": 0.1, "embd_pdrop": 0.1, "resid_pdrop": 0.1,
               "initializer_range": 0.02, "layer_norm_epsilon": 1e-5, "n_ctx": a.n_positions,
               "n_embd": a.n_embd, "n_head": a.n_head, "n_layer": a.n_layer,
               "n_positions": a.n_positions, "predict_special_tokens": True,
               "summary_activation": None, "summary_first_dropout": 0.1,
               "summary_proj_to_labels": True, "summary_type": "cls_index",
               "summary_use_proj": True, "torch_dtype": {"f32": "float32", "f16": "float16",
                                                         "bf16": "bfloat16"}[a.dtype],
               "transformers_version": "4.35.2", "vocab_size": a.vocab}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def make(a, edit=None):
    """Writes the checkpoint directory a.out. edit(name, float32 tensor) -> tensor, if given,
    may change a tensor (unprefixed name) before it is cast to the stored dtype."""
    os.makedirs(a.out, exist_ok=True)
    gen = torch.Generator().manual_seed(a.seed)
    dtype = TORCH_DTYPE[a.dtype]
    prefix = "transformer." if a.prefix else ""
    specs = tensor_specs(a)

    def stored_name(n):
        return n if n.startswith("lm_head") else prefix + n

    def stored_dtype(init):
        return torch.float32 if init[0] in ("mask", "masked_bias") else dtype

    writer = StreamingWriter(os.path.join(a.out, "model.safetensors"),
                             [(stored_name(n), s, stored_dtype(i)) for n, s, i in specs])
    for n, s, i in specs:
        t = make_tensor(s, i, gen)
        if edit is not None:
            t = edit(n, t)
        t = t.to(stored_dtype(i))
        if a.poke and n == a.poke[0]:
            t.view(-1)[int(a.poke[1])] = float(a.poke[2])
        writer.add(stored_name(n), t)
    writer.close()
    write_config(a, a.out)
    if a.arch == "gpt2":
        write_gpt2_tokenizer(a.out, a.vocab)
    else:
        write_gpt1_tokenizer(a.out, a.vocab)


def parser():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--preset", choices=sorted(PRESETS))
    p.add_argument("--arch", choices=["gpt2", "openai-gpt"], default="gpt2")
    p.add_argument("--n-layer", type=int, default=2)
    p.add_argument("--n-embd", type=int, default=64)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-positions", type=int, default=64)
    p.add_argument("--vocab", type=int, default=1000)
    p.add_argument("--n-inner", type=int, default=None)
    p.add_argument("--activation", default=None,
                   help="GPT-2: gelu_new|gelu|relu (default gelu_new); GPT-1: gelu|relu")
    p.add_argument("--dtype", choices=sorted(TORCH_DTYPE), default="f32")
    p.add_argument("--prefix", action=argparse.BooleanOptionalAction, default=False,
                   help="name tensors transformer.* (lm_head.weight never has the prefix)")
    p.add_argument("--attn-bias-buffers", action="store_true")
    p.add_argument("--untied-lm-head", action="store_true")
    p.add_argument("--inverse-layer-scale", action="store_true")
    p.add_argument("--std", type=float, default=0.25,
                   help="std of the weight matrices and token embedding (position embedding: "
                        "half). 0.25 gives small models logits with a per-position std of "
                        "about 2 nats, so greedy continuations vary and top-2 margins are "
                        "mostly well above F16 noise; 0.1 made GPT-1 repeat one token forever. "
                        "Presets use GPT-2's 0.02")
    p.add_argument("--embd-std", type=float, default=None,
                   help="std of the token embedding (tied LM head), default --std; position "
                        "embedding: half of it")
    p.add_argument("--poke", nargs=3, metavar=("TENSOR", "INDEX", "VALUE"),
                   help="set one element (e.g. a value beyond F16's range)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    return p


def main():
    a = parser().parse_args()
    if a.preset:
        for k, v in PRESETS[a.preset].items():
            setattr(a, k, v)
        a.std = 0.02
    if a.activation is None:
        a.activation = "gelu_new" if a.arch == "gpt2" else "gelu"
    make(a)


if __name__ == "__main__":
    main()
