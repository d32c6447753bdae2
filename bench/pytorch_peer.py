#!/usr/bin/python3
"""The benchmark peer: the same work as `stagegate bench` (random prompts, greedy decoding
with a KV cache, batch sizes) in PyTorch, float32, written for speed so that the comparison
is fair: batched matmuls (addmm with fused bias), a preallocated KV cache written in place,
inference mode, one torch thread and OpenBLAS's own threads (run it as bench/run_engine.sh
does: LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=2).
GPT-2 and GPT-1 checkpoints; weights loaded by tools/gpt_reference.py's loader. With
--device cuda the same code runs on a GPU (tools/device_check.sh's peer), timed after each
step's kernels finish.
Prints a table or, with --json, one object per batch size:
{"impl","batch","dtype","prefill_tok_s","decode_tok_s","ms_per_token_p50","ms_per_token_p99",
"peak_rss_mb","peak_device_mb"}. ms_per_token is per decode step (one token for each sequence of the batch)."""
import argparse
import ctypes
import json
import math
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from gpt_reference import Reference  # noqa: E402


def blas_set_threads(n):
    """OpenBLAS's thread count, per phase: small decode GEMMs can be faster on one thread
    than on two on a loaded 2-core machine. No-op (False) if the BLAS is not OpenBLAS."""
    for lib in ("libblas.so.3", "libopenblas.so.0"):
        try:
            ctypes.CDLL(lib).openblas_set_num_threads(int(n))
            return True
        except (OSError, AttributeError):
            continue
    return False


class FastGpt:
    """Float32 forward pass with a KV cache; same semantics as gpt_reference.Reference."""

    def __init__(self, ref):
        self.r = ref
        self.H = ref.n_head
        self.E = ref.n_embd
        self.D = self.E // self.H
        self.act = ref.act
        w = ref.w
        self.layers = []
        for i in range(ref.n_layer):
            p = f"h.{i}."
            scale = 1.0 / math.sqrt(self.D) if ref.scale else 1.0
            if ref.inverse_layer:
                scale /= i + 1
            self.layers.append(dict(
                ln1=(w[p + "ln_1.weight"], w[p + "ln_1.bias"]),
                ln2=(w[p + "ln_2.weight"], w[p + "ln_2.bias"]),
                attn=(w[p + "attn.c_attn.bias"], w[p + "attn.c_attn.weight"]),
                proj=(w[p + "attn.c_proj.bias"], w[p + "attn.c_proj.weight"]),
                fc=(w[p + "mlp.c_fc.bias"], w[p + "mlp.c_fc.weight"]),
                out=(w[p + "mlp.c_proj.bias"], w[p + "mlp.c_proj.weight"]),
                scale=scale))
        self.ln_f = (w["ln_f.weight"], w["ln_f.bias"]) if ref.gpt2 else None
        self.head_t = ref.head.t()  # [E, V] view; mm handles the transpose

    def ln(self, x, wb):
        return torch.nn.functional.layer_norm(x, (self.E,), wb[0], wb[1], self.r.eps)

    @staticmethod
    def lin(x, bw):
        return torch.addmm(bw[0], x, bw[1])

    def attn(self, h, L, B, T, pos, cache):
        q, k, v = self.lin(h, L["attn"]).view(B, T, 3, self.H, self.D).permute(2, 0, 3, 1, 4)
        kc, vc = cache
        kc[:, :, pos:pos + T] = k
        vc[:, :, pos:pos + T] = v
        S = pos + T
        s = torch.matmul(q, kc[:, :, :S].transpose(-1, -2)).mul_(L["scale"])
        if T > 1:
            mask = torch.ones(T, S, dtype=torch.bool, device=s.device).tril_(diagonal=S - T)
            s.masked_fill_(~mask, float("-inf"))
        a = torch.matmul(torch.softmax(s, dim=-1), vc[:, :, :S])
        return self.lin(a.transpose(1, 2).reshape(B * T, self.E), L["proj"])

    def step(self, ids, pos, cache):
        """ids [B, T] at positions pos..pos+T-1; cache: per layer (k, v) [B, H, ctx, D].
        Returns the last position's logits [B, V]."""
        B, T = ids.shape
        x = (self.r.wte[ids] + self.r.wpe[pos:pos + T]).view(B * T, self.E)
        for L, c in zip(self.layers, cache):
            if self.ln_f is not None:  # GPT-2: pre-LN
                x = x + self.attn(self.ln(x, L["ln1"]), L, B, T, pos, c)
                x = x + self.lin(self.act(self.lin(self.ln(x, L["ln2"]), L["fc"])), L["out"])
            else:  # GPT-1: post-LN
                n = self.ln(x + self.attn(x, L, B, T, pos, c), L["ln1"])
                x = self.ln(n + self.lin(self.act(self.lin(n, L["fc"])), L["out"]), L["ln2"])
        x = x.view(B, T, self.E)[:, -1]
        if self.ln_f is not None:
            x = self.ln(x, self.ln_f)
        return torch.mm(x, self.head_t)


def to_device(ref, dev):
    """Moves the reference's weights to `dev`, keeping tensors that are one (a tied head) one."""
    moved = {k: v.to(dev) for k, v in ref.w.items()}
    name_of = {id(v): k for k, v in ref.w.items()}
    for attr in ("wte", "wpe", "head"):
        t = getattr(ref, attr)
        setattr(ref, attr, moved[name_of[id(t)]] if id(t) in name_of else t.to(dev))
    ref.w = moved


@torch.inference_mode()
def run(model, batch, prompt_tokens, gen_tokens, vocab, seed, threads):
    dev = model.r.wte.device
    # A GPU runs asynchronously: a step is timed once its kernels have finished.
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (batch, prompt_tokens), generator=g).to(dev)
    ctx = prompt_tokens + gen_tokens
    dtype = model.r.wte.dtype
    cache = [(torch.zeros(batch, model.H, ctx, model.D, dtype=dtype, device=dev),
              torch.zeros(batch, model.H, ctx, model.D, dtype=dtype, device=dev))
             for _ in range(model.r.n_layer)]
    if threads[0]:
        blas_set_threads(threads[0])
    sync()
    t0 = time.perf_counter()
    logits = model.step(ids, 0, cache)
    sync()
    prefill = time.perf_counter() - t0
    if threads[1]:
        blas_set_threads(threads[1])
    steps = []
    nxt = logits.argmax(-1, keepdim=True)
    for i in range(gen_tokens - 1):
        t = time.perf_counter()
        logits = model.step(nxt, prompt_tokens + i, cache)
        nxt = logits.argmax(-1, keepdim=True)
        sync()
        steps.append(time.perf_counter() - t)
    return prefill, steps


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="checkpoint directory")
    p.add_argument("--prompt-tokens", type=int, default=128)
    p.add_argument("--gen-tokens", type=int, default=128,
                   help="tokens generated per sequence; the first comes from the prefill, so "
                        "gen-tokens - 1 decode steps are timed")
    p.add_argument("--batch", default="1,8", help="comma-separated batch sizes")
    p.add_argument("--runs", type=int, default=3, help="runs per batch size; medians reported")
    p.add_argument("--prefill-blas-threads", type=int, default=0,
                   help="OpenBLAS threads for the prefill (0: leave OPENBLAS_NUM_THREADS)")
    p.add_argument("--decode-blas-threads", type=int, default=0,
                   help="OpenBLAS threads for decode steps (0: leave OPENBLAS_NUM_THREADS)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu",
                   help="torch device: cpu (the lavapipe comparison) or cuda (a GPU's)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(1)
    ref = Reference(a.model, compute_dtype=torch.float32)
    if a.device != "cpu":
        to_device(ref, torch.device(a.device))
    if a.prompt_tokens + a.gen_tokens > ref.cfg["n_positions"]:
        sys.exit("prompt + generated tokens exceed the context")
    model = FastGpt(ref)
    threads = (a.prefill_blas_threads, a.decode_blas_threads)
    rows = []
    for batch in [int(b) for b in a.batch.split(",")]:
        run(model, batch, min(8, a.prompt_tokens), 4, ref.cfg["vocab_size"], 0, threads)  # warm-up
        results = [run(model, batch, a.prompt_tokens, a.gen_tokens, ref.cfg["vocab_size"],
                       a.seed + r, threads) for r in range(a.runs)]
        prefill = statistics.median(r[0] for r in results)
        decode = statistics.median(sum(r[1]) for r in results)
        steps = sorted(s * 1e3 for r in results for s in r[1])
        rows.append({"impl": "pytorch" if a.device == "cpu" else "pytorch-" + a.device,
                     "batch": batch, "dtype": "f32",
                     "prefill_tok_s": batch * a.prompt_tokens / prefill,
                     "decode_tok_s": batch * (a.gen_tokens - 1) / decode if decode else 0.0,
                     "ms_per_token_p50": statistics.median(steps) if steps else 0.0,
                     "ms_per_token_p99": steps[min(len(steps) - 1, int(0.99 * len(steps)))]
                     if steps else 0.0,
                     "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                     "peak_device_mb": torch.cuda.max_memory_allocated() / 2**20
                     if a.device.startswith("cuda") else 0.0})
    if a.json:
        print(json.dumps(rows))
    else:
        cols = list(rows[0])
        print("  ".join(f"{c:>16}" for c in cols))
        for r in rows:
            print("  ".join(f"{r[c]:>16.2f}" if isinstance(r[c], float) else f"{r[c]:>16}"
                            for c in cols))


if __name__ == "__main__":
    main()
