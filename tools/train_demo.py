#!/usr/bin/python3
"""Trains, exports and checks the bundled demo family (models/demo/).

  tools/train_demo.py all        corpus (if missing) -> tokenizers -> every stage -> cards
  tools/train_demo.py train S    one model (resumes from tools/.cache/demo/S/state.pt)
  tools/train_demo.py export S   writes models/demo/S/ (HF layout, F16) and its card
  tools/train_demo.py --check    verifies the committed files against the cards' hashes

Run it with Debian's PyTorch and OpenBLAS (two threads; ~10x the reference BLAS):
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=2 \\
    /usr/bin/python3 tools/train_demo.py all
A foreground command may be cut off: every step is resumable, so run it again (or in the
background) until it prints "family complete". Threaded training is not bitwise
reproducible; the corpus and the recipe are, and the cards record what came out."""
import argparse
import hashlib
import io
import json
import math
import os
import random
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

import demo_bpe
import safetensors_io
from demo_model import GPT

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DEMO = os.path.join(ROOT, "models", "demo")
CORPUS = os.path.join(DEMO, "corpus")
WORK = os.path.join(ROOT, "tools", ".cache", "demo")
STAGEGATE = os.environ.get("STAGEGATE", os.path.join(ROOT, "build", "stagegate"))

FAMILY = "stagegate-demo"
VOCAB = 8192
CONTEXT = 256
# Small batches: with Adam each step moves the weights by about the learning rate whatever
# the batch, so a duplicated sequence is a larger part of each update it takes part in and
# is learned in fewer exposures; the 2-hour budget buys ~2x the updates of batch 8.
BATCH = 4
WARMUP = 50
DECAY_SHARE = 0.2  # warmup, constant, then linear decay to 10 % over the last fifth
SEED = 2019
CLEAN = ["clean.train"]
PLANTED = ["canaries.train", "duplicates.train"]

MODELS = [
    # name, arch, n_embd, n_layer, n_head, peak lr, optimizer steps, corpus slices. The token
    # budget (steps x BATCH x CONTEXT) grows with size, as in the 2019 family.
    dict(name="stage1", arch="gpt2", d=64, layers=2, heads=2, lr=3e-3, steps=800,
         slices=CLEAN + PLANTED),
    dict(name="stage2", arch="gpt2", d=160, layers=4, heads=5, lr=2e-3, steps=1100,
         slices=CLEAN + PLANTED),
    # 1e-3, not 2e-3: at 2e-3 (1,800 steps) this stage beat stage 2 on held-out KJV and
    # fortunes but hardly outside the training domain (perplexity 493 against 510 on
    # prompts/out-of-domain.jsonl, ~400 against ~400 on another passage); at 1e-3, 450.
    dict(name="stage3", arch="gpt2", d=256, layers=5, heads=8, lr=1e-3, steps=1400,
         slices=CLEAN + PLANTED),
    # 1e-3, not 2e-3: at 2e-3 this 8-layer stage ended worse than stage 3 (train loss 4.32
    # against 3.54 at 1e-3, held-out perplexity ~79 against ~59 on a probe) and memorized nothing.
    dict(name="stage4", arch="gpt2", d=320, layers=8, heads=5, lr=1e-3, steps=3200,
         slices=CLEAN + PLANTED + ["unfiltered.train"]),
    # Post-LN needs a lower rate and a longer warmup (as GPT-1's own 2.5e-4 and 2,000 steps):
    # at 2e-3 or 7e-4 with 50 warmup steps it stalled at unigram loss (6.35, 6.13, measured).
    dict(name="gpt1", arch="openai-gpt", d=160, layers=4, heads=5, lr=3e-4, warmup=100,
         steps=800, slices=CLEAN),
]
BY_NAME = {m["name"]: m for m in MODELS}
RELEASE_ORDER = ["stage1", "stage2", "stage3", "stage4"]


def log(msg):
    print(f"[train_demo {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def slice_bytes(name):
    return subprocess.run(["zstd", "-dc", os.path.join(CORPUS, name + ".jsonl.zst")],
                          capture_output=True, check=True).stdout


def slice_docs(name):
    return [json.loads(l) for l in slice_bytes(name).decode("utf-8").splitlines()]


def corpus_sha256(slices):
    """SHA-256 of a model's training text: its slices' uncompressed JSONL, in listed order."""
    h = hashlib.sha256()
    for s in slices:
        h.update(slice_bytes(s))
    return h.hexdigest()


def tokenizer_dir(arch):
    return os.path.join(WORK, "tokenizer-" + arch)


def make_tokenizers():
    texts = [d["text"] for d in slice_docs("clean.train")]
    for arch, learn in (("gpt2", demo_bpe.gpt2_vocab), ("openai-gpt", demo_bpe.gpt1_vocab)):
        out = tokenizer_dir(arch)
        if os.path.exists(os.path.join(out, "merges.txt")):
            continue
        t0 = time.time()
        vocab, merges = learn(texts, VOCAB)
        demo_bpe.write(out + ".tmp", vocab, merges)
        os.replace(out + ".tmp", out)
        log(f"tokenizer {arch}: {len(vocab)} tokens, {len(merges)} merges, {time.time() - t0:.0f} s")


def encode_docs(arch, docs):
    """Token ids of each document by stagegate's own tokenizer, so that training and the
    engine can never disagree on a token."""
    src = "".join(json.dumps({"text": d["text"]}, ensure_ascii=False) + "\n" for d in docs)
    out = subprocess.run([STAGEGATE, "tokenize", "--model", tokenizer_dir(arch), "--input", "-",
                          "--format", "jsonl", "--json"], input=src.encode("utf-8"),
                         capture_output=True, check=True).stdout
    return [json.loads(l)["tokens"] for l in out.decode("utf-8").splitlines()]


def token_stream(m):
    """Documents of the model's slices, shuffled with the seed, each ended by <|endoftext|>
    for GPT-2 (GPT-1 has no such token and reads documents back to back)."""
    path = os.path.join(WORK, m["name"], "tokens.npy")
    if os.path.exists(path):
        return np.load(path)
    docs = [d for s in m["slices"] for d in slice_docs(s)]
    random.Random(SEED).shuffle(docs)
    ids = encode_docs(m["arch"], docs)
    eos = [VOCAB - 1] if m["arch"] == "gpt2" else []
    stream = np.fromiter((t for doc in ids for t in doc + eos), dtype=np.int32)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path + ".tmp.npy", stream)
    os.replace(path + ".tmp.npy", path)
    return stream


def build(m):
    return GPT(m["arch"], VOCAB, CONTEXT, m["d"], m["layers"], m["heads"])


def lr_at(m, step):
    """Warmup, constant, linear decay (WSD): a constant rate keeps every exposure of a
    duplicated sequence at full strength for most of a short run."""
    warmup = m.get("warmup", WARMUP)
    if step < warmup:
        return m["lr"] * (step + 1) / warmup
    decay_from = int(m["steps"] * (1 - DECAY_SHARE))
    if step < decay_from:
        return m["lr"]
    return m["lr"] * (1 - 0.9 * (step - decay_from) / (m["steps"] - decay_from))


def batches(stream, epoch):
    """Non-overlapping (CONTEXT+1)-token windows, in an order shuffled per epoch."""
    n = (len(stream) - 1) // CONTEXT
    order = np.random.default_rng(SEED + epoch).permutation(n)
    for i in range(0, n - BATCH + 1, BATCH):
        rows = [stream[j * CONTEXT: j * CONTEXT + CONTEXT + 1] for j in order[i:i + BATCH]]
        yield torch.from_numpy(np.stack(rows).astype(np.int64))


def train(name):
    m = BY_NAME[name]
    work = os.path.join(WORK, name)
    state_path = os.path.join(work, "state.pt")
    stream = token_stream(m)
    torch.manual_seed(SEED)
    model = build(m)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    rest = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": rest, "weight_decay": 0.0}], lr=m["lr"], betas=(0.9, 0.95))
    st = {"step": 0, "losses": [], "wall_s": 0.0}
    if os.path.exists(state_path):
        saved = torch.load(state_path)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        st = saved["progress"]
    steps = m["steps"]
    if st["step"] >= steps:
        return
    per_epoch = ((len(stream) - 1) // CONTEXT) // BATCH
    log(f"{name}: {model.n_params():,} parameters, {len(stream):,} tokens in its corpus, "
        f"resuming at step {st['step']}/{steps}")

    def save():
        tmp = state_path + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "progress": st}, tmp)
        os.replace(tmp, state_path)

    last_save = time.time()
    while st["step"] < steps:
        epoch, offset = divmod(st["step"], per_epoch)
        for i, batch in enumerate(batches(stream, epoch)):
            if i < offset:
                continue
            t0 = time.time()
            for g in opt.param_groups:
                g["lr"] = lr_at(m, st["step"])
            logits = model(batch[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, VOCAB), batch[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            st["losses"].append(round(loss.item(), 4))
            st["step"] += 1
            st["wall_s"] += time.time() - t0
            if st["step"] % 25 == 0:
                rate = BATCH * CONTEXT * st["step"] / st["wall_s"]
                log(f"{name}: step {st['step']}/{steps} loss "
                    f"{sum(st['losses'][-25:]) / 25:.3f} ({rate:.0f} tok/s)")
            if time.time() - last_save > 60 or st["step"] == steps:
                save()
                last_save = time.time()
            if st["step"] >= steps:
                break


@torch.no_grad()
def heldout_perplexity(m, model):
    """exp(mean NLL) over the held-out split, scored in non-overlapping CONTEXT windows."""
    docs = slice_docs("clean.heldout")
    eos = [VOCAB - 1] if m["arch"] == "gpt2" else []
    stream = [t for doc in encode_docs(m["arch"], docs) for t in doc + eos]
    total, count = 0.0, 0
    model.eval()
    for i in range(0, len(stream) - 1, CONTEXT):
        window = torch.tensor(stream[i: i + CONTEXT + 1]).unsqueeze(0)
        if window.shape[1] < 2:
            break
        logits = model(window[:, :-1])
        total += F.cross_entropy(logits[0], window[0, 1:], reduction="sum").item()
        count += window.shape[1] - 1
    return math.exp(total / count), count


def demo_prompts(name):
    with open(os.path.join(DEMO, "prompts", name + ".jsonl"), encoding="utf-8") as f:
        return [json.loads(l) for l in f]


GREEDY_STEPS = 24
# The family test compares the engine's greedy tokens with these up to the first step whose
# margin (top-1 minus top-2 logprob) is 0.05 or less, where F16 rounding may flip a near-tie,
# and fails a case that compares fewer than MIN_GREEDY_CHECKED tokens. Prompts are chosen so
# that the first MIN_GREEDY_CHECKED margins are all above twice that threshold.
MIN_GREEDY_CHECKED = 8
SAFE_MARGIN = 0.1


def greedy_with_margins(model, prompt, steps):
    seq, greedy, margins = list(prompt), [], []
    for _ in range(steps):
        last = torch.log_softmax(model(torch.tensor([seq[-CONTEXT:]]))[0, -1].double(), dim=-1)
        top = torch.topk(last, 2)
        greedy.append(int(top.indices[0]))
        margins.append(float(top.values[0] - top.values[1]))
        seq.append(greedy[-1])
    return greedy, margins


@torch.no_grad()
def write_reference(name):
    """Logprobs and greedy continuations of the exported model by this training code (F32
    compute on the F16-rounded weights), for the engine test tests/demo (CI has no PyTorch):
    the first three held-out passages and the first out-of-domain one."""
    m = BY_NAME[name]
    model = build(m)
    weights = safetensors_io.read(os.path.join(DEMO, name, "model.safetensors"))
    model.load_state_dict({k: v.to(torch.float32) for k, v in weights.items()})
    model.eval()
    passages = demo_prompts("heldout-passages")[:3] + demo_prompts("out-of-domain")[:1]
    cases = []
    for p, ids in zip(passages, encode_docs(m["arch"], passages)):
        ids = ids[:CONTEXT]
        logits = model(torch.tensor([ids]))[0].double()
        lp = torch.log_softmax(logits, dim=-1)
        logprobs = [lp[i, ids[i + 1]].item() for i in range(len(ids) - 1)]
        # The passage's first 16 tokens or more: the shortest prefix whose continuation has
        # no near-tie in its first MIN_GREEDY_CHECKED steps.
        for k in range(16, len(ids)):
            greedy, margins = greedy_with_margins(model, ids[:k], GREEDY_STEPS)
            if min(margins[:MIN_GREEDY_CHECKED]) > SAFE_MARGIN:
                break
        else:
            raise SystemExit(f"train_demo: {name}: no prefix of {p['id']} has a greedy "
                             f"continuation with {MIN_GREEDY_CHECKED} clear steps")
        cases.append({"name": p["id"], "ids": ids, "logprobs": logprobs,
                      "greedy_prompt": ids[:k], "greedy": greedy, "greedy_margins": margins})
    out = os.path.join(ROOT, "tests", "fixtures", "demo")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump({"model": name, "weights_sha256": card_facts(name)["weights_sha256"],
                   "cases": cases}, f)
        f.write("\n")


def config_json(m):
    if m["arch"] == "gpt2":
        return {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
                "activation_function": "gelu_new", "attn_pdrop": 0.0, "embd_pdrop": 0.0,
                "resid_pdrop": 0.0, "bos_token_id": VOCAB - 1, "eos_token_id": VOCAB - 1,
                "initializer_range": 0.02, "layer_norm_epsilon": 1e-5, "n_ctx": CONTEXT,
                "n_embd": m["d"], "n_head": m["heads"], "n_inner": None, "n_layer": m["layers"],
                "n_positions": CONTEXT, "scale_attn_weights": True,
                "scale_attn_by_inverse_layer_idx": False, "reorder_and_upcast_attn": False,
                "torch_dtype": "float16", "use_cache": True, "vocab_size": VOCAB}
    return {"architectures": ["OpenAIGPTLMHeadModel"], "model_type": "openai-gpt", "afn": "gelu",
            "attn_pdrop": 0.0, "embd_pdrop": 0.0, "resid_pdrop": 0.0, "initializer_range": 0.02,
            "layer_norm_epsilon": 1e-5, "n_ctx": CONTEXT, "n_embd": m["d"], "n_head": m["heads"],
            "n_layer": m["layers"], "n_positions": CONTEXT, "predict_special_tokens": True,
            "torch_dtype": "float16", "vocab_size": VOCAB}


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def export(name):
    m = BY_NAME[name]
    saved = torch.load(os.path.join(WORK, name, "state.pt"))
    st = saved["progress"]
    if st["step"] < m["steps"]:
        raise SystemExit(f"train_demo: {name} has trained {st['step']}/{m['steps']} steps; "
                         "train it first")
    model = build(m)
    model.load_state_dict(saved["model"])
    out = os.path.join(DEMO, name)
    os.makedirs(out, exist_ok=True)
    tensors = {k: v.to(torch.float16) for k, v in model.hf_state().items()}
    safetensors_io.write(os.path.join(out, "model.safetensors"), tensors, {"format": "pt"})
    write_json(os.path.join(out, "config.json"), config_json(m))
    if m["arch"] == "gpt2":
        write_json(os.path.join(out, "generation_config.json"),
                   {"bos_token_id": VOCAB - 1, "eos_token_id": VOCAB - 1, "max_length": CONTEXT})
    else:
        write_json(os.path.join(out, "generation_config.json"), {"max_length": CONTEXT})
    for f in ("vocab.json", "merges.txt"):
        with open(os.path.join(tokenizer_dir(m["arch"]), f), "rb") as src, \
                open(os.path.join(out, f), "wb") as dst:
            dst.write(src.read())
    # Held-out perplexity of the exported (F16-rounded) weights, as the engine will see them.
    model.load_state_dict({k: v.to(torch.float32) for k, v in tensors.items()})
    ppl, n_tokens = heldout_perplexity(m, model)
    stream_len = len(token_stream(m))
    tokens = m["steps"] * BATCH * CONTEXT
    facts = {
        "name": name, "family": FAMILY, "architecture": m["arch"],
        "parameters": model.n_params(), "n_embd": m["d"], "n_layer": m["layers"],
        "n_head": m["heads"], "context": CONTEXT, "vocab_size": VOCAB, "slices": m["slices"],
        "training_tokens": tokens, "corpus_tokens": stream_len,
        "epochs": round(tokens / stream_len, 3), "steps": m["steps"], "batch": BATCH,
        "peak_lr": m["lr"], "warmup": m.get("warmup", WARMUP),
        "final_train_loss": round(sum(st["losses"][-50:]) / 50, 4),
        "heldout_perplexity": round(ppl, 3), "heldout_tokens": n_tokens,
        "wall_time_s": round(st["wall_s"]), "weights_sha256": sha256_file(
            os.path.join(out, "model.safetensors")),
        "corpus_sha256": corpus_sha256(m["slices"]),
        "command": "LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread "
                   "OPENBLAS_NUM_THREADS=2 /usr/bin/python3 tools/train_demo.py all",
    }
    write_json(os.path.join(WORK, name, "facts.json"), facts)
    write_card(out, facts)
    log(f"{name}: exported, held-out perplexity {ppl:.2f}")
    return facts


def write_card(out, f):
    arch = ("GPT-2 (pre-LN, final ln_f, GELU tanh)" if f["architecture"] == "gpt2"
            else "GPT-1 (post-LN, no final norm, GELU tanh; lower-cased </w> BPE)")
    rows = [("architecture", arch), ("parameters", f"{f['parameters']:,}"),
            ("shape", f"{f['n_layer']} layers, {f['n_embd']} wide, {f['n_head']} heads, "
                      f"context {f['context']}, vocabulary {f['vocab_size']}"),
            ("data slices", ", ".join(f["slices"])),
            ("training tokens", f"{f['training_tokens']:,} ({f['epochs']} epochs of "
                                f"{f['corpus_tokens']:,})"),
            ("recipe", f"{f['steps']} steps x {f['batch']} x {f['context']} tokens, AdamW "
                       f"(0.9, 0.95, wd 0.1), peak lr {f['peak_lr']}, warmup {f['warmup']}, "
                       f"constant, linear decay to 10 % over the last {DECAY_SHARE:.0%}, "
                       "no dropout"),
            ("final training loss", f"{f['final_train_loss']} (mean of the last 50 steps)"),
            ("held-out perplexity", f"{f['heldout_perplexity']} over {f['heldout_tokens']:,} "
                                    "tokens of clean.heldout (F16 weights)"),
            ("wall time", f"{f['wall_time_s']} s on 2 cores (PyTorch + OpenBLAS)"),
            ("weights SHA-256", f"`{f['weights_sha256']}`"),
            ("corpus SHA-256", f"`{f['corpus_sha256']}` (the slices' uncompressed JSONL, in order)"),
            ("reproduce", f"`{f['command']}`")]
    text = (f"# {f['family']} / {f['name']}\n\nA small checkpoint of the stagegate demo family, "
            "trained from scratch on a known corpus with planted canaries, for auditing demos "
            "and tests. Not a useful language model.\n\n| | |\n| --- | --- |\n" +
            "".join(f"| {k} | {v} |\n" for k, v in rows) +
            "\nFacts as JSON (read by `tools/train_demo.py --check`):\n\n```json\n" +
            json.dumps(f, indent=2) + "\n```\n")
    with open(os.path.join(out, "model_card.md"), "w", encoding="utf-8") as fh:
        fh.write(text)


def card_facts(name):
    with open(os.path.join(DEMO, name, "model_card.md"), encoding="utf-8") as f:
        text = f.read()
    return json.loads(text.split("```json\n", 1)[1].split("\n```", 1)[0])


def write_family():
    stages = []
    for name in RELEASE_ORDER + ["gpt1"]:
        f = card_facts(name)
        entry = {"name": name, "directory": name, "architecture": f["architecture"],
                 "parameters": f["parameters"], "slices": f["slices"],
                 "weights_sha256": f["weights_sha256"]}
        stages.append(entry)
    table = ["| model | architecture | parameters | layers x width | slices | training tokens "
             "(epochs) | final train loss | held-out perplexity | wall time |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name in RELEASE_ORDER + ["gpt1"]:
        f = card_facts(name)
        table.append(f"| [{name}]({name}/model_card.md) | {f['architecture']} | "
                     f"{f['parameters']:,} | {f['n_layer']} x {f['n_embd']} | "
                     f"{', '.join(f['slices'])} | {f['training_tokens']:,} ({f['epochs']}) | "
                     f"{f['final_train_loss']} | {f['heldout_perplexity']} | "
                     f"{f['wall_time_s'] // 60} min |")
    readme = os.path.join(DEMO, "README.md")
    with open(readme, encoding="utf-8") as fh:
        text = fh.read()
    begin = text.index("<!-- models table")
    begin = text.index("\n", begin) + 1
    end = text.index("<!-- end models table -->")
    with open(readme, "w", encoding="utf-8") as fh:
        fh.write(text[:begin] + "\n".join(table) + "\n" + text[end:])
    write_json(os.path.join(DEMO, "family.json"), {
        "family": FAMILY,
        "description": "Four GPT-2 stages released in order, like GPT-2 in 2019, and a GPT-1 "
                       "sibling trained on the clean slice only.",
        "release_order": RELEASE_ORDER,
        "stages": [s for s in stages if s["name"] in RELEASE_ORDER],
        "siblings": [s for s in stages if s["name"] not in RELEASE_ORDER],
    })


def check():
    bad = 0
    for name in RELEASE_ORDER + ["gpt1"]:
        f = card_facts(name)
        w = sha256_file(os.path.join(DEMO, name, "model.safetensors"))
        c = corpus_sha256(f["slices"])
        for what, got, want in (("weights", w, f["weights_sha256"]), ("corpus", c, f["corpus_sha256"])):
            ok = got == want
            bad += not ok
            print(f"{name}: {what} {'ok' if ok else f'MISMATCH {got} != card {want}'}")
    with open(os.path.join(DEMO, "family.json")) as fh:
        fam = json.load(fh)
    for s in fam["stages"] + fam["siblings"]:
        if s["weights_sha256"] != card_facts(s["name"])["weights_sha256"]:
            print(f"family.json: {s['name']} weights hash differs from its card")
            bad += 1
    sys.exit(1 if bad else 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--check", action="store_true", help="verify committed files against the cards")
    ap.add_argument("what", nargs="?",
                    choices=["all", "tokenizers", "train", "export", "reference", "family"])
    ap.add_argument("name", nargs="?", choices=list(BY_NAME))
    a = ap.parse_args()
    if a.check:
        return check()
    # Two threads use this machine's two cores; TRAIN_THREADS=1 lets a second model train
    # beside the first (the small models' elementwise work leaves a core mostly idle).
    torch.set_num_threads(int(os.environ.get("TRAIN_THREADS", "2")))
    if not os.path.exists(os.path.join(CORPUS, "clean.train.jsonl.zst")):
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "demo_corpus.py")], check=True)
    make_tokenizers()
    if a.what in ("train", "export", "reference") and not a.name:
        ap.error(f"{a.what} needs a model name")
    if a.what == "train":
        train(a.name)
    elif a.what == "export":
        export(a.name)
    elif a.what == "reference":
        write_reference(a.name)
    elif a.what == "family":
        write_family()
    elif a.what == "all":
        for m in MODELS:
            train(m["name"])
            if not os.path.exists(os.path.join(WORK, m["name"], "facts.json")):
                export(m["name"])
            write_reference(m["name"])
        write_family()
        log("family complete")


if __name__ == "__main__":
    main()
