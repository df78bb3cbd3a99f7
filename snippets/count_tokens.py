import tiktoken

# cl100k_base is the tokenizer of GPT-4 and GPT-3.5-turbo.
enc = tiktoken.get_encoding("cl100k_base")

text = "Large language models predict the next token."
tokens = enc.encode(text)
print(f"{len(tokens)} tokens: {tokens}")

# Decoding the ids gives back exactly the text we started with.
decoded = enc.decode(tokens)
print(f"round trip: {decoded!r} -> identical: {decoded == text}")

# Each id stands for a piece of text; note the leading spaces.
print("pieces:")
print([enc.decode([token]) for token in tokens])

# The same idea costs a different number of tokens in different languages.
samples = {
    "English": "I am learning how large language models work.",
    "Chinese": "我正在学习大语言模型是如何工作的。",
}
counts = {language: len(enc.encode(sample)) for language, sample in samples.items()}
for language, sample in samples.items():
    print(f"{language:8}{len(sample):3} characters {counts[language]:3} tokens")
ratio = counts["Chinese"] / counts["English"]
print(f"the same meaning costs {ratio:.1f}x the tokens in Chinese")
