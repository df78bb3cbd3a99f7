import json
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from notes_db import chunk, model as embedder
from rates import wilson

data = Path(__file__).parent / "data"
chunks = [c["text"] for c in chunk((data / "class_notes.md").read_text(encoding="utf-8"))]
unanswerable = json.loads((data / "unanswerable_questions.json").read_text(encoding="utf-8"))

model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id, padding_side="left")  # pad before, generate after
model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32)
PROMPTS = {
    "plain": "Notes:\n{notes}\n\nQuestion: {question}\nAnswer in one sentence.",
    "notes only": "Notes:\n{notes}\n\nAnswer only from the notes. If the notes do not contain the answer, "
                  "reply exactly: not in the notes.\nQuestion: {question}",
}
# What counts as abstaining, checked in the first 10 tokens of each reply (apostrophes straightened).
ABSTAINS = ("not in the notes", "don't know", "do not know", "cannot answer", "no information",
            "do not contain", "don't contain", "not mention", "doesn't mention")


def best_chunk(questions):
    """The chunk closest in meaning to each question (the retrieval of the RAG example)."""
    scores = embedder.encode(questions, normalize_embeddings=True) @ embedder.encode(chunks, normalize_embeddings=True).T
    return [chunks[i] for i in scores.argmax(axis=1)]


def answers(template, questions, batch=10):
    """Greedy answers, 10 prompts of similar length per batch (padded on the left, so every
    prompt ends where its answer starts), in the questions' order."""
    chats = [[{"role": "user", "content": template.format(notes=notes, question=q)}]
             for q, notes in zip(questions, best_chunk(questions))]
    order = sorted(range(len(chats)), key=lambda i: len(tokenizer.apply_chat_template(chats[i])["input_ids"]))
    replies = {}
    for start in range(0, len(order), batch):
        part = order[start:start + batch]
        inputs = tokenizer.apply_chat_template([chats[i] for i in part], add_generation_prompt=True, padding=True,
                                               return_tensors="pt", return_dict=True)
        with torch.no_grad():
            output = model.generate(**inputs, max_new_tokens=10, do_sample=False)  # enough to say it
        texts = tokenizer.batch_decode(output[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        replies.update(zip(part, texts))
    return [replies[i] for i in range(len(chats))]


print(f"{len(unanswerable)} questions the notes cannot answer: how often the model abstains")
print(f"(its first 10 tokens say one of {', '.join(repr(a) for a in ABSTAINS)}; 95% interval)")
for name, template in PROMPTS.items():
    replies = answers(template, unanswerable)
    abstained = sum(any(a in r.lower().replace("\u2019", "'") for a in ABSTAINS) for r in replies)
    low, high = wilson(abstained, len(replies))
    print(f"\n  prompt {name!r:13} {abstained}/{len(replies)} [{low:.2f}-{high:.2f}]")
    for question, reply in list(zip(unanswerable, replies))[:2]:
        print(f"    {question!r}\n      -> {reply.strip()!r}")
