#!/usr/bin/python3
"""Converts a Hugging Face PyTorch checkpoint (pytorch_model.bin, or the shards named by
pytorch_model.bin.index.json) in DIR into model.safetensors, which stagegate reads.
stagegate never unpickles: a pickle can run arbitrary code when loaded, so convert only
files you trust (with PyTorch >= 1.13's weights_only loader where available).

    /usr/bin/python3 tools/convert_to_safetensors.py DIR
"""
import argparse
import json
import os
import sys

import torch

from safetensors_io import write


def load(path):
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # an old PyTorch without weights_only
        print("warning: this PyTorch cannot restrict unpickling; load only trusted files",
              file=sys.stderr)
        return torch.load(path, map_location="cpu")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir")
    a = p.parse_args()
    index = os.path.join(a.dir, "pytorch_model.bin.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["pytorch_model.bin"]
    state = {}
    for name in files:
        state.update(load(os.path.join(a.dir, name)))
    # Tied weights share storage; safetensors stores each tensor once, so keep the first name
    # of each storage (Hugging Face drops lm_head.weight the same way when it is tied).
    seen, out = {}, {}
    for name, t in state.items():
        if not isinstance(t, torch.Tensor):
            continue
        key = (t.data_ptr(), t.shape, t.dtype)
        if key in seen and name == "lm_head.weight":
            continue
        seen[key] = name
        out[name] = t.contiguous()
    target = os.path.join(a.dir, "model.safetensors")
    tmp = target + ".tmp"
    write(tmp, out)
    os.replace(tmp, target)  # never leave a half-written file under the real name
    print(f"wrote {target}: {len(out)} tensors", file=sys.stderr)


if __name__ == "__main__":
    main()
