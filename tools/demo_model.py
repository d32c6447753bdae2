#!/usr/bin/python3
"""The demo family's trainable GPT-2 (pre-LN) and GPT-1 (post-LN) models in PyTorch, with
parameters named as Hugging Face names them so that export is a rename-free dump.

Written for training speed (fused attention from torch, float32); the independent forward
pass the engine is checked against stays in gpt_reference.py."""
import math

import torch
import torch.nn.functional as F
from torch import nn


class Conv1D(nn.Module):
    """Hugging Face's Conv1D: weight [in, out], y = x @ W + b."""

    def __init__(self, n_in, n_out, std):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * std)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(
            *x.shape[:-1], -1)


class Attention(nn.Module):
    def __init__(self, d, n_head, std, proj_std):
        super().__init__()
        self.n_head = n_head
        self.c_attn = Conv1D(d, 3 * d, std)
        self.c_proj = Conv1D(d, d, proj_std)

    def forward(self, x):
        b, t, d = x.shape
        h, hd = self.n_head, d // self.n_head
        q, k, v = self.c_attn(x).split(d, dim=2)
        q, k, v = (z.view(b, t, h, hd).transpose(1, 2).reshape(b * h, t, hd) for z in (q, k, v))
        # Scaled by 1/sqrt(head_dim) (GPT-2's scale_attn_weights), causal; the mask is added
        # inside the batched matmul and softmax runs in place: the elementwise passes over
        # the (b*h, t, t) scores, not the matmuls, bound these small models' speed on a CPU.
        w = torch.baddbmm(causal_bias(t, x.device), q, k.transpose(1, 2), alpha=hd ** -0.5)
        y = torch.bmm(torch.softmax(w, dim=-1), v)
        return self.c_proj(y.view(b, h, t, hd).transpose(1, 2).reshape(b, t, d))


_BIAS = {}


def causal_bias(t, device):
    """(t, t) additive mask: 0 on and below the diagonal, -inf above. Cached per size."""
    key = (t, str(device))
    if key not in _BIAS:
        _BIAS[key] = torch.full((t, t), float("-inf"), device=device).triu(1)
    return _BIAS[key]


class MLP(nn.Module):
    def __init__(self, d, std, proj_std):
        super().__init__()
        self.c_fc = Conv1D(d, 4 * d, std)
        self.c_proj = Conv1D(4 * d, d, proj_std)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, d, n_head, std, proj_std, eps, pre_ln):
        super().__init__()
        self.pre_ln = pre_ln
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.attn = Attention(d, n_head, std, proj_std)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.mlp = MLP(d, std, proj_std)

    def forward(self, x):
        if self.pre_ln:  # GPT-2
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))
        n = self.ln_1(x + self.attn(x))  # GPT-1
        return self.ln_2(n + self.mlp(n))


class GPT(nn.Module):
    """arch "gpt2": wte/wpe, pre-LN blocks, ln_f. arch "openai-gpt": tokens_embed/
    positions_embed, post-LN blocks, no final norm. The LM head is tied to the embedding."""

    def __init__(self, arch, vocab, n_ctx, d, n_layer, n_head, eps=1e-5):
        super().__init__()
        self.arch = arch
        std, proj_std = 0.02, 0.02 / math.sqrt(2 * n_layer)  # GPT-2's residual scaling
        emb = nn.Embedding(vocab, d)
        pos = nn.Embedding(n_ctx, d)
        nn.init.normal_(emb.weight, std=std)
        nn.init.normal_(pos.weight, std=0.01)
        pre_ln = arch == "gpt2"
        if pre_ln:
            self.wte, self.wpe = emb, pos
            self.ln_f = nn.LayerNorm(d, eps=eps)
        else:
            self.tokens_embed, self.positions_embed = emb, pos
        self.h = nn.ModuleList(Block(d, n_head, std, proj_std, eps, pre_ln) for _ in range(n_layer))

    def embedding(self):
        return self.wte if self.arch == "gpt2" else self.tokens_embed

    def forward(self, ids):
        emb = self.embedding()
        pos = self.wpe if self.arch == "gpt2" else self.positions_embed
        x = emb(ids) + pos(torch.arange(ids.shape[1], device=ids.device))
        for block in self.h:
            x = block(x)
        if self.arch == "gpt2":
            x = self.ln_f(x)
        return x @ emb.weight.t()

    def hf_state(self):
        """Tensors under the names Hugging Face uses (GPT-2 without prefix, like gpt2's own
        model.safetensors; GPT-1 the same way)."""
        return {k: v.detach().clone() for k, v in self.state_dict().items()}

    def n_params(self):
        return sum(p.numel() for p in self.parameters())
