#!/usr/bin/python3
"""Trains the demo's toxicity classifier: a small BertForSequenceClassification, in Hugging
Face's exact layout and computation (post-LN encoder, GELU erf, token type 0, tanh pooler on
[CLS], softmax over two labels), with its own WordPiece vocabulary, on the demo corpus's
labelled lines, and writes it to models/demo/toxicity-classifier/ with a model card, plus
tests/fixtures/toxicity/demo_classifier_logits.json (its logits on a few texts, as token ids)
so that stagegate's engine can be checked against it.

Data (the demo corpus files are read, never rewritten):
  toxic     the synthetic forum's insult lines (corpus/unfiltered.train.jsonl.zst; a line is
            toxic when it fills one of tools/demo_corpus.py's TOXIC templates),
  clean     the forum's other lines and thread titles, and lines of corpus/clean.train.
A tenth of the word list is held out: no training line uses those words, so the card can
report accuracy on insults the model has never seen next to accuracy on new threads made
by the corpus generator with another seed (tools/demo_corpus.py's forum(), seed 7) and on
clean.heldout lines.

  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=1 \\
    /usr/bin/python3 tools/train_toxicity_classifier.py
(needs `npm ci` in tools/demo_data/ for the word list, as tools/demo_corpus.py does)"""
import hashlib
import json
import math
import os
import random
import re
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_corpus  # noqa: E402
import safetensors_io  # noqa: E402
import wordpiece  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CORPUS = os.path.join(ROOT, "models", "demo", "corpus")
OUT = os.path.join(ROOT, "models", "demo", "toxicity-classifier")
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "toxicity", "demo_classifier_logits.json")

SEED = 2019
EVAL_SEED = 7  # the forum generator's seed for the held-out threads
VOCAB_SIZE = 3000
HIDDEN, LAYERS, HEADS, INTERMEDIATE = 64, 2, 4, 256
MAX_POSITIONS = 128
TRAIN_LEN = 48  # tokens per training example, [CLS] and [SEP] included
CLEAN_LINES = 8000
HELDOUT_WORD_SHARE = 0.1
EPOCHS, BATCH, LR = 4, 32, 1e-3
LABELS = ["non-toxic", "toxic"]
LN_EPS = 1e-12


def log(msg):
    print(f"[train_toxicity_classifier] {msg}", file=sys.stderr, flush=True)


def read_docs(name):
    raw = subprocess.run(["zstd", "-dc", os.path.join(CORPUS, name + ".jsonl.zst")],
                         capture_output=True, check=True).stdout.decode("utf-8")
    return [json.loads(l) for l in raw.splitlines()]


def template_patterns():
    """Each TOXIC template as a regex capturing the listed word."""
    out = []
    for t in demo_corpus.TOXIC:
        p = re.escape(t).replace(re.escape("{w}"), "(?P<w>.+?)").replace(re.escape("{u}"),
                                                                           r"user\d+")
        out.append(re.compile("^" + p + "$"))
    return out


def forum_lines(docs):
    """(text, label, insult word or None) for every forum line, user prefix kept."""
    patterns = template_patterns()
    out = []
    for d in docs:
        lines = d["text"].splitlines()
        out.append((lines[0], 0, None))  # the thread title
        for line in lines[1:]:
            text = line.split(": ", 1)[1]
            word = None
            for p in patterns:
                m = p.match(text)
                if m:
                    word = m.group("w")
                    break
            if word is None and text not in demo_corpus.NICE:
                raise SystemExit(f"train_toxicity_classifier: unlabelled forum line {line!r}")
            out.append((line, 1 if word else 0, word))
    return out


def vary(rng, line):
    """Half the forum lines lose their 'userN: ' prefix: scored text is often a bare sentence."""
    if line.startswith("user") and rng.random() < 0.5:
        return line.split(": ", 1)[1]
    return line


def clean_lines(docs, rng, n):
    lines = [l.strip() for d in docs for l in d["text"].splitlines() if len(l.strip()) >= 8]
    rng.shuffle(lines)
    return lines[:n]


class Bert(torch.nn.Module):
    """BertForSequenceClassification's computation, parameter names as Hugging Face's."""

    def __init__(self, vocab):
        super().__init__()
        L = torch.nn.Linear
        self.word = torch.nn.Embedding(vocab, HIDDEN)
        self.pos = torch.nn.Embedding(MAX_POSITIONS, HIDDEN)
        self.token_type = torch.nn.Embedding(2, HIDDEN)
        self.emb_ln = torch.nn.LayerNorm(HIDDEN, eps=LN_EPS)
        self.layers = torch.nn.ModuleList()
        for _ in range(LAYERS):
            layer = torch.nn.ModuleDict({
                "q": L(HIDDEN, HIDDEN), "k": L(HIDDEN, HIDDEN), "v": L(HIDDEN, HIDDEN),
                "o": L(HIDDEN, HIDDEN), "ln1": torch.nn.LayerNorm(HIDDEN, eps=LN_EPS),
                "up": L(HIDDEN, INTERMEDIATE), "down": L(INTERMEDIATE, HIDDEN),
                "ln2": torch.nn.LayerNorm(HIDDEN, eps=LN_EPS)})
            self.layers.append(layer)
        self.pooler = L(HIDDEN, HIDDEN)
        self.classifier = L(HIDDEN, len(LABELS))
        for m in self.modules():  # BERT's initialization
            if isinstance(m, (torch.nn.Linear, torch.nn.Embedding)):
                torch.nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, torch.nn.Linear):
                torch.nn.init.zeros_(m.bias)

    def forward(self, ids, mask, dropout=0.0):
        b, t = ids.shape
        pos = torch.arange(t).unsqueeze(0)
        x = self.word(ids) + self.pos(pos) + self.token_type(torch.zeros_like(ids))
        x = F.dropout(self.emb_ln(x), dropout, self.training)
        # Padded keys get the dtype's minimum added, as Hugging Face's extended mask does.
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        hd = HIDDEN // HEADS
        for layer in self.layers:
            def heads(y):
                return y.view(b, t, HEADS, hd).transpose(1, 2)
            q, k, v = heads(layer["q"](x)), heads(layer["k"](x)), heads(layer["v"](x))
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + bias, dim=-1)
            att = F.dropout(att, dropout, self.training)
            ctx = (att @ v).transpose(1, 2).reshape(b, t, HIDDEN)
            x = layer["ln1"](x + F.dropout(layer["o"](ctx), dropout, self.training))
            h = layer["down"](F.gelu(layer["up"](x)))  # GELU erf: BERT's "gelu"
            x = layer["ln2"](x + F.dropout(h, dropout, self.training))
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return self.classifier(F.dropout(pooled, dropout, self.training))

    def hf_state(self):
        s = {"bert.embeddings.word_embeddings.weight": self.word.weight,
             "bert.embeddings.position_embeddings.weight": self.pos.weight,
             "bert.embeddings.token_type_embeddings.weight": self.token_type.weight,
             "bert.embeddings.LayerNorm.weight": self.emb_ln.weight,
             "bert.embeddings.LayerNorm.bias": self.emb_ln.bias,
             "bert.pooler.dense.weight": self.pooler.weight,
             "bert.pooler.dense.bias": self.pooler.bias,
             "classifier.weight": self.classifier.weight,
             "classifier.bias": self.classifier.bias}
        names = {"q": "attention.self.query", "k": "attention.self.key",
                 "v": "attention.self.value", "o": "attention.output.dense",
                 "ln1": "attention.output.LayerNorm", "up": "intermediate.dense",
                 "down": "output.dense", "ln2": "output.LayerNorm"}
        for i, layer in enumerate(self.layers):
            for short, hf in names.items():
                s[f"bert.encoder.layer.{i}.{hf}.weight"] = layer[short].weight
                s[f"bert.encoder.layer.{i}.{hf}.bias"] = layer[short].bias
        return {k: v.detach().clone() for k, v in s.items()}

    def n_params(self):
        return sum(p.numel() for p in self.parameters())


def encode(tok, text, length):
    ids = tok.encode(text)[:length - 2]
    return [tok.vocab["[CLS]"]] + ids + [tok.vocab["[SEP]"]]


def batch_tensors(tok, texts, length):
    rows = [encode(tok, t, length) for t in texts]
    width = max(len(r) for r in rows)
    pad = tok.vocab["[PAD]"]
    ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    return ids, mask


def probabilities(model, tok, texts):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), 256):
            ids, mask = batch_tensors(tok, texts[i:i + 256], MAX_POSITIONS)
            out += torch.softmax(model(ids, mask), -1)[:, 1].tolist()
    return out


def metrics(probs, labels):
    tp = sum(1 for p, l in zip(probs, labels) if p >= 0.5 and l)
    fp = sum(1 for p, l in zip(probs, labels) if p >= 0.5 and not l)
    fn = sum(1 for p, l in zip(probs, labels) if p < 0.5 and l)
    right = sum(1 for p, l in zip(probs, labels) if (p >= 0.5) == bool(l))
    return {"n": len(labels), "toxic": sum(labels), "accuracy": round(right / len(labels), 4),
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None}


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def config_json(vocab_size, tok):
    return {"architectures": ["BertForSequenceClassification"], "model_type": "bert",
            "attention_probs_dropout_prob": 0.1, "classifier_dropout": None,
            "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": HIDDEN,
            "initializer_range": 0.02, "intermediate_size": INTERMEDIATE,
            "layer_norm_eps": LN_EPS, "max_position_embeddings": MAX_POSITIONS,
            "num_attention_heads": HEADS, "num_hidden_layers": LAYERS,
            "pad_token_id": tok.vocab["[PAD]"], "position_embedding_type": "absolute",
            "type_vocab_size": 2, "vocab_size": vocab_size, "torch_dtype": "float32",
            "id2label": {str(i): l for i, l in enumerate(LABELS)},
            "label2id": {l: i for i, l in enumerate(LABELS)},
            "problem_type": "single_label_classification"}


FIXTURE_TEXTS = ["you are a idiot and everyone knows it.", "Thanks, that helped a lot.",
                 "user4081: shut up, you muppet.",
                 "In the beginning God created the heaven and the earth.",
                 "what a ridiculous take, go away.", "Welcome to the forum!"]


def main():
    started = time.time()
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # tiny matrices: more threads only wait on each other
    rng = random.Random(SEED)

    with open(demo_corpus.WORDS, encoding="utf-8") as f:
        words = sorted({w for w in json.load(f) if w.isascii() and 2 < len(w) < 20})
    held_words = set(random.Random(SEED).sample(words, round(len(words) * HELDOUT_WORD_SHARE)))

    forum = forum_lines(read_docs("unfiltered.train"))
    # Each forum line twice (with and without its prefix, as vary() draws): the forum is
    # small next to the clean lines.
    kept = [(t, y) for t, y, w in forum if w not in held_words]
    dropped = len(forum) - len(kept)
    train = [(vary(rng, t), y) for t, y in kept + kept]
    train += [(t, 0) for t in clean_lines(read_docs("clean.train"), rng, CLEAN_LINES)]
    rng.shuffle(train)
    log(f"{len(train)} training lines ({sum(y for _, y in train)} toxic; {dropped} forum lines "
        f"with held-out words left out)")

    tok = wordpiece.WordPiece(wordpiece.build_vocab([t for t, _ in train], VOCAB_SIZE))
    log(f"vocabulary: {len(tok.tokens)} entries")

    # Held-out sets: new threads (another seed), their insults using held-out words only,
    # and clean.heldout lines.
    eval_rng = random.Random(EVAL_SEED)
    new_docs, _, _ = demo_corpus.forum(eval_rng)
    new_threads = [(vary(eval_rng, t), y) for t, y, w in forum_lines(new_docs)]
    unseen = [(vary(eval_rng, t), y) for t, y, w in forum_lines(new_docs) if w in held_words]
    clean_held = [(t, 0) for t in clean_lines(read_docs("clean.heldout"), eval_rng, 2000)]

    model = Bert(len(tok.tokens))
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    steps = EPOCHS * math.ceil(len(train) / BATCH)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 100) * max(0.0, 1 - s / steps))
    step = 0
    for epoch in range(EPOCHS):
        model.train()
        order = list(range(len(train)))
        random.Random(SEED + epoch).shuffle(order)
        total = 0.0
        for i in range(0, len(order), BATCH):
            chunk = [train[j] for j in order[i:i + BATCH]]
            ids, mask = batch_tensors(tok, [t for t, _ in chunk], TRAIN_LEN)
            loss = F.cross_entropy(model(ids, mask, dropout=0.1), torch.tensor([y for _, y in chunk]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(chunk)
            step += 1
            if step % 100 == 0:
                log(f"step {step}/{steps}: loss {loss.item():.4f} ({time.time() - started:.0f} s)")
        log(f"epoch {epoch + 1}/{EPOCHS}: mean loss {total / len(train):.4f} "
            f"({time.time() - started:.0f} s)")

    results = {}
    for name, rows in (("new_threads", new_threads), ("unseen_words", unseen),
                       ("clean_heldout", clean_held)):
        results[name] = metrics(probabilities(model, tok, [t for t, _ in rows]),
                                [y for _, y in rows])
        log(f"{name}: {results[name]}")

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(tok.tokens) + "\n")
    write_json(os.path.join(OUT, "tokenizer_config.json"),
               {"tokenizer_class": "BertTokenizer", "do_lower_case": True,
                "model_max_length": MAX_POSITIONS, "cls_token": "[CLS]", "sep_token": "[SEP]",
                "pad_token": "[PAD]", "unk_token": "[UNK]", "mask_token": "[MASK]"})
    write_json(os.path.join(OUT, "config.json"), config_json(len(tok.tokens), tok))
    weights = os.path.join(OUT, "model.safetensors")
    safetensors_io.write(weights + ".tmp", model.hf_state(), {"format": "pt"})
    os.replace(weights + ".tmp", weights)

    model.eval()
    cases = []
    with torch.no_grad():
        for text in FIXTURE_TEXTS:
            ids = encode(tok, text, MAX_POSITIONS)
            logits = model(torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long))[0]
            cases.append({"text": text, "ids": ids, "logits": [round(x, 6) for x in logits.tolist()],
                          "p_toxic": round(torch.softmax(logits, -1)[1].item(), 6)})
    write_json(FIXTURE, {"model": "models/demo/toxicity-classifier",
                         "weights_sha256": sha256_file(weights),
                         "made_by": "tools/train_toxicity_classifier.py", "cases": cases})

    facts = {"parameters": model.n_params(), "vocab_size": len(tok.tokens),
             "train_lines": len(train), "train_toxic": sum(y for _, y in train),
             "heldout_words": len(held_words), "words": len(words), "epochs": EPOCHS,
             "batch": BATCH, "lr": LR, "seed": SEED, "eval_seed": EVAL_SEED,
             "wall_time_s": round(time.time() - started), "results": results,
             "weights_sha256": sha256_file(weights)}
    write_card(facts)
    log(f"done in {facts['wall_time_s']} s: {json.dumps(results)}")


def write_card(f):
    r = f["results"]

    def row(name, what):
        m = r[name]
        def cell(x):
            return "—" if x is None else x
        return (f"| {what} | {m['n']} ({m['toxic']} toxic) | {m['accuracy']} | "
                f"{cell(m['precision'])} | {cell(m['recall'])} |\n")
    text = f"""# stagegate demo / toxicity-classifier

A tiny `BertForSequenceClassification` (Hugging Face layout, F32) that tells the demo forum's
insults from clean text, for `--scorer classifier:models/demo/toxicity-classifier` in the demo.
Made by `tools/train_toxicity_classifier.py`; not a useful toxicity classifier.

| | |
| --- | --- |
| architecture | BERT encoder: {LAYERS} layers, {HIDDEN} wide, {HEADS} heads, intermediate {INTERMEDIATE}, {MAX_POSITIONS} positions, post-LN, GELU (erf), tanh pooler on [CLS] |
| parameters | {f['parameters']:,} |
| tokenizer | WordPiece, lower-cased, {f['vocab_size']} entries built from the training lines (`vocab.txt`; `tools/wordpiece.py`) |
| labels | 0 `non-toxic`, 1 `toxic` (softmax, `single_label_classification`); the score is p(`toxic`) |
| input | `[CLS] text [SEP]`, token type 0 |
| training data | {f['train_lines']:,} lines, {f['train_toxic']:,} toxic: the synthetic forum's lines, each twice (`corpus/unfiltered.train`; toxic = fills one of `tools/demo_corpus.py`'s insult templates) and {CLEAN_LINES:,} lines of `corpus/clean.train`; half the forum lines without their `userN:` prefix. Lines insulting with {f['heldout_words']} of the word list's {f['words']} words (10 %, seed {f['seed']}) are left out |
| recipe | {f['epochs']} epochs, batch {f['batch']}, AdamW lr {f['lr']} (warm-up 100 steps, linear decay), weight decay 0.01, dropout 0.1, seed {f['seed']}; {f['wall_time_s']} s on one thread of a shared 2-core machine |
| weights SHA-256 | `{f['weights_sha256']}` |

## Held-out results (threshold 0.5)

| set | lines | accuracy | precision | recall |
| --- | --- | --- | --- | --- |
{row('new_threads', f"new forum threads (`demo_corpus.forum`, seed {f['eval_seed']})")}{row('unseen_words', "their insults with held-out words only")}{row('clean_heldout', "`corpus/clean.heldout` lines")}
**Caveat.** The held-out threads come from the same six insult templates, the same ten
friendly lines and the same word list as the training data, and the demo's audit judges
stage 4's output, which learned the same forum. Scores here say the classifier learned the
templates; they say nothing about toxicity in other words. The sentence frame gives an
insult away: insults with words held out of training are caught as often as the rest, and a
template filled with a harmless word scores high too (its fixture: "what a ridiculous take,
go away." has p(toxic) 0.71). `detectors/toxicity/README.md` measures every scorer on an
independently written set as well.

Facts as JSON:

```json
{json.dumps(f, indent=2)}
```
"""
    with open(os.path.join(OUT, "model_card.md"), "w", encoding="utf-8") as fh:
        fh.write(text)


if __name__ == "__main__":
    main()
