import re
from math import comb

from transformers import AutoModelForCausalLM, AutoTokenizer

from notes_db import open_notes_db, search

model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
llm = AutoModelForCausalLM.from_pretrained(model_id)
client = open_notes_db()


def answer(question, context=None):
    """SmolLM2's greedy answer, from its own weights alone or from the retrieved notes."""
    prompt = question
    if context is not None:
        notes = "\n\n".join(hit["text"] for hit in context)
        prompt = f"Notes:\n{notes}\n\nQuestion: {question}\nAnswer with a short phrase from the notes."
    inputs = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                           return_tensors="pt", return_dict=True)
    output = llm.generate(**inputs, max_new_tokens=24, do_sample=False)
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()


def wilson(k, n, z=1.96):
    """The 95% Wilson interval for k successes in n: what k/n says about the true rate."""
    centre, half = (k + z * z / 2) / (n + z * z), z * (k * (n - k) / n + z * z / 4) ** 0.5 / (n + z * z)
    return f"{max(0.0, centre - half):.2f}-{min(1.0, centre + half):.2f}"


def sign_test(better, worse):
    """Two-sided exact sign test on the items that changed: could chance alone give a split
    this lopsided? (The same questions are asked twice, so compare them pair by pair.)"""
    n = better + worse
    return min(1.0, 2 * sum(comb(n, i) for i in range(max(better, worse), n + 1)) / 2**n) if n else 1.0


# Each question, and a pattern the answer must contain to count as correct.
questions = [
    ("What is the goal of this class?", r"full[- ]stack"),
    ("What kind of test is RAG like?", r"open[- ]book"),
    ("What kind of test is fine-tuning like?", r"close[d]?[- ]book"),
    ("What are the three modes of working with AI?", r"co-?pilot"),
    ("What should you prepare first when choosing a technical approach?", r"test data"),
    ("Which models are best for data security?", r"open[- ]source"),
    ("How many people does the world need to train foundation models?", r"(less|fewer) than 1,?000"),
    # The notes never say: the only right answer admits it.
    ("Which GPU does the class use for homework?", r"(not|n't) (in the notes|know|say)"),
]
correct = {"without context": 0, "with context": 0}
changed = {"better": 0, "worse": 0}
for question, fact in questions:
    hits = search(client, question, k=2)
    print(f"Q: {question}   (expect /{fact}/; chunks #{hits[0]['id']} {hits[0]['score']:.2f}, #{hits[1]['id']} {hits[1]['score']:.2f})")
    verdicts = []
    for name, context in (("without context", None), ("with context", hits)):
        reply = answer(question, context)
        right = re.search(fact, reply, re.IGNORECASE) is not None
        correct[name] += right
        verdicts.append(right)
        print(f"  {name:15} {'RIGHT' if right else 'wrong'}  {reply[:100]!r}")
    changed["better"] += verdicts == [False, True]
    changed["worse"] += verdicts == [True, False]
print()
for name, right in correct.items():
    print(f"{name:15} {right}/{len(questions)} correct (95% interval {wilson(right, len(questions))})")
print(f"changed with the notes: {changed['better']} better, {changed['worse']} worse"
      f" (exact sign test, two-sided p = {sign_test(changed['better'], changed['worse']):.3f})")
