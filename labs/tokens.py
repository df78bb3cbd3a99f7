# %% [markdown]
# # Lab: tokens
#
# A language model never sees letters or words: it sees **token ids**. In this lab you
# change the input and watch the ids and the count move. It uses `cl100k_base`, the
# tokenizer of GPT-4 and GPT-3.5-turbo, through OpenAI's `tiktoken` library.
#
# Run the cells from top to bottom (in Jupyter: *Run → Run All Cells*). You need
# `pip install tiktoken`; the first run downloads the 1.7 MB vocabulary once.

# %%
import tiktoken

enc = tiktoken.get_encoding("cl100k_base")
print("highest token id + 1 (n_vocab):", enc.n_vocab)


def show(text):
    """Print the token count, the pieces between bars, and the ids."""
    ids = enc.encode(text)
    pieces = [enc.decode([i]) for i in ids]
    unit = "token " if len(ids) == 1 else "tokens"
    print(f"{len(ids):2} {unit} |{'|'.join(pieces)}|  {ids}")


show("Hello world")

# %% [markdown]
# ## 1. Small changes, different tokens
#
# Capital letters and a leading space change which tokens are used. Spaces belong to the
# token *after* them, so `" world"` (with its space) is a single token.

# %%
for text in ["Hello world", "hello world", "HELLO WORLD", " Hello world", "Hello  world"]:
    show(text)

# %% [markdown]
# ## 2. Common words are one token, rare words are several
#
# The vocabulary was learned from a large amount of text. Frequent words got their own
# token; rare or invented words are built from pieces.

# %%
for word in ["token", "tokenization", "detokenization", "antidisestablishmentarianism"]:
    show(word)

# %% [markdown]
# ## 3. Numbers are cut into groups of at most three digits
#
# That is one reason models find long arithmetic hard: a number is not one symbol
# ([Singh & Strouse, 2024](https://arxiv.org/abs/2402.14903)).

# %%
for number in ["7", "42", "2026", "1234567", "3.14159"]:
    show(number)

# %% [markdown]
# ## 4. Languages and emoji cost differently
#
# Compare characters, UTF-8 bytes and tokens. English gets about four to five characters per
# token (the English sample below: 5.0); Chinese is closer to one token per character; an emoji can need
# several tokens.

# %%
samples = {
    "English": "I am learning how large language models work.",
    "Chinese": "我正在学习大语言模型是如何工作的。",
    "Emoji": "🙂🚀🧠",
}
for name, text in samples.items():
    n = len(enc.encode(text))
    print(f"{name:8}{len(text):3} characters {len(text.encode()):4} bytes {n:3} tokens  {len(text) / n:.1f} characters per token")

# %% [markdown]
# ## 5. A token is a piece of bytes, not always a whole character
#
# The brain emoji is four UTF-8 bytes. Look at the bytes behind each of its tokens:
# one token holds only part of the character, which is why decoding a single token can
# give a replacement character `�`.

# %%
for i in enc.encode("🧠"):
    print(i, enc.decode_single_token_bytes(i), repr(enc.decode([i])))

# %% [markdown]
# ## 6. Encoding is lossless
#
# Decoding the ids gives back exactly the original text, whatever it contains.

# %%
text = "Tabs\tand  spaces,\nnew lines, 中文 and 🙂 all survive."
enc.decode(enc.encode(text)) == text

# %% [markdown]
# ## 7. Your turn
#
# Put your own text in `my_text` and run the cell again: your name, a sentence in your
# language, a line of code. Which gets the fewest characters per token (costs the most)?

# %%
my_text = "Write your own sentence here."
show(my_text)
round(len(my_text) / len(enc.encode(my_text)), 1)  # characters per token
