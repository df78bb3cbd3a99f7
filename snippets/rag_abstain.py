import json
import re
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
ONLY = "Answer only from the notes. If the notes do not contain the answer, reply exactly: not in the notes.\n"
PROMPTS = {  # the same prompt, with and without the instruction to abstain
    "plain": "Notes:\n{notes}\n\nQuestion: {question}\nAnswer in one sentence.",
    "notes only": "Notes:\n{notes}\n\n" + ONLY + "Question: {question}\nAnswer in one sentence.",
}
# What counts as abstaining, checked in the first 20 tokens of each reply (apostrophes straightened).
ABSTAINS = ("not in the notes", "don't know", "do not know", "cannot answer", "can't answer", "no information",
            "do not contain", "don't contain", "not mention", "doesn't mention", "not provided", "sorry",
            "don't have", "do not have", "unable to")
# Refusals written by hand, phrased as a model might: the check must catch every one.
WRITTEN = ["not in the notes", "The answer to this question is: not in the notes.",
           "I'm sorry, but the notes do not mention GPUs.", "I don’t have that information.",
           "The notes don't contain the price of GPT-4."]


def abstains(reply):
    return any(a in reply.lower().replace("\u2019", "'") for a in ABSTAINS)


def negated(reply):
    """A reply with a negation that the check did not count: a refusal in other words, or not?"""
    return not abstains(reply) and re.search(r"\b(not|no|never|none)\b|n't", reply.lower().replace("\u2019", "'"))


def best_chunk(questions):
    """The chunk closest in meaning to each question (the retrieval of the RAG example)."""
    scores = embedder.encode(questions, normalize_embeddings=True) @ embedder.encode(chunks, normalize_embeddings=True).T
    return [chunks[i] for i in scores.argmax(axis=1)]


def answers(template, questions):
    """Greedy answers of up to 20 tokens, room to say it after a preamble, in batches of similar
    length (batched.py)."""
    rows = [tokenizer.apply_chat_template([{"role": "user", "content": template.format(notes=notes, question=q)}],
                                          add_generation_prompt=True)["input_ids"]
            for q, notes in zip(questions, best_chunk(questions))]
    return greedy(model, tokenizer, rows, max_new_tokens=20)


print(f"{len(unanswerable)} questions the notes cannot answer: how often the model abstains")
print(f"(its first 20 tokens say one of {', '.join(repr(a) for a in ABSTAINS)}; 95% interval)")
print(f"the check on {len(WRITTEN)} refusals written by hand: catches {sum(map(abstains, WRITTEN))}")
for name, template in PROMPTS.items():
    replies = answers(template, unanswerable)
    abstained = sum(map(abstains, replies))
    low, high = wilson(abstained, len(replies))
    print(f"\n  prompt {name!r:13} {abstained}/{len(replies)} [{low:.2f}-{high:.2f}]")
    for question, reply in list(zip(unanswerable, replies))[:4]:
        print(f"    {question!r}\n      -> {reply.strip()!r}")
    others = [reply for reply in replies if negated(reply)]  # read them: a refusal the phrases miss?
    print(f"    the other replies with a negation (not, no, never, none, n't), uncounted: {len(others)}")
    for reply in others:
        print(f"      {reply.strip()!r}")
