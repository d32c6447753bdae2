#!/usr/bin/python3
"""Writes the seed corpora of the checkpoint fuzz targets (tests/fuzz/corpus/{safetensors,
safetensors_index,config}/): small files in the shapes the committed fixtures and Hugging Face
use, plus hand-made edge cases, each refusal kind once (inputs of crashes the fuzzers found
are committed beside them by hand). Run from the repository root; the
outputs are committed, so CI needs no Python."""
import json
import math
import os
import struct

ROOT = os.path.join("tests", "fuzz", "corpus")
FIXTURES = os.path.join("tests", "fixtures")
DTYPE_SIZE = {"F32": 4, "F16": 2, "BF16": 2, "U8": 1, "BOOL": 1, "I64": 8}


def write(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(os.path.join(ROOT, target, name), mode) as f:
        f.write(data)


def safetensors(header, data=b""):
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + data


def read_fixture_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        return header, f.read(4096)


def shrunk(path):
    """The fixture's tensor names and dtypes, each dimension cut to at most 2, laid out anew:
    a valid file of a few KB with the names real checkpoints use."""
    header, sample = read_fixture_header(path)
    out, offset = {}, 0
    for name, info in header.items():
        if name == "__metadata__":
            out[name] = info
            continue
        shape = [min(d, 2) for d in info["shape"]]
        size = math.prod(shape) * DTYPE_SIZE.get(info["dtype"], 1)
        out[name] = {"dtype": info["dtype"], "shape": shape,
                     "data_offsets": [offset, offset + size]}
        offset += size
    data = (sample * (offset // max(len(sample), 1) + 1))[:offset]
    return safetensors(out, data)


def safetensors_seeds():
    for fixture in ["models/gpt2-f32", "models/gpt2-oldstyle-f32", "models/openai-gpt-f16",
                    "models/gpt2-bf16", "classifiers/roberta-f16"]:
        path = os.path.join(FIXTURES, fixture, "model.safetensors")
        write("safetensors", fixture.replace("/", "-") + ".safetensors", shrunk(path))
    # A real header with its data cut short: refused, but a realistic header to mutate.
    with open(os.path.join(FIXTURES, "models/gpt2-f32/model.safetensors"), "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        f.seek(0)
        write("safetensors", "truncated-data.safetensors", f.read(8 + n + 64))
    one = struct.pack("<2f", 1.0, 2.0)
    t = lambda dtype, shape, b, e: {"dtype": dtype, "shape": shape, "data_offsets": [b, e]}
    cases = {
        "empty-header": ({}, b""),
        "metadata-only": ({"__metadata__": {"format": "pt"}}, b""),
        "every-dtype": ({"a": t("F32", [2], 0, 8), "b": t("F16", [1, 2], 8, 12),
                         "c": t("BF16", [2, 1], 12, 16), "z": t("F32", [0, 3], 16, 16),
                         "s": t("F32", [], 16, 20)}, one + b"\x00\x3c\x00\xbc\x80\x3f\x00\x40"
                        + one[:4]),
        "skipped-buffer": ({"h.0.attn.bias.skip": t("U8", [2, 2], 0, 4),
                            "w": t("F32", [1], 4, 8),
                            "odd.skip": t("Q4_WEIRD", [3], 8, 11)}, b"\x01" * 4 + one[:4] + b"xyz"),
        "overlap": ({"a": t("F32", [2], 0, 8), "b": t("F32", [1], 4, 8)}, one),
        "begin-after-end": ({"a": t("F32", [1], 8, 4)}, one),
        "wrong-size": ({"a": t("F32", [3], 0, 8)}, one),
        "unknown-dtype": ({"a": t("I64", [1], 0, 8)}, one),
        "huge-tensor": ({"wte.weight": t("F32", [1 << 28, 1 << 30], 0, 1 << 60)}, one),
        "past-the-end": ({"a": t("F32", [4], 0, 16)}, one),
        "nan-and-inf": ({"a": t("F32", [1], 0, 4), "b": t("F16", [2], 4, 8)},
                        struct.pack("<f", math.nan) + b"\x00\x7c\x00\xfc"),
        "f16-overflow": ({"a": t("F32", [1], 0, 4), "b": t("BF16", [1], 4, 6)},
                         struct.pack("<f", 1e6) + b"\x80\x7f"),
    }
    for name, (header, data) in cases.items():
        write("safetensors", name + ".safetensors", safetensors(header, data))
    repeated = (b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                b'"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}')
    write("safetensors", "duplicate-name.safetensors",
          struct.pack("<Q", len(repeated)) + repeated + one)
    write("safetensors", "header-past-end.safetensors", struct.pack("<Q", 1 << 40) + b"{}")
    write("safetensors", "short.safetensors", b"\x02\x00\x00")
    deep = b"[" * 70 + b"]" * 70
    write("safetensors", "deep.safetensors",
          struct.pack("<Q", len(deep) + 12) + b'{"m":' + deep + b',"x":1}')


def index_seeds():
    shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    names = ["transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.ln_1.weight",
             "transformer.h.0.attn.c_attn.weight", "transformer.ln_f.bias", "lm_head.weight"]
    hf = {"metadata": {"total_size": 497759232},
          "weight_map": {n: shards[i % 2] for i, n in enumerate(names)}}
    write("safetensors_index", "huggingface.json", json.dumps(hf, indent=2))
    write("safetensors_index", "one-shard.json",
          json.dumps({"weight_map": {"a": "model.safetensors"}}))
    for name, shard in [("parent", "../model.safetensors"), ("dot", "."), ("empty", ""),
                        ("subdir", "sub/x.safetensors"), ("nul", "a.safetensors\u0000b")]:
        write("safetensors_index", name + ".json", json.dumps({"weight_map": {"t": shard}}))
    write("safetensors_index", "duplicate.json",
          '{"weight_map": {"t": "a.safetensors", "t": "b.safetensors"}}')
    write("safetensors_index", "not-a-name.json", '{"weight_map": {"t": 7}}')
    write("safetensors_index", "no-map.json", '{"metadata": {"total_size": 1}}')
    write("safetensors_index", "empty-map.json", '{"weight_map": {}}')
    write("safetensors_index", "deep.json", '{"metadata": ' + "[" * 70 + "]" * 70 + "}")


def config_seeds():
    for fixture in ["models/gpt2-f32", "models/gpt2-oldstyle-f32", "models/gpt2-relu-f32",
                    "models/openai-gpt-f32", "classifiers/bert-f32",
                    "classifiers/gpt2-classifier-f32", "classifiers/roberta-f16"]:
        with open(os.path.join(FIXTURES, fixture, "config.json")) as f:
            write("config", fixture.replace("/", "-") + ".json", f.read())
    gpt2 = {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
            "bos_token_id": 50256, "eos_token_id": 50256, "layer_norm_epsilon": 1e-05,
            "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_inner": None,
            "n_layer": 12, "n_positions": 1024, "reorder_and_upcast_attn": False,
            "scale_attn_by_inverse_layer_idx": False, "scale_attn_weights": True,
            "vocab_size": 50257}
    variants = {
        "gpt2": {},
        "gpt2-xl": {"n_layer": 48, "n_embd": 1600, "n_head": 25},
        "gpt2-classifier-default-labels": {"architectures": ["GPT2ForSequenceClassification"],
                                           "num_labels": 3, "pad_token_id": 50256},
        "overflow-width": {"n_embd": (1 << 29) + 1, "n_head": 1},
        "parameter-limit": {"n_layer": 512, "n_embd": 16384, "n_head": 128},
        "huge-epsilon": {"layer_norm_epsilon": 1e300},
        "heads-exceed-width": {"n_head": 1536},
        "unsigned-huge": {"n_layer": 18446744073709551615},
    }
    for name, change in variants.items():
        write("config", name + ".json", json.dumps({**gpt2, **change}))
    write("config", "openai-gpt.json", json.dumps(
        {"afn": "gelu", "model_type": "openai-gpt", "n_ctx": 512, "n_embd": 768, "n_head": 12,
         "n_layer": 12, "n_positions": 512, "vocab_size": 40478}))
    write("config", "roberta.json", json.dumps(
        {"architectures": ["RobertaForSequenceClassification"], "bos_token_id": 0,
         "eos_token_id": 2, "hidden_act": "gelu", "hidden_size": 768,
         "id2label": {"0": "neutral", "1": "toxic"}, "intermediate_size": 3072,
         "layer_norm_eps": 1e-05, "max_position_embeddings": 514, "model_type": "roberta",
         "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1,
         "problem_type": "single_label_classification", "type_vocab_size": 1,
         "vocab_size": 50265}))
    write("config", "duplicate-key.json", '{"model_type": "gpt2", "n_embd": 8, "n_embd": 16}')
    write("config", "deep.json", '{"model_type": "gpt2", "x": ' + "[" * 70 + "]" * 70 + "}")


def dictionaries():
    os.makedirs(os.path.join("tests", "fuzz", "dict"), exist_ok=True)
    words = {
        "safetensors": ['"dtype"', '"shape"', '"data_offsets"', '"F32"', '"F16"', '"BF16"',
                        '"U8"', '"BOOL"', '"I64"', '"__metadata__"', '.skip"', '"format"'],
        "safetensors_index": ['"weight_map"', '"metadata"', '"total_size"', '".safetensors"',
                              '"../"', '"/"', '"\\u0000"'],
        "config": ['"model_type"', '"gpt2"', '"openai-gpt"', '"bert"', '"roberta"', '"n_layer"',
                   '"n_embd"', '"n_head"', '"n_positions"', '"n_ctx"', '"vocab_size"',
                   '"n_inner"', '"layer_norm_epsilon"', '"activation_function"', '"afn"',
                   '"architectures"', '"GPT2ForSequenceClassification"',
                   '"BertForSequenceClassification"', '"RobertaForSequenceClassification"',
                   '"num_labels"', '"id2label"', '"problem_type"', '"pad_token_id"',
                   '"eos_token_id"', '"bos_token_id"', '"hidden_size"', '"num_hidden_layers"',
                   '"num_attention_heads"', '"intermediate_size"', '"max_position_embeddings"',
                   '"type_vocab_size"', '"layer_norm_eps"', '"hidden_act"', '"relu"',
                   '"gelu"', '"gelu_new"', "null", "true", "1e308", "16384", "65536",
                   "1073741824"],
    }
    for target, entries in words.items():
        with open(os.path.join("tests", "fuzz", "dict", target + ".dict"), "w") as f:
            f.write("# Keys and values of the %s reader (tools/make_model_fuzz_seeds.py)\n" % target)
            for w in entries:
                f.write('"%s"\n' % w.replace("\\", "\\\\").replace('"', '\\"'))


if __name__ == "__main__":
    safetensors_seeds()
    index_seeds()
    config_seeds()
    dictionaries()
