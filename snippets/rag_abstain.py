import json
from pathlib import Path

from transformers import AutoModelForCausalLM, AutoTokenizer

from batched import greedy
from notes_db import chunk, model as embedder
from rates import wilson

data = Path(__file__).parent / "data"
chunks = [c["text"] for c in chunk((data / "class_notes.md").read_text(encoding="utf-8"))]
unanswerable = json.loads((data / "unanswerable_questions.json").read_text(encoding="utf-8"))

model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
model = AutoModelForCausalLM.from_pretrained(model_id)
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


def answers(template, questions):
    """Greedy answers of up to 10 tokens, enough to say it, in batches of similar length (batched.py)."""
    rows = [tokenizer.apply_chat_template([{"role": "user", "content": template.format(notes=notes, question=q)}],
                                          add_generation_prompt=True)["input_ids"]
            for q, notes in zip(questions, best_chunk(questions))]
    return greedy(model, tokenizer, rows, max_new_tokens=10)


print(f"{len(unanswerable)} questions the notes cannot answer: how often the model abstains")
print(f"(its first 10 tokens say one of {', '.join(repr(a) for a in ABSTAINS)}; 95% interval)")
for name, template in PROMPTS.items():
    replies = answers(template, unanswerable)
    abstained = sum(any(a in r.lower().replace("\u2019", "'") for a in ABSTAINS) for r in replies)
    low, high = wilson(abstained, len(replies))
    print(f"\n  prompt {name!r:13} {abstained}/{len(replies)} [{low:.2f}-{high:.2f}]")
    for question, reply in list(zip(unanswerable, replies))[:2]:
        print(f"    {question!r}\n      -> {reply.strip()!r}")
