#!/usr/bin/python3
"""An independent GPT-2 / GPT-1 forward pass in PyTorch, written from the papers and the
Hugging Face checkpoint conventions (not from stagegate's C++), used to make the committed
reference fixtures and as the benchmark peer.

GPT-2 (Radford et al. 2019): pre-LN blocks  x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)),
final ln_f. GPT-1 (Radford et al. 2018): post-LN  n = ln_1(x + attn(x)); x = ln_2(n + mlp(n)),
no final norm. Hugging Face's Conv1D stores weights [in, out]: y = x @ W + b."""
import argparse
import json
import math
import os
import random

import torch

from safetensors_io import read


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


class Reference:
    def __init__(self, model_dir, compute_dtype=torch.float64):
        with open(os.path.join(model_dir, "config.json")) as f:
            self.cfg = json.load(f)
        c = self.cfg
        self.gpt2 = c["model_type"] == "gpt2"
        raw = read(os.path.join(model_dir, "model.safetensors"))
        # Stored values exactly (f16/bf16 included), then upcast for compute.
        w = {}
        for name in list(raw):
            t = raw.pop(name)  # one tensor at a time: no second copy of the whole file
            key = name[len("transformer."):] if name.startswith("transformer.") else name
            if key.endswith(".attn.bias") or key.endswith(".attn.masked_bias"):
                continue  # causal-mask buffers, not weights
            w[key] = t.to(compute_dtype)
        self.w = w
        self.dtype = compute_dtype
        self.n_layer = c["n_layer"]
        self.n_head = c["n_head"]
        self.n_embd = c["n_embd"]
        self.eps = c.get("layer_norm_epsilon", 1e-5)
        if self.gpt2:
            self.wte, self.wpe = w["wte.weight"], w["wpe.weight"]
            act = c.get("activation_function", "gelu_new")
            # transformers' ACT2FN: gelu_new / gelu_fast / gelu_pytorch_tanh are the tanh
            # approximation (same formula), "gelu" is the exact erf form.
            self.act = {"gelu_new": gelu_tanh, "gelu_fast": gelu_tanh,
                        "gelu_pytorch_tanh": gelu_tanh, "gelu": gelu_erf,
                        "relu": torch.relu}[act]
            self.scale = c.get("scale_attn_weights", True)
            self.inverse_layer = c.get("scale_attn_by_inverse_layer_idx", False)
        else:
            self.wte, self.wpe = w["tokens_embed.weight"], w["positions_embed.weight"]
            # modeling_openai.py's "gelu" is the tanh approximation.
            self.act = {"gelu": gelu_tanh, "relu": torch.relu}[c.get("afn", "gelu")]
            self.scale = True
            self.inverse_layer = False
        self.head = w.get("lm_head.weight", self.wte)

    def ln(self, x, name):
        mean = x.mean(-1, keepdim=True)
        var = ((x - mean) ** 2).mean(-1, keepdim=True)
        xhat = (x - mean) / torch.sqrt(var + self.eps)
        return xhat * self.w[name + ".weight"] + self.w[name + ".bias"]

    def linear(self, x, name):
        return x @ self.w[name + ".weight"] + self.w[name + ".bias"]

    def attn(self, x, i, cache):
        """x: [B, T, E]; cache: dict for layer i holding k, v [B, H, S, D] or None."""
        B, T, E = x.shape
        H, D = self.n_head, E // self.n_head
        q, k, v = self.linear(x, f"h.{i}.attn.c_attn").split(E, dim=-1)
        q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in (q, k, v))
        if cache is not None:
            if i in cache:
                k = torch.cat([cache[i][0], k], dim=2)
                v = torch.cat([cache[i][1], v], dim=2)
            cache[i] = (k, v)
        S = k.shape[2]
        s = q @ k.transpose(-1, -2)
        if self.scale:
            s = s / math.sqrt(D)
        if self.inverse_layer:
            s = s / float(i + 1)
        # Query t (absolute position S-T+t) sees keys 0..S-T+t.
        mask = torch.ones(T, S, dtype=torch.bool).tril(diagonal=S - T)
        s = s.masked_fill(~mask, float("-inf"))
        a = torch.softmax(s, dim=-1) @ v
        a = a.transpose(1, 2).reshape(B, T, E)
        return self.linear(a, f"h.{i}.attn.c_proj")

    def mlp(self, x, i):
        return self.linear(self.act(self.linear(x, f"h.{i}.mlp.c_fc")), f"h.{i}.mlp.c_proj")

    def logits(self, ids, cache=None, start=0):
        """ids: [B, T] long; positions start..start+T-1. Returns [B, T, V]."""
        T = ids.shape[1]
        assert start + T <= self.wpe.shape[0], "beyond the context: use window_logprobs"
        x = self.wte[ids] + self.wpe[start:start + T]
        for i in range(self.n_layer):
            if self.gpt2:
                x = x + self.attn(self.ln(x, f"h.{i}.ln_1"), i, cache)
                x = x + self.mlp(self.ln(x, f"h.{i}.ln_2"), i)
            else:
                n = self.ln(x + self.attn(x, i, cache), f"h.{i}.ln_1")
                x = self.ln(n + self.mlp(n, i), f"h.{i}.ln_2")
        if self.gpt2:
            x = self.ln(x, "ln_f")
        return x @ self.head.T

    @torch.inference_mode()
    def logprobs(self, ids):
        """log p(ids[i+1] | ids[..i]) for i = 0..n-2 (the first token is context only)."""
        t = torch.tensor([ids])
        lp = torch.log_softmax(self.logits(t)[0], dim=-1)
        return [lp[i, ids[i + 1]].item() for i in range(len(ids) - 1)]

    @torch.inference_mode()
    def greedy(self, prompt, n_new):
        """Greedy continuation with a KV cache; also returns each step's top-1/top-2 gap in
        log-probability, and checks every step against full recomputation."""
        cache = {}
        out, margins = [], []
        lg = self.logits(torch.tensor([prompt]), cache, 0)[0, -1]
        seq = list(prompt)
        for step in range(n_new):
            lp = torch.log_softmax(lg, dim=-1)
            top = torch.topk(lp, 2)
            nxt = int(top.indices[0])
            margins.append(float(top.values[0] - top.values[1]))
            full = self.logits(torch.tensor([seq]))[0, -1]
            diff = float((full - lg).abs().max())
            self.max_cache_diff = max(getattr(self, "max_cache_diff", 0.0), diff)
            assert diff <= 1e-9, f"KV-cache decode differs from recomputation by {diff}"
            out.append(nxt)
            seq.append(nxt)
            if step + 1 < n_new:
                lg = self.logits(torch.tensor([[nxt]]), cache, len(seq) - 1)[0, -1]
        return out, margins

    @torch.inference_mode()
    def window_logprobs(self, ids, stride):
        """Sliding-window scoring as in Hugging Face's perplexity guide: windows of the full
        context start every `stride` tokens; each scores only the tokens that no earlier window
        scored, with the earlier tokens of its window as context. The first token is context
        only, so the result has len(ids) - 1 entries: logprob of ids[i+1]."""
        n, ctx = len(ids), self.cfg["n_positions"]
        assert 0 < stride < ctx, "windows must overlap, or a token at a boundary goes unscored"
        result = [None] * (n - 1)
        prev_end = 0
        for begin in range(0, n, stride):
            end = min(begin + ctx, n)
            lp = torch.log_softmax(self.logits(torch.tensor([ids[begin:end]]))[0], dim=-1)
            for target in range(max(prev_end, begin + 1), end):
                result[target - 1] = lp[target - begin - 1, ids[target]].item()
            prev_end = end
            if end == n:
                break
        assert all(r is not None for r in result)
        return result


def self_check(ref, seed=0, n_prompts=4, n_new=16):
    """The reference checked against itself: KV-cache greedy equals full recomputation at
    every step (greedy() asserts it), and a batch of prompts gives each prompt's logits alone."""
    rng = random.Random(seed)
    V, ctx = ref.cfg["vocab_size"], ref.cfg["n_positions"]
    prompts = [[rng.randrange(V) for _ in range(n)] for n in (1, 2, 7, ctx - n_new)[:n_prompts]]
    distinct = []
    for p in prompts:
        out, _ = ref.greedy(p, n_new)
        distinct.append(len(set(out)))
    same = [[rng.randrange(V) for _ in range(13)] for _ in range(3)]
    with torch.inference_mode():
        batch = ref.logits(torch.tensor(same))
        alone = torch.cat([ref.logits(torch.tensor([s])) for s in same])
    return {"max_cache_vs_recompute": getattr(ref, "max_cache_diff", 0.0),
            "max_batch_vs_alone": float((batch - alone).abs().max()),
            "distinct_greedy_tokens": distinct}


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="checkpoint directory (config.json + model.safetensors)")
    p.add_argument("--ids", help="comma-separated token ids: print their logprobs")
    p.add_argument("--greedy", type=int, metavar="N", help="also print N greedy tokens after --ids")
    p.add_argument("--self-check", action="store_true",
                   help="KV-cache greedy vs recomputation, batch vs alone (float64)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    ref = Reference(a.model)
    if a.ids:
        ids = [int(t) for t in a.ids.split(",")]
        print(json.dumps({"logprobs": ref.logprobs(ids)}))
        if a.greedy:
            out, margins = ref.greedy(ids, a.greedy)
            print(json.dumps({"greedy": out, "greedy_margins": margins}))
    if a.self_check or not a.ids:
        print(json.dumps(self_check(ref, a.seed)))


if __name__ == "__main__":
    main()
