#!/usr/bin/python3
"""Learns the demo family's tokenizers on its training corpus (Sennrich et al. 2016 BPE).

GPT-2 flavour: byte-level BPE as in Radford et al. 2019 -- GPT-2's pre-tokenization regex,
bytes mapped to printable characters, merges learned over the pre-tokens; ids 0..255 are
the byte symbols, id 256+r the result of merge r, <|endoftext|> last.
GPT-1 flavour: Hugging Face's OpenAIGPTTokenizer without ftfy/spaCy (BERT's BasicTokenizer:
clean, split CJK, lower-case, strip accents, split punctuation), words end in </w>; the
vocabulary holds the characters seen (alone and with </w>), the merges, then <unk>.

The pair counts are updated incrementally (only the words that contain the merged pair are
revisited) so that ~8k merges over a few MB of text take about a minute."""
import collections
import heapq
import json
import os
import unicodedata

import regex

GPT2_PATTERN = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map."""
    keep = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) +
            list(range(ord("®"), ord("ÿ") + 1)))
    chars = keep[:]
    n = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return dict(zip(keep, map(chr, chars)))


BYTE_CHARS = bytes_to_unicode()


def gpt2_words(texts):
    counts = collections.Counter()
    for text in texts:
        for piece in GPT2_PATTERN.findall(text):
            counts[piece] += 1
    words = collections.Counter()
    for piece, c in counts.items():
        words[tuple(BYTE_CHARS[b] for b in piece.encode("utf-8"))] += c
    return words


def _is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or
            0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or
            0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokenize(text):
    """BERT's BasicTokenizer as OpenAIGPTTokenizer uses it without ftfy/spaCy."""
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD:
            continue
        if ch in " \t\n\r" or unicodedata.category(ch) == "Zs":
            out.append(" ")
            continue
        if unicodedata.category(ch).startswith("C"):
            continue
        out.append(f" {ch} " if _is_cjk(cp) else ch)
    words = []
    for token in "".join(out).split():
        token = "".join(c for c in unicodedata.normalize("NFD", token.lower())
                        if unicodedata.category(c) != "Mn")
        current = []
        for ch in token:
            if _is_punctuation(ch):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(ch)
            else:
                current.append(ch)
        if current:
            words.append("".join(current))
    return words


def gpt1_words(texts):
    counts = collections.Counter()
    for text in texts:
        counts.update(basic_tokenize(text))
    return collections.Counter({tuple(w[:-1]) + (w[-1] + "</w>",): c for w, c in counts.items()})


def learn_merges(words, n_merges):
    """Merges in rank order; ties broken by the pair itself so the result is deterministic."""
    symbols = [list(w) for w in words]
    freq = list(words.values())
    pair_count = collections.Counter()
    where = collections.defaultdict(set)
    for i, w in enumerate(symbols):
        for a, b in zip(w, w[1:]):
            pair_count[a, b] += freq[i]
            where[a, b].add(i)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < n_merges and heap:
        neg, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -neg or -neg <= 0:
            continue  # stale entry
        merges.append(pair)
        a, b = pair
        changed = collections.Counter()
        for i in where.pop(pair):
            w = symbols[i]
            for x, y in zip(w, w[1:]):
                changed[x, y] -= freq[i]
            merged, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    merged.append(a + b)
                    j += 2
                else:
                    merged.append(w[j])
                    j += 1
            symbols[i] = merged
            for x, y in zip(merged, merged[1:]):
                changed[x, y] += freq[i]
                where[x, y].add(i)
        for p, delta in changed.items():
            if delta == 0:
                continue
            pair_count[p] += delta
            if pair_count[p] <= 0:
                del pair_count[p]
            else:
                heapq.heappush(heap, (-pair_count[p], p))
        pair_count.pop(pair, None)
    return merges


def gpt2_vocab(texts, vocab_size):
    merges = learn_merges(gpt2_words(texts), vocab_size - 257)
    vocab = {BYTE_CHARS[b]: b for b in range(256)}
    for a, b in merges:
        vocab[a + b] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return vocab, merges


def gpt1_vocab(texts, vocab_size, min_char_count=2):
    words = gpt1_words(texts)
    chars = collections.Counter()
    for w, c in words.items():
        for s in w:
            chars[s] += c
    # Characters seen once are typos or stray symbols: they become <unk> rather than take ids.
    base = sorted(s for s, c in chars.items() if c >= min_char_count)
    rare = set(chars) - set(base)
    words = collections.Counter({w: c for w, c in words.items() if not rare.intersection(w)})
    merges = learn_merges(words, vocab_size - len(base) - 1)
    vocab = {s: i for i, s in enumerate(base)}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    vocab["<unk>"] = len(vocab)
    return vocab, merges


def write(out_dir, vocab, merges):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(out_dir, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
