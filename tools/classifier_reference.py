#!/usr/bin/python3
"""Makes the committed sequence-classifier fixtures under tests/fixtures/classifiers/: small
random checkpoints in the real Hugging Face layouts of BertForSequenceClassification,
RobertaForSequenceClassification and GPT2ForSequenceClassification (tensor names, nn.Linear
[out, in] weights, config keys, id2label with several labels, tokenizer files), plus
expected.json holding the float64 logits of an independent PyTorch forward pass written here
from the papers and the Hugging Face conventions (not from stagegate's C++). CI needs no
PyTorch (transformers is not installed here either). Deterministic.

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \\
        /usr/bin/python3 tools/classifier_reference.py

What the reference does, per layout (inputs: one unpadded sequence, attention mask all ones,
token_type_ids all zero, as a classifier sees a single text):
  * BERT (Devlin et al. 2019): e = LayerNorm(word[ids] + position[0..T-1] + token_type[0]);
    each layer, post-LN: a = LN(x + dense(attention(x))), x = LN(a + dense(act(dense(a))))
    with bidirectional attention; pooled = tanh(pooler.dense(x[0])); logits =
    classifier(pooled). hidden_act "gelu" is the exact erf form.
  * RoBERTa (Liu et al. 2019): BERT's encoder; positions numbered from padding_idx + 1
    (Hugging Face's create_position_ids_from_input_ids, done literally here); no pooler: the
    head is out_proj(tanh(dense(x[0]))) on <s>.
  * GPT-2 (tools/gpt_reference.py's forward): hidden states after ln_f; logits =
    score(h[last]) with `last` the last token that is not pad_token_id, score without bias.
expected.json: {"cases": [{"name", "ids", "logits"}], "causal_logits" (BERT only: the same
cases with a causal mask, so a test can show that the difference matters)}.
"""
import json
import math
import os
import random
import shutil

import torch

import make_checkpoint
from gpt_reference import Reference, gelu_erf, gelu_tanh
from safetensors_io import read, write
from tokenizer_files import write_gpt2_tokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "classifiers")
MAX_TOTAL_BYTES = 2 * 1000 * 1000

LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
ACT = {"gelu": gelu_erf, "gelu_new": gelu_tanh, "relu": torch.relu}
TORCH_DTYPE = {"f32": torch.float32, "f16": torch.float16}
STD = 0.25  # as make_checkpoint.py: logits of a few units, far above F16 noise


def randn(gen, *shape, std=STD):
    return torch.randn(shape, generator=gen) * std


def ln_params(gen, prefix, e):
    return {prefix + ".weight": 1.0 + 0.1 * torch.randn(e, generator=gen),
            prefix + ".bias": 0.05 * torch.randn(e, generator=gen)}


def linear_params(gen, prefix, out_f, in_f, bias=True):
    t = {prefix + ".weight": randn(gen, out_f, in_f)}  # nn.Linear: [out, in]
    if bias:
        t[prefix + ".bias"] = 0.05 * torch.randn(out_f, generator=gen)
    return t


# --- checkpoint writers ----------------------------------------------------------------------

def encoder_tensors(gen, base, o):
    e, inner = o["hidden"], o["inner"]
    t = {f"{base}.embeddings.word_embeddings.weight": randn(gen, o["vocab"], e),
         f"{base}.embeddings.position_embeddings.weight": randn(gen, o["max_pos"], e, std=STD / 2),
         f"{base}.embeddings.token_type_embeddings.weight":
             randn(gen, o["type_vocab"], e, std=STD / 2)}
    t.update(ln_params(gen, f"{base}.embeddings.LayerNorm", e))
    for i in range(o["layers"]):
        l = f"{base}.encoder.layer.{i}."
        for part in ("query", "key", "value"):
            t.update(linear_params(gen, l + "attention.self." + part, e, e))
        t.update(linear_params(gen, l + "attention.output.dense", e, e))
        t.update(ln_params(gen, l + "attention.output.LayerNorm", e))
        t.update(linear_params(gen, l + "intermediate.dense", inner, e))
        t.update(linear_params(gen, l + "output.dense", e, inner))
        t.update(ln_params(gen, l + "output.LayerNorm", e))
    return t


def label_config(labels, problem_type):
    cfg = {"id2label": {str(i): n for i, n in enumerate(labels)},
           "label2id": {n: i for i, n in enumerate(labels)}}
    if problem_type:
        cfg["problem_type"] = problem_type
    return cfg


def write_bert_vocab(out, size):
    """A WordPiece vocab.txt (BERT's format: one token per line, id = line number) of exactly
    `size` lines: the special tokens at BERT's ids, characters, continuations, words."""
    words = ("the of and to in is was he for it with as his on be at by had are but from or "
             "she an they which you one were all we her this there been their has have when "
             "who will more no if out so said what up its about into than them can only other "
             "new some could time these two may then do first any my now such like our over "
             "man me even most made after also did many before must through back years where "
             "much your way well down should because each just those people how too little "
             "state good very make world still own see men work long get here between both "
             "life being under never day same another know while last might us great old year "
             "off come since against go came right used take three").split()
    # bert-base-uncased's ids: [PAD] 0, [unused0..98], [UNK] 100, [CLS] 101, [SEP] 102.
    tokens = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]",
                                                                "[MASK]"]
    tokens += [chr(c) for c in range(ord("a"), ord("z") + 1)] + list(".,!?'-")
    tokens += ["##" + chr(c) for c in range(ord("a"), ord("z") + 1)]
    for w in words:
        if w not in tokens:
            tokens.append(w)
    k = 0
    while len(tokens) < size:
        tokens.append(f"##{words[k % len(words)]}{k // len(words)}")
        k += 1
    tokens = tokens[:size]
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(tokens) + "\n")


def write_roberta_tokenizer(out, vocab_size):
    """RoBERTa's tokenizer files: GPT-2's byte-level BPE with <s> <pad> </s> <unk> at ids 0..3
    (as roberta-base has them) and the GPT-2 tokens after them."""
    write_gpt2_tokenizer(out, vocab_size - 4)
    with open(os.path.join(out, "vocab.json"), encoding="utf-8") as f:
        gpt2 = json.load(f)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for tok, i in gpt2.items():
        if tok != "<|endoftext|>":
            vocab[tok] = i + 4
    vocab["<mask>"] = vocab_size - 1
    with open(os.path.join(out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)


def make_encoder(name, o, seed):
    d = os.path.join(OUT, name)
    gen = torch.Generator().manual_seed(seed)
    bert = o["arch"] == "bert"
    base = "bert" if bert else "roberta"
    t = encoder_tensors(gen, base, o)
    e, labels = o["hidden"], len(o["labels"])
    if bert:
        t.update(linear_params(gen, "bert.pooler.dense", e, e))
        t.update(linear_params(gen, "classifier", labels, e))
    else:
        t.update(linear_params(gen, "classifier.dense", e, e))
        t.update(linear_params(gen, "classifier.out_proj", labels, e))
    # Some transformers versions save the position-id buffer: loaders must skip it.
    t[f"{base}.embeddings.position_ids"] = torch.arange(o["max_pos"]).view(1, -1).to(torch.uint8)
    dtype = TORCH_DTYPE[o["dtype"]]
    write(os.path.join(d, "model.safetensors"),
          {k: (v if k.endswith("position_ids") else v.to(dtype)) for k, v in t.items()})
    cfg = {"architectures": ["BertForSequenceClassification" if bert else
                             "RobertaForSequenceClassification"],
           "model_type": o["arch"], "attention_probs_dropout_prob": 0.1,
           "classifier_dropout": None, "hidden_act": o["act"], "hidden_dropout_prob": 0.1,
           "hidden_size": e, "initializer_range": 0.02, "intermediate_size": o["inner"],
           "layer_norm_eps": o["eps"], "max_position_embeddings": o["max_pos"],
           "num_attention_heads": o["heads"], "num_hidden_layers": o["layers"],
           "pad_token_id": o["pad"], "position_embedding_type": "absolute",
           "torch_dtype": {"f32": "float32", "f16": "float16"}[o["dtype"]],
           "transformers_version": "4.35.2", "type_vocab_size": o["type_vocab"],
           "use_cache": True, "vocab_size": o["vocab"]}
    if not bert:
        cfg.update({"bos_token_id": 0, "eos_token_id": 2})
    cfg.update(label_config(o["labels"], o.get("problem_type")))
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    if bert:
        write_bert_vocab(d, o["vocab"])
    else:
        write_roberta_tokenizer(d, o["vocab"])


def make_gpt2(name, o, seed):
    d = os.path.join(OUT, name)
    a = make_checkpoint.parser().parse_args(["--out", d])
    for k in ("n_layer", "n_embd", "n_head", "n_positions", "vocab", "dtype"):
        setattr(a, k, o[k])
    a.activation, a.prefix, a.seed = o["act"], True, seed
    make_checkpoint.make(a)
    os.remove(os.path.join(d, "generation_config.json"))
    path = os.path.join(d, "model.safetensors")
    t = read(path)
    gen = torch.Generator().manual_seed(seed + 1)
    t["score.weight"] = randn(gen, len(o["labels"]), o["n_embd"]).to(TORCH_DTYPE[o["dtype"]])
    write(path, t)
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    cfg["architectures"] = ["GPT2ForSequenceClassification"]
    cfg["pad_token_id"] = o["pad"]
    cfg.update(label_config(o["labels"], o.get("problem_type")))
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


# --- the reference forward passes --------------------------------------------------------------

class EncoderReference:
    def __init__(self, d):
        with open(os.path.join(d, "config.json")) as f:
            self.c = json.load(f)
        self.base = "bert" if self.c["model_type"] == "bert" else "roberta"
        self.w = {k: v.to(torch.float64) for k, v in read(os.path.join(d, "model.safetensors")).items()}
        self.act = ACT[self.c["hidden_act"]]
        self.eps = self.c["layer_norm_eps"]

    def ln(self, x, name):
        mean = x.mean(-1, keepdim=True)
        var = ((x - mean) ** 2).mean(-1, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.w[name + ".weight"] + \
            self.w[name + ".bias"]

    def lin(self, x, name):
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def positions(self, ids):
        if self.base == "bert":
            return torch.arange(len(ids))
        pad = self.c["pad_token_id"]
        mask = (torch.tensor(ids) != pad).long()
        return torch.cumsum(mask, 0) * mask + pad

    def logits(self, ids, causal=False):
        b, c = self.base, self.c
        T, E, H = len(ids), c["hidden_size"], c["num_attention_heads"]
        D = E // H
        x = (self.w[f"{b}.embeddings.word_embeddings.weight"][ids] +
             self.w[f"{b}.embeddings.token_type_embeddings.weight"][torch.zeros(T, dtype=torch.long)] +
             self.w[f"{b}.embeddings.position_embeddings.weight"][self.positions(ids)])
        x = self.ln(x, f"{b}.embeddings.LayerNorm")
        for i in range(c["num_hidden_layers"]):
            l = f"{b}.encoder.layer.{i}."
            q, k, v = (self.lin(x, l + "attention.self." + p).view(T, H, D).transpose(0, 1)
                       for p in ("query", "key", "value"))
            s = q @ k.transpose(1, 2) / math.sqrt(D)
            if causal:
                s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
            ctx = (torch.softmax(s, -1) @ v).transpose(0, 1).reshape(T, E)
            a = self.ln(x + self.lin(ctx, l + "attention.output.dense"),
                        l + "attention.output.LayerNorm")
            x = self.ln(a + self.lin(self.act(self.lin(a, l + "intermediate.dense")),
                                     l + "output.dense"), l + "output.LayerNorm")
        first = x[0]
        if b == "bert":
            return self.lin(torch.tanh(self.lin(first, "bert.pooler.dense")), "classifier")
        return self.lin(torch.tanh(self.lin(first, "classifier.dense")), "classifier.out_proj")


class Gpt2ClassifierReference:
    def __init__(self, d):
        self.ref = Reference(d)
        self.score = self.ref.w["score.weight"]
        self.pad = self.ref.cfg.get("pad_token_id")
        # gpt_reference returns x @ head.T after ln_f: the identity gives the hidden states.
        self.ref.head = torch.eye(self.ref.n_embd, dtype=torch.float64)

    def logits(self, ids):
        h = self.ref.logits(torch.tensor([ids]))[0]
        last = max((i for i, t in enumerate(ids) if t != self.pad), default=0)
        return h[last] @ self.score.T


# --- fixtures ------------------------------------------------------------------------------------

FIXTURES = {
    # Detoxify's toxic-bert layout: six labels, multi-label, token types of size 2.
    "bert-f32": dict(kind="encoder", arch="bert", hidden=64, layers=2, heads=4, inner=96,
                     vocab=400, max_pos=48, type_vocab=2, pad=0, eps=1e-12, act="gelu",
                     labels=LABELS, problem_type="multi_label_classification", dtype="f32"),
    "roberta-f16": dict(kind="encoder", arch="roberta", hidden=48, layers=2, heads=3, inner=80,
                        vocab=1004, max_pos=42, type_vocab=1, pad=1, eps=1e-5, act="gelu",
                        labels=["non-toxic", "Toxic", "neutral"], dtype="f16"),
    "gpt2-classifier-f32": dict(kind="gpt2", n_layer=2, n_embd=64, n_head=4, n_positions=40,
                                vocab=1000, act="gelu_new", pad=999,
                                labels=["LABEL_0", "LABEL_1"], dtype="f32"),
}


def sequences(o, rng):
    """Token-id sequences: one token, short, odd lengths, and the whole context; for GPT-2
    also trailing padding (the score then reads an earlier token)."""
    if o["kind"] == "encoder":
        ctx = o["max_pos"] - (o["pad"] + 1 if o["arch"] == "roberta" else 0)
        low = 4  # never a special or padding id inside a sequence
        hi = o["vocab"]
    else:
        ctx, low, hi = o["n_positions"], 0, o["vocab"] - 1
    def ids(n):
        return [rng.randrange(low, hi) for _ in range(n)]
    out = [("one_token", ids(1)), ("two_tokens", ids(2)), ("odd_7", ids(7)),
           ("odd_17", ids(17)), ("full_context", ids(ctx))]
    if o["kind"] == "gpt2":
        out.append(("trailing_pad", ids(9) + [o["pad"]] * 3))
    return out


def total_bytes():
    return sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)


def main():
    os.makedirs(OUT, exist_ok=True)
    for i, (name, o) in enumerate(sorted(FIXTURES.items())):
        d = os.path.join(OUT, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        seed = 300 + i
        if o["kind"] == "encoder":
            make_encoder(name, o, seed)
            ref = EncoderReference(d)
        else:
            make_gpt2(name, o, seed)
            ref = Gpt2ClassifierReference(d)
        rng = random.Random(3000 + i)
        cases = []
        for label, seq in sequences(o, rng):
            with torch.inference_mode():
                cases.append({"name": label, "ids": seq, "logits": ref.logits(seq).tolist()})
        expected = {"generator": "tools/classifier_reference.py", "dtype": o["dtype"],
                    "cases": cases}
        if o["kind"] == "encoder" and o["arch"] == "bert":
            with torch.inference_mode():
                expected["causal_logits"] = [ref.logits(c["ids"], causal=True).tolist()
                                             for c in cases]
            gap = min(max(abs(a - b) for a, b in zip(c["logits"], cl))
                      for c, cl in zip(cases[1:], expected["causal_logits"][1:]))
            assert gap > 0.1, f"{name}: causal and bidirectional logits too close ({gap})"
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump(expected, f)
        flat = [x for c in cases for x in c["logits"]]
        print(f"{name}: {len(cases)} cases, logits {min(flat):.2f}..{max(flat):.2f}")
    total = total_bytes()
    print(f"total {total / 1e6:.2f} MB under {OUT}")
    assert total <= MAX_TOTAL_BYTES, "classifier fixtures must stay under 2 MB"


if __name__ == "__main__":
    main()
