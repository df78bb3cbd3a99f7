import math
import random
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32)

sentences = (Path(__file__).parent / "data" / "tiny_corpus.txt").read_text(encoding="utf-8").splitlines()
shuffled = []
rng = random.Random(0)
for sentence in sentences:  # the same words in a random order, capitalised as a sentence
    words = sentence.rstrip(".").lower().split()
    rng.shuffle(words)
    shuffled.append(" ".join(words).capitalize() + ".")


def loss_of(text):
    """Mean -ln P(token) over every token after the first (the predicted ones), their number,
    and how many characters they hold."""
    ids = tokenizer(text, return_tensors="pt").input_ids
    # Given labels, the model returns the mean cross-entropy of its predictions: it shifts them by
    # one itself, so position i is scored on token i + 1, and the last position is not scored.
    with torch.no_grad():
        loss = model(ids, labels=ids).loss.item()
    return loss, ids.shape[1] - 1, len(text) - len(tokenizer.decode(ids[0, :1]))


print(f"{'':16}{'predicted tokens':>17}{'loss':>7}{'perplexity':>12}{'bits per character':>20}")
for name, texts in (("the 8 sentences", sentences), ("words shuffled", shuffled)):
    loss, count, characters = loss_of("\n".join(texts))
    bits = loss * count / characters / math.log(2)  # the same total surprise, in bits, per character
    print(f"{name:16}{count:17}{loss:7.2f}{math.exp(loss):12.0f}{bits:20.2f}")
print("\nfor example:", shuffled[1])
