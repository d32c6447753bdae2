#!/usr/bin/python3
"""BERT's WordPiece tokenizer in Python, written from the algorithm (Devlin et al. 2019 and the
behaviour of Hugging Face's BertTokenizer), not from stagegate's C++: the independent
reference the C++ tokenizer is tested against, and the tokenizer the demo classifier is
trained with (tools/train_toxicity_classifier.py).

  basic tokenization: drop NUL, U+FFFD and control characters, whitespace -> space, CJK
    ideographs spaced out, NFC, split on whitespace, per word lower-case and strip accents
    (NFD, drop Mn) when do_lower_case, split off each punctuation character;
  WordPiece: per word greedy longest-match-first, pieces after the first prefixed "##",
    a word with no full cover or over 100 characters -> [UNK];
  special-token text ([CLS], [SEP], ...) in the input is matched first and kept whole.

  /usr/bin/python3 tools/wordpiece.py fixtures   # writes tests/fixtures/tokenizer/wordpiece_*.json
"""
import json
import os
import sys
import unicodedata

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MAX_WORD_CHARS = 100


def is_whitespace(c):
    return c in " \t\n\r" or unicodedata.category(c) == "Zs"


def is_control(c):
    return c not in "\t\n\r" and unicodedata.category(c).startswith("C")


def is_punctuation(c):
    o = ord(c)
    if 33 <= o <= 47 or 58 <= o <= 64 or 91 <= o <= 96 or 123 <= o <= 126:
        return True
    return unicodedata.category(c).startswith("P")


CJK_RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
              (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


def is_cjk(c):
    return any(lo <= ord(c) <= hi for lo, hi in CJK_RANGES)


def strip_accents(word):
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def split_punctuation(word):
    out, current = [], ""
    for c in word:
        if is_punctuation(c):
            if current:
                out.append(current)
            out.append(c)
            current = ""
        else:
            current += c
    if current:
        out.append(current)
    return out


def basic_tokenize(text, lower=True, strip=None):
    """strip: None follows lower (BertTokenizer's strip_accents=None)."""
    cleaned = ""
    for c in text:
        if ord(c) == 0 or ord(c) == 0xFFFD or is_control(c):
            continue
        if is_whitespace(c):
            cleaned += " "
        elif is_cjk(c):
            cleaned += " " + c + " "
        else:
            cleaned += c
    cleaned = unicodedata.normalize("NFC", cleaned)
    pieces = []
    for word in cleaned.split():  # Python's whitespace, U+2028/U+2029 included
        if lower:
            word = word.lower()
        if strip or (strip is None and lower):
            word = strip_accents(word)
        pieces.extend(split_punctuation(word))
    return " ".join(pieces).split()


def wordpiece(word, vocab, unk="[UNK]"):
    if len(word) > MAX_WORD_CHARS:
        return [unk]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        found = None
        while start < end:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                found = piece
                break
            end -= 1
        if found is None:
            return [unk]
        pieces.append(found)
        start = end
    return pieces


def split_specials(text, specials):
    """[(is_special, text)], special tokens matched leftmost, longest first at a position."""
    out, pos = [], 0
    while pos <= len(text):
        best = None
        for s in specials:
            i = text.find(s, pos)
            if i >= 0 and (best is None or i < best[0] or (i == best[0] and len(s) > len(best[1]))):
                best = (i, s)
        if best is None:
            out.append((False, text[pos:]))
            break
        out.append((False, text[pos:best[0]]))
        out.append((True, best[1]))
        pos = best[0] + len(best[1])
    return [(s, t) for s, t in out if s or t]


class WordPiece:
    def __init__(self, vocab_tokens, lower=True, strip=None):
        self.tokens = list(vocab_tokens)
        self.vocab = {t: i for i, t in enumerate(self.tokens)}
        self.lower, self.strip = lower, strip
        self.specials = [s for s in SPECIALS if s in self.vocab]

    @classmethod
    def from_dir(cls, path):
        with open(os.path.join(path, "vocab.txt"), encoding="utf-8") as f:
            tokens = [line.rstrip("\n") for line in f]
        lower, strip = True, None
        cfg = os.path.join(path, "tokenizer_config.json")
        if os.path.exists(cfg):
            with open(cfg) as f:
                c = json.load(f)
            lower = c.get("do_lower_case", True)
            strip = c.get("strip_accents", None)
        return cls(tokens, lower, strip)

    def tokenize(self, text):
        out = []
        for special, part in split_specials(text, self.specials):
            if special:
                out.append(part)
                continue
            for word in basic_tokenize(part, self.lower, self.strip):
                out.extend(wordpiece(word, self.vocab))
        return out

    def encode(self, text):
        return [self.vocab[t] for t in self.tokenize(text)]

    def decode(self, ids):
        return " ".join(self.tokens[i] for i in ids).replace(" ##", "").strip()


def build_vocab(texts, size):
    """A WordPiece vocabulary from texts: the special tokens, every character seen (alone and
    as a "##" continuation), then the most frequent merges of adjacent pieces within words,
    BPE-style, until `size` entries (the way Hugging Face's WordPiece trainer grows one)."""
    counts = {}
    for text in texts:
        for word in basic_tokenize(text):
            counts[word] = counts.get(word, 0) + 1
    words = [[w[0]] + ["##" + c for c in w[1:]] for w in sorted(counts)]
    freq = [counts[w] for w in sorted(counts)]
    vocab = list(SPECIALS)
    chars = sorted({c for w in counts for c in w})
    vocab += chars + ["##" + c for c in chars]
    seen = set(vocab)
    pairs, where = {}, {}  # pair -> count; pair -> indices of words holding it
    for k, pieces in enumerate(words):
        for pair in zip(pieces, pieces[1:]):
            pairs[pair] = pairs.get(pair, 0) + freq[k]
            where.setdefault(pair, set()).add(k)
    while len(vocab) < size and pairs:
        # Most frequent; ties broken by the pair's text so the vocabulary is deterministic.
        (a, b), n = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        if n < 2:
            break
        merged = a + b[2:]
        for k in sorted(where.pop((a, b))):
            pieces = words[k]
            for pair in zip(pieces, pieces[1:]):
                pairs[pair] -= freq[k]
                if pairs[pair] <= 0:
                    del pairs[pair]
            i, out = 0, []
            while i < len(pieces):
                if i + 1 < len(pieces) and pieces[i] == a and pieces[i + 1] == b:
                    out.append(merged)
                    i += 2
                else:
                    out.append(pieces[i])
                    i += 1
            words[k] = out
            for pair in zip(out, out[1:]):
                pairs[pair] = pairs.get(pair, 0) + freq[k]
                where.setdefault(pair, set()).add(k)
        pairs.pop((a, b), None)
        if merged not in seen:
            seen.add(merged)
            vocab.append(merged)
    return vocab


# A varied text set: accents, CJK, punctuation, long words, pieces outside the vocabulary,
# special tokens, controls and odd whitespace.
FIXTURE_TEXTS = [
    "Hello, World!",
    "you are a idiot and everyone knows it.",
    "user4081: Not sure I agree, but fair point.",
    "In the beginning God created the heaven and the earth.",
    "Café NAÏVE Ångström résumé über",
    "e\u0301t\u00e9 Cafe\u0301",
    "中文abc字 and 日本語のテキスト",
    "don't won't it's (parenthetical) [bracketed] {braced}",
    "«quoted» “curly” — dash – en … ellipsis",
    "$5 + 3^2 = 14; 100% #tag @user ~tilde |pipe\\",
    "a\tb\nc\r\nd\u00a0e\u3000f\u2028g\u2029h",
    "x\u0007y\ufffdz\u200bw",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "a" * 100,
    "a" * 101 + " tail",
    "qzxqzx xyzzy zzzzzzzz",
    "[CLS] hello [SEP] world [SEP]",
    "[MASK]ed [PAD][PAD] [UNK] [cls] lower-case specials are text",
    "Ωmega ΣΑΣ straße İstanbul ﬁne",
    "emoji 😀 👍🏽 family 👨‍👩‍👧",
    "   leading and trailing   ",
    "",
    "1234567890 3.14159 1,000,000",
    "snake_case CamelCase kebab-case dot.separated",
]


def write_fixtures():
    """Tokenizes FIXTURE_TEXTS with the demo classifier's vocabulary (lower-cased) and with a
    small cased vocabulary (do_lower_case false), and writes them for the C++ tests."""
    out_dir = os.path.join(ROOT, "tests", "fixtures", "tokenizer")
    demo = os.path.join(ROOT, "models", "demo", "toxicity-classifier")
    cased_dir = os.path.join(out_dir, "wordpiece-cased")
    cases = [("wordpiece_demo.json", "models/demo/toxicity-classifier", WordPiece.from_dir(demo)),
             ("wordpiece_cased.json", "tests/fixtures/tokenizer/wordpiece-cased",
              WordPiece.from_dir(cased_dir))]
    for name, where, tok in cases:
        rows = [{"text": t, "tokens": tok.tokenize(t), "ids": tok.encode(t),
                 "decoded": tok.decode(tok.encode(t))} for t in FIXTURE_TEXTS]
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            json.dump({"tokenizer": where, "made_by": "tools/wordpiece.py fixtures", "cases": rows},
                      f, ensure_ascii=False, indent=1)
            f.write("\n")
        print(f"wrote {name}: {len(rows)} texts")


def write_cased_vocab():
    """A small cased vocabulary for the do_lower_case=false path (accents kept, NFC)."""
    cased_dir = os.path.join(ROOT, "tests", "fixtures", "tokenizer", "wordpiece-cased")
    os.makedirs(cased_dir, exist_ok=True)
    texts = FIXTURE_TEXTS[:12] + ["The Quick Brown Fox", "Hello hello HELLO", "Été Straße"]
    counts = {}
    for t in texts:
        for w in basic_tokenize(t, lower=False):
            counts[w] = counts.get(w, 0) + 1
    chars = sorted({c for w in counts for c in w})
    vocab = SPECIALS + chars + ["##" + c for c in chars] + ["Hello", "hello", "##llo", "The",
                                                           "Quick", "##ick", "Été", "Café"]
    seen, uniq = set(), []
    for v in vocab:
        if v not in seen:
            seen.add(v)
            uniq.append(v)
    with open(os.path.join(cased_dir, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(uniq) + "\n")
    with open(os.path.join(cased_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": False, "tokenizer_class": "BertTokenizer"}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["fixtures"]:
        write_cased_vocab()
        write_fixtures()
    else:
        sys.exit(__doc__)
