#!/usr/bin/python3
"""Converts a Hugging Face PyTorch checkpoint (pytorch_model.bin, or the shards named by
pytorch_model.bin.index.json) in DIR into DIR/model.safetensors, which stagegate reads.

stagegate never unpickles: loading a pickle can run arbitrary code. This script uses
PyTorch's restricted loader (torch.load(..., weights_only=True), PyTorch >= 1.13), which
refuses anything but tensors and plain containers. Only where the installed PyTorch lacks
it does it fall back to a full unpickle, after a warning: convert only files you trust.

    /usr/bin/python3 tools/convert_to_safetensors.py DIR
"""
import argparse
import inspect
import json
import os
import pickle
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import DTYPES, write  # noqa: E402  (our writer, from the format spec)


def warn(message):
    print(f"warning: {message}", file=sys.stderr)


def load(path):
    if "weights_only" in inspect.signature(torch.load).parameters:
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as e:
            sys.exit(f"error: {path} holds more than tensors, so PyTorch's restricted loader "
                     f"refused it (not converted):\n{e}")
    warn(f"PyTorch {torch.__version__} cannot restrict unpickling: {path} is loaded with a full "
         "unpickle, which runs any code it contains. Convert only files you trust.")
    return torch.load(path, map_location="cpu")


def is_mask_buffer(name):
    # The causal-mask buffers old GPT-2 files carry; stagegate skips them (not attn.c_attn.bias).
    return name.endswith(".attn.bias") or name.endswith(".attn.masked_bias")


def deduplicate(state):
    """safetensors stores each tensor once and forbids aliasing, so tensors that share storage
    (tied weights) keep one name, as Hugging Face's save_pretrained does. lm_head.weight is
    the name dropped when it is tied: stagegate ties the LM head to the token embedding
    whenever lm_head.weight is absent. Other shared tensors are written as separate copies."""
    out, kept = {}, {}
    # lm_head.weight last, so that the embedding's own name is the one kept.
    for name in sorted(state, key=lambda n: n == "lm_head.weight"):
        t = state[name]
        if not isinstance(t, torch.Tensor):
            warn(f"'{name}' is not a tensor ({type(t).__name__}); skipped")
            continue
        if t.dtype not in DTYPES:
            if is_mask_buffer(name):
                continue
            sys.exit(f"error: tensor '{name}' has dtype {t.dtype}; safetensors output here "
                     f"supports {', '.join(str(d) for d in DTYPES)}")
        key = (t.untyped_storage().data_ptr() if hasattr(t, "untyped_storage")
               else t.storage().data_ptr(), t.storage_offset(), tuple(t.shape), tuple(t.stride()),
               t.dtype)
        if key in kept and name == "lm_head.weight":
            print(f"lm_head.weight is tied to {kept[key]}: not stored (stagegate ties it)",
                  file=sys.stderr)
            continue
        kept.setdefault(key, name)
        out[name] = t.contiguous()
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", help="checkpoint directory holding pytorch_model.bin")
    a = p.parse_args()
    index = os.path.join(a.dir, "pytorch_model.bin.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    elif os.path.exists(os.path.join(a.dir, "pytorch_model.bin")):
        files = ["pytorch_model.bin"]
    else:
        sys.exit(f"error: {a.dir} holds no pytorch_model.bin or pytorch_model.bin.index.json")
    state = {}
    for name in files:
        loaded = load(os.path.join(a.dir, name))
        if isinstance(loaded, dict) and "state_dict" in loaded and len(loaded) <= 3:
            loaded = loaded["state_dict"]  # some training scripts wrap the weights
        if not isinstance(loaded, dict):
            sys.exit(f"error: {name} holds a {type(loaded).__name__}, not a state_dict")
        state.update(loaded)
    out = deduplicate(state)
    target = os.path.join(a.dir, "model.safetensors")
    tmp = target + ".tmp"
    write(tmp, out)
    os.replace(tmp, target)  # never leave a half-written file under the real name
    print(f"wrote {target}: {len(out)} tensors", file=sys.stderr)


if __name__ == "__main__":
    main()
