import json
import re
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from batched import greedy
from notes_db import chunk, model as embedder
from rates import interval

data = Path(__file__).parent / "data"
chunks = [c["text"] for c in chunk((data / "class_notes.md").read_text(encoding="utf-8"))]
unanswerable = json.loads((data / "unanswerable_questions.json").read_text(encoding="utf-8"))

model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32)  # the Hub default would load bfloat16
ONLY = "Answer only from the notes. If the notes do not contain the answer, reply exactly: not in the notes.\n"
PROMPTS = {  # the same prompt, with and without the instruction to abstain
    "plain": "Notes:\n{notes}\n\nQuestion: {question}\nAnswer in one sentence.",
    "notes only": "Notes:\n{notes}\n\n" + ONLY + "Question: {question}\nAnswer in one sentence.",
}
# What counts as abstaining, checked in the first 20 tokens of each reply (apostrophes straightened).
ABSTAINS = ("not in the notes", "don't know", "do not know", "cannot answer", "can't answer", "no information",
            "do not contain", "don't contain", "not mention", "doesn't mention", "not provided", "sorry",
            "don't have", "do not have")
# The second net: replies the check did not count that hold one of these words (or end a word
# in n't), listed to be read.
NEGATIONS = ("not", "no", "never", "none", "nothing", "cannot", "unable", "unknown")
# Refusals written by hand, phrased as a model might: the check must catch every one.
WRITTEN = ["not in the notes", "The answer to this question is: not in the notes.",
           "I'm sorry, but the notes do not mention GPUs.", "I don’t have that information.",
           "The notes don't contain the price of GPT-4."]
# And refusals in words the phrases lack: the check misses them, and the second net, the list
# of uncounted replies with a negation, must show every one.
OTHER_WORDS = ["The notes cannot tell us the price.", "The notes say nothing about GPUs.",
               "I am unable to find this in the notes.", "That is unknown."]


def normalised(reply):
    return reply.lower().replace("\u2019", "'")  # a curly apostrophe counts as a straight one


def abstains(reply):
    return any(a in normalised(reply) for a in ABSTAINS)


def negated(reply):
    """A reply with a negation that the check did not count: a refusal in other words, or not?"""
    return not abstains(reply) and re.search(rf"\b({'|'.join(NEGATIONS)})\b|n't", normalised(reply))


def best_chunk(questions):
    """The chunk closest in meaning to each question (the retrieval of the RAG example)."""
    scores = embedder.encode(questions, normalize_embeddings=True) @ embedder.encode(chunks, normalize_embeddings=True).T
    return [chunks[i] for i in scores.argmax(axis=1)]


def answers(questions):
    """Greedy answers of up to 20 tokens, room to say it after a preamble, to each question under
    each prompt: {prompt's name: answers}. One call (batched.py): the prompts that begin with
    the same chunk share its reading, and rows of similar length go in one batch."""
    notes = best_chunk(questions)
    rows = [tokenizer.apply_chat_template([{"role": "user", "content": template.format(notes=chunk, question=q)}],
                                          add_generation_prompt=True)["input_ids"]
            for template in PROMPTS.values() for q, chunk in zip(questions, notes)]
    replies = greedy(model, tokenizer, rows, max_new_tokens=20, groups=notes * len(PROMPTS))
    return {name: replies[k * len(questions):(k + 1) * len(questions)] for k, name in enumerate(PROMPTS)}


print(f"{len(unanswerable)} questions the notes cannot answer: how often the model abstains")
print(f"(its first 20 tokens say one of {', '.join(repr(a) for a in ABSTAINS)}; 95% interval)")
print(f"the check on {len(WRITTEN)} refusals written by hand with its phrases: catches {sum(map(abstains, WRITTEN))}")
print(f"on {len(OTHER_WORDS)} written in other words: catches {sum(map(abstains, OTHER_WORDS))};"
      f" the list of uncounted replies with a negation shows {sum(bool(negated(r)) for r in OTHER_WORDS)}")
# And it must not count an answer as a refusal: none of the notes' own chunks, which a model
# may copy into its reply, may hold one of the phrases.
print(f"the check on the notes' {len(chunks)} chunks, none a refusal: counts {sum(map(abstains, chunks))}")
for name, replies in answers(unanswerable).items():
    # The phrases can match an answer too ("if you don't have a rice cooker"): read every one counted.
    counted = [reply for reply in replies if abstains(reply)]
    n, abstained = len(replies), len(counted)
    exact = sum("not in the notes" in normalised(reply) for reply in replies)  # the instructed words
    answered = n - abstained  # not counted as abstaining: an answer from training, made up, filler, or cut short
    print(f"\n  prompt {name!r:13} abstained {abstained}/{n} {interval(abstained, n)} (the instructed"
          f" 'not in the notes' {exact}/{n} {interval(exact, n)}); answered anyway {answered}/{n} {interval(answered, n)}")
    print(f"    the replies counted as abstaining, to read: {len(counted)}")
    for reply in counted:
        print(f"      {reply.strip()!r}")
    for question, reply in list(zip(unanswerable, replies))[:4]:
        print(f"    {question!r}\n      -> {reply.strip()!r}")
    others = [reply for reply in replies if negated(reply)]  # read them: a refusal the phrases miss?
    print(f"    the other replies with a negation ({', '.join(NEGATIONS)}, n't), uncounted: {len(others)}")
    for reply in others:
        print(f"      {reply.strip()!r}")
