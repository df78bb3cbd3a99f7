import numpy as np
from huggingface_hub import hf_hub_download
from safetensors.torch import load_file  # the file may hold bfloat16, which NumPy lacks
from transformers import AutoTokenizer

model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
table = load_file(hf_hub_download(model_id, "model.safetensors"))["model.embed_tokens.weight"].float().numpy()
print(f"embedding table: {table.shape[0]:,} rows (one per token id) of {table.shape[1]} numbers")

unit = table / np.linalg.norm(table, axis=1, keepdims=True)
for word in (" cat", " Paris", " three", " happy"):
    [token_id] = tokenizer(word).input_ids  # each of these is a single token
    row = table[token_id]
    print(f"\n{word!r} is id {token_id}; its row starts {' '.join(f'{v:.2f}' for v in row[:4])} ...")
    similarity = unit @ unit[token_id]  # cosine similarity with every row
    nearest = [i for i in np.argsort(-similarity) if i != token_id][:5]
    print("  nearest rows:", ", ".join(f"{tokenizer.decode(int(i))!r} {similarity[i]:.2f}" for i in nearest))
    print(f"  (its median similarity to all {len(table):,} rows: {np.median(similarity):.2f})")
