#!/usr/bin/python3
"""Reads and writes .safetensors files from the format's specification (an 8-byte
little-endian header length, a JSON header of dtype/shape/data_offsets, then the data).
Debian packages no safetensors for Python, and an independent implementation keeps the
fixtures honest: nothing here shares code with the C++ reader."""
import json
import os
import struct

import torch

DTYPES = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}
FROM_NAME = {v: k for k, v in DTYPES.items()}


def write(path, tensors, metadata=None):
    """tensors: dict name -> torch.Tensor (written contiguous, in name order)."""
    header = {"__metadata__": metadata or {"format": "pt"}}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)  # the spec pads the header to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


class StreamingWriter:
    """Writes tensors one by one, for checkpoints too large to hold twice in memory: the
    header is computed from shapes first, then each tensor is produced and written."""

    def __init__(self, path, specs, metadata=None):
        # specs: list of (name, shape, torch dtype) in the order tensors will be written
        self.f = open(path, "wb")
        header = {"__metadata__": metadata or {"format": "pt"}}
        offset = 0
        self.order = []
        for name, shape, dtype in specs:
            n = 1
            for d in shape:
                n *= d
            size = n * torch.tensor([], dtype=dtype).element_size()
            header[name] = {"dtype": DTYPES[dtype], "shape": list(shape),
                            "data_offsets": [offset, offset + size]}
            self.order.append((name, tuple(shape), dtype))
            offset += size
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * ((8 - len(text) % 8) % 8)
        self.f.write(struct.pack("<Q", len(text)))
        self.f.write(text)
        self.next = 0

    def add(self, name, tensor):
        want = self.order[self.next]
        assert (name, tuple(tensor.shape), tensor.dtype) == want, (name, want)
        self.f.write(tensor.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
        self.next += 1

    def close(self):
        assert self.next == len(self.order), "not every tensor was written"
        self.f.close()


def read_header(path):
    """Returns (header dict, byte offset of the data section), checking the framing."""
    with open(path, "rb") as f:
        head = f.read(8)
        assert len(head) == 8, f"{path}: shorter than the 8-byte header length"
        (n,) = struct.unpack("<Q", head)
        text = f.read(n)
        assert len(text) == n, f"{path}: header runs past the end of the file"
    return json.loads(text), 8 + n


def read(path):
    """Returns dict name -> torch.Tensor (dtype as stored, values exact). Reads tensor by
    tensor, so memory peaks at the tensors plus one tensor's bytes, not twice the file."""
    header, base = read_header(path)
    size = os.path.getsize(path)
    out = {}
    with open(path, "rb") as f:
        for name, info in header.items():
            if name == "__metadata__":
                continue
            b, e = info["data_offsets"]
            dtype = FROM_NAME[info["dtype"]]
            n = 1
            for d in info["shape"]:
                n *= d
            item = torch.tensor([], dtype=dtype).element_size()
            assert 0 <= b <= e and base + e <= size and e - b == n * item, (name, info)
            t = torch.empty(info["shape"], dtype=dtype)
            if e > b:
                f.seek(base + b)
                view = memoryview(t.reshape(-1).view(torch.uint8).numpy())
                assert f.readinto(view) == e - b, name
            out[name] = t
    return out
