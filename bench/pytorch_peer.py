#!/usr/bin/python3
"""The benchmark peer: the same GPT-2 work as `stagegate bench` (random prompts, greedy
decoding with a KV cache, batch sizes) in PyTorch, float32, written for speed: batched
matmuls, a preallocated KV cache, inference mode, one torch thread with OpenBLAS's own two
(run it as bench/run_engine.sh does). Prints a table or, with --json, one object per batch:
{"impl","batch","dtype","prefill_tok_s","decode_tok_s","ms_per_token_p50","ms_per_token_p99",
"peak_rss_mb"}."""
import argparse
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


class FastGpt2:
    def __init__(self, ref):
        self.r = ref
        self.H = ref.n_head
        self.E = ref.n_embd
        self.D = self.E // self.H
        self.gelu = ref.act

    def ln(self, x, name):
        w = self.r.w
        return torch.nn.functional.layer_norm(x, (self.E,), w[name + ".weight"], w[name + ".bias"],
                                              self.r.eps)

    def lin(self, x, name):
        w = self.r.w
        return torch.addmm(w[name + ".bias"], x.reshape(-1, x.shape[-1]),
                           w[name + ".weight"]).view(*x.shape[:-1], -1)

    def step(self, ids, pos, cache):
        """ids [B, T] at positions pos..pos+T-1; cache: per layer (k, v) [B, H, ctx, D]."""
        B, T = ids.shape
        x = self.r.wte[ids] + self.r.wpe[pos:pos + T]
        for i in range(self.r.n_layer):
            h = self.ln(x, f"h.{i}.ln_1")
            q, k, v = self.lin(h, f"h.{i}.attn.c_attn").split(self.E, dim=-1)
            q, k, v = (t.view(B, T, self.H, self.D).transpose(1, 2) for t in (q, k, v))
            kc, vc = cache[i]
            kc[:, :, pos:pos + T] = k
            vc[:, :, pos:pos + T] = v
            S = pos + T
            s = (q @ kc[:, :, :S].transpose(-1, -2)) / math.sqrt(self.D)
            if T > 1:
                mask = torch.ones(T, S, dtype=torch.bool).tril(diagonal=S - T)
                s = s.masked_fill(~mask, float("-inf"))
            a = (torch.softmax(s, dim=-1) @ vc[:, :, :S]).transpose(1, 2).reshape(B, T, self.E)
            x = x + self.lin(a, f"h.{i}.attn.c_proj")
            h = self.ln(x, f"h.{i}.ln_2")
            x = x + self.lin(self.gelu(self.lin(h, f"h.{i}.mlp.c_fc")), f"h.{i}.mlp.c_proj")
        x = self.ln(x[:, -1], "ln_f")
        return x @ self.r.head.T


@torch.inference_mode()
def run(model, batch, prompt_tokens, gen_tokens, vocab, seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (batch, prompt_tokens), generator=g)
    ctx = prompt_tokens + gen_tokens
    cache = [(torch.zeros(batch, model.H, ctx, model.D), torch.zeros(batch, model.H, ctx, model.D))
             for _ in range(model.r.n_layer)]
    t0 = time.perf_counter()
    logits = model.step(ids, 0, cache)
    prefill = time.perf_counter() - t0
    steps = []
    nxt = logits.argmax(-1, keepdim=True)
    for i in range(gen_tokens - 1):
        t = time.perf_counter()
        logits = model.step(nxt, prompt_tokens + i, cache)
        nxt = logits.argmax(-1, keepdim=True)
        steps.append(time.perf_counter() - t)
    return prefill, steps


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", required=True)
    p.add_argument("--prompt-tokens", type=int, default=128)
    p.add_argument("--gen-tokens", type=int, default=128)
    p.add_argument("--batch", default="1,8")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(1)
    ref = Reference(a.model, compute_dtype=torch.float32)
    if not ref.gpt2:
        sys.exit("the peer benchmarks GPT-2 checkpoints")
    model = FastGpt2(ref)
    rows = []
    for batch in [int(b) for b in a.batch.split(",")]:
        results = [run(model, batch, a.prompt_tokens, a.gen_tokens, ref.cfg["vocab_size"], r)
                   for r in range(a.runs)]
        prefill = statistics.median(r[0] for r in results)
        decode = statistics.median(sum(r[1]) for r in results)
        steps = sorted(s * 1e3 for s in results[len(results) // 2][1])
        rows.append({"impl": "pytorch", "batch": batch, "dtype": "f32",
                     "prefill_tok_s": batch * a.prompt_tokens / prefill,
                     "decode_tok_s": batch * (a.gen_tokens - 1) / decode,
                     "ms_per_token_p50": steps[len(steps) // 2],
                     "ms_per_token_p99": steps[min(len(steps) - 1, int(0.99 * len(steps)))],
                     "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
    if a.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            print(r)


if __name__ == "__main__":
    main()
