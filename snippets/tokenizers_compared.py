import tiktoken
from transformers import AutoTokenizer

sentences = {
    "English": "Tokenizers split text into pieces.",
    "Chinese": "分词器把文本切成小块。",  # the same meaning
}
tokenizers = {
    "cl100k_base (GPT-4)": tiktoken.get_encoding("cl100k_base"),
    "o200k_base (GPT-4o)": tiktoken.get_encoding("o200k_base"),
    "SmolLM2 (BPE)": AutoTokenizer.from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct"),
    "MiniLM (WordPiece)": AutoTokenizer.from_pretrained("sentence-transformers/all-MiniLM-L6-v2"),
}


def pieces(tokenizer, text):
    """Each token decoded on its own; a token holding part of a character's bytes shows as �."""
    if isinstance(tokenizer, tiktoken.Encoding):
        ids = tokenizer.encode(text)
    else:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return [tokenizer.decode([i]) for i in ids]


for name, tokenizer in tokenizers.items():
    size = tokenizer.n_vocab if isinstance(tokenizer, tiktoken.Encoding) else len(tokenizer)
    print(f"{name}: token ids 0 to {size - 1:,}")
    for language, text in sentences.items():
        cut = pieces(tokenizer, text)
        print(f"  {language}: {len(cut):2} tokens  {' | '.join(cut)}")
    print()

smol = tokenizers["SmolLM2 (BPE)"]
chat = [{"role": "user", "content": "Hi!"}]
text = smol.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
ids = smol.apply_chat_template(chat, add_generation_prompt=True)["input_ids"]
words = len(smol("Hi!", add_special_tokens=False)["input_ids"])
print(f"SmolLM2's chat template wraps the {words} tokens of 'Hi!' into {len(ids)} tokens:")
print(text)
