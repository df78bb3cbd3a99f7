import re
from collections import Counter
from pathlib import Path

import tiktoken
from transformers import AutoTokenizer

# GPT-2's way: cut the text into words first, so that no merge crosses a word boundary: letters,
# digits, other symbols, each with the one space before them; spaces left over, on their own.
# (GPT-2's pattern less its rule for English contractions.) Then work on each word's UTF-8
# bytes: 256 starting tokens.
WORDS = re.compile(r" ?[^\W\d_]+| ?\d+| ?(?:[^\w\s]|_)+|\s+(?!\S)|\s+")


def merge(ids, pair, new_id):
    """Replace every occurrence of ``pair`` in ``ids``, left to right, with ``new_id``."""
    out, i = [], 0
    while i < len(ids):
        if tuple(ids[i:i + 2]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def shown(piece):
    """A token's bytes as text: a space as ·, a newline as ⏎, part of a character as �."""
    return piece.decode("utf-8", errors="replace").replace(" ", "·").replace("\n", "⏎")


def train(text, n_merges):
    """Byte-pair encoding: again and again, give the most frequent adjacent pair a new id."""
    words = [list(w.encode("utf-8")) for w in WORDS.findall(text)]
    vocab = {i: bytes([i]) for i in range(256)}
    merges = {}
    for new_id in range(256, 256 + n_merges):
        pairs = Counter(p for w in words for p in zip(w, w[1:]))
        pair = max(pairs, key=lambda p: (pairs[p], -p[0], -p[1]))  # ties: the smallest ids
        merges[pair], vocab[new_id] = new_id, vocab[pair[0]] + vocab[pair[1]]
        words = [merge(w, pair, new_id) for w in words]
        if new_id < 256 + 8 or new_id == 256 + n_merges - 1:
            a, b, ab = (shown(vocab[i]) for i in (*pair, new_id))
            print(f"merge {new_id - 255:3}: {a:>8} + {b:<11} -> {ab:14} ({pairs[pair]} times)")
    return merges, vocab


def encode(text, merges):
    """Apply the learned merges in the order they were learned, word by word."""
    ids = []
    for w in WORDS.findall(text):
        word = list(w.encode("utf-8"))
        while len(word) > 1:
            pair = min(zip(word, word[1:]), key=lambda p: merges.get(p, float("inf")))
            if pair not in merges:
                break
            word = merge(word, pair, merges[pair])
        ids += word
    return ids


notes = (Path(__file__).parent / "data" / "class_notes.md").read_text(encoding="utf-8")
print(f"training text: {len(notes):,} characters, {len(notes.encode('utf-8')):,} bytes")
merges, vocab = train(notes, 300)

text = "The model predicts 12345 tokens;   分词器 too."
tokenizers = {
    "ours (300 merges)": lambda t: [vocab[i] for i in encode(t, merges)],
    "SmolLM2": AutoTokenizer.from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct"),
    "cl100k_base": tiktoken.get_encoding("cl100k_base"),
    "o200k_base": tiktoken.get_encoding("o200k_base"),
}
print(f"\n{text!r} in tokens (· a space, � part of a character's bytes):")
for name, tokenizer in tokenizers.items():
    if isinstance(tokenizer, tiktoken.Encoding):
        pieces = [tokenizer.decode_single_token_bytes(i) for i in tokenizer.encode(text)]
    elif name == "SmolLM2":
        pieces = [tokenizer.convert_tokens_to_string([t]).encode("utf-8") for t in tokenizer.tokenize(text)]
    else:
        pieces = tokenizer(text)
    print(f"{name:>17}: {len(pieces):2} tokens  {' '.join(shown(p) for p in pieces)}")
