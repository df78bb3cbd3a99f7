"""Strings on which the browser tokenizer must give exactly tiktoken's ids.

Hand-picked cases for each tricky part of cl100k's pattern and of byte-pair merging, then
a seeded random mix of fragments from many scripts, so the set is large, varied and the
same on every run.
"""

from __future__ import annotations

import random

HAND_PICKED = [
    "", "a", " ", "  ", "\n", "\r\n", "\t", "Hello world", "hello world", "HELLO WORLD",
    "Large language models predict the next token.",
    # contractions, any case, and the long s that Unicode case folding matches to s
    "it's don't we'll they've I'm you're he'd", "IT'S DON'T WE'LL THEY'VE I'M", "'s'S'ſ'x",
    "rock'n'roll", "''''", "'", "l'amour", "O'Neil's",
    # digits: groups of at most three, other numeral scripts too
    "1", "12", "123", "1234", "1234567890", "3.14159", "1,000,000", "v2.0.1", "٣٤٥٦", "१२३४",
    "Ⅻ ½ ²³", "007", "2026-11-26T06:00:00Z",
    # whitespace runs: trailing, before newlines, mixed with tabs and Unicode spaces
    "a  b", "a   b", "a \n b", "a\n\n\nb", "  leading", "trailing  ", "x\t\ty", " \t \n ",
    "a\u00a0b", "a\u3000b", "a\u2028b", "a\u0085b", "a\ufeffb", "a\u200bb", "   \n   \n",
    "end with spaces   ", "end with newline\n", "\n\n", "\r\r\n\n",
    # punctuation runs and symbols
    "!!!", "?!?!", "...", "—", "--", "->", "=>", "!=", "::", "{{}}", "[]", "(())", "@#$%^&*",
    "a.b,c;d:e", "“quoted” «guillemets» ‘single’", "© ® ™ § ¶ † ‡",
    # code
    "def f(x):\n    return x ** 2\n", "for (let i = 0; i < n; i++) {\n\tsum += a[i];\n}",
    "SELECT * FROM users WHERE id = 42;", "<div class=\"x\">hi</div>", "#include <stdio.h>",
    "    indented\n        more", "x=1;y=2", "snake_case camelCase PascalCase kebab-case",
    "https://example.com/path?q=1&r=2#frag", "user@example.com", "C:\\Users\\me",
    # special-token-like text is plain text here
    "<|endoftext|>", "<|fim_prefix|>x<|fim_suffix|>", "<|im_start|>user\nhi<|im_end|>",
    # Chinese, Japanese, Korean, other scripts
    "我正在学习大语言模型是如何工作的。", "大语言模型", "你好，世界！", "こんにちは世界", "カタカナ",
    "안녕하세요 세계", "Привет, мир", "Γειά σου Κόσμε", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया",
    "สวัสดีชาวโลก", "Xin chào thế giới", "Zürich Ångström façade naïve", "ﬁ ﬂ", "İstanbul ıi",
    # emoji: single, skin tones, ZWJ sequences, flags, keycaps, variation selectors
    "🙂", "🧠", "🚀🚀🚀", "👍🏽", "👩‍💻", "👨‍👩‍👧‍👦", "🇨🇳🇺🇸", "1️⃣", "❤️", "☺︎", "🏳️‍🌈",
    # combining marks and rare characters
    "e\u0301", "a\u0300\u0301\u0302", "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇", "\U0001d400\U0001d401", "\U00020000",
    "a" * 300, " " * 300, "ab" * 200, "🙂" * 50, "。" * 20, "1" * 100,
]

FRAGMENTS = [
    "the", " the", "The", " model", " tokens", "token", "ization", " Transformer", "RAG",
    "'s", "'LL", "'ve", "n't", " 42", "2026", "3.5", "1000000", " ", "  ", "   ", "\t", "\n",
    "\n\n", "\r\n", " \n", "\u00a0", "\u3000", "!", "?!", "...", ",", "—", "(", ")", "{", "}",
    "==", "->", "<|endoftext|>", "<|", "|>", "我", "学习", "大语言模型", "。", "，", "こんにちは",
    "한국어", "мир", "κόσμος", "عالم", "नमस्ते", "ไทย", "é", "e\u0301", "ß", "ſ", "🙂", "🧠",
    "👍🏽", "👩‍💻", "🇨🇳", "❤️", "def ", "return ", "x = 1", "    ", "#", "//", "http://",
    "_", "__init__", "camelCase", "ALLCAPS", "١٢٣", "½", "™", "\U0001d400",
]


def random_cases(count: int = 3000, seed: int = 20261126) -> list[str]:
    """``count`` strings, each 1 to 12 random fragments joined together."""
    rng = random.Random(seed)
    return ["".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 12))) for _ in range(count)]


def sample_text(size: int = 10_000, seed: int = 7) -> str:
    """About ``size`` characters of mixed prose, code and scripts, for timing the encoder."""
    rng = random.Random(seed)
    pieces = [*HAND_PICKED[:90], *random_cases(200, seed)]
    text = ""
    while len(text) < size:
        text += rng.choice(pieces) + rng.choice([" ", "\n", ". ", "\n\n"])
    return text[:size]


def all_cases() -> list[str]:
    return [*HAND_PICKED, *random_cases(), sample_text()]
