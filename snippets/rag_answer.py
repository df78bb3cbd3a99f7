import json
import re
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from batched import greedy
from notes_db import open_notes_db, search
from rates import interval, paired_change, sign_test

# 60 questions the notes answer, each with the phrase of the chunk that answers it ("answer")
# and a pattern a correct reply contains ("expect"), written from the notes' fact.
tests = json.loads((Path(__file__).parent / "data" / "retrieval_questions.json").read_text(encoding="utf-8"))
model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
llm = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32)  # the Hub default would load bfloat16
client = open_notes_db()


def prompt(question, hits=None):
    """The question after "Question: ", with the same instruction, alone or after the retrieved
    notes (then the instruction says "from the notes")."""
    if hits is None:
        return f"Question: {question}\nAnswer with a short phrase."
    notes = "\n\n".join(hit["text"] for hit in hits)
    return f"Notes:\n{notes}\n\nQuestion: {question}\nAnswer with a short phrase from the notes."


def answers(prompts, groups):
    """Greedy replies of up to 20 tokens, all in one call, in batches of similar length
    (batched.py): the prompts of a group share the start they have in common, read once (here,
    the prompts given the same first chunk; and the prompts without notes, which share only
    the chat template's start, as does a prompt whose first chunk no other prompt has)."""
    rows = [tokenizer.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True)["input_ids"]
            for p in prompts]
    return greedy(llm, tokenizer, rows, max_new_tokens=20, groups=groups)


retrieved = [search(client, t["question"], k=2) for t in tests]
found = [any(t["answer"] in hit["text"] for hit in hits) for t, hits in zip(tests, retrieved)]
n = len(tests)
both = answers([prompt(t["question"]) for t in tests] + [prompt(t["question"], hits) for t, hits in zip(tests, retrieved)],
               groups=[None] * n + [hits[0]["text"] for hits in retrieved])
replies = {"without notes": both[:n], "with 2 chunks": both[n:]}
# A reply is right when it contains the pattern (a curly apostrophe read as a straight one).
right = {name: [re.search(t["expect"], r.replace("\u2019", "'"), re.IGNORECASE) is not None for t, r in zip(tests, rs)]
         for name, rs in replies.items()}

print(f"{n} questions about the notes; a reply is right when it contains the question's pattern")
for name, verdicts in right.items():
    print(f"  {name:14} right {sum(verdicts):2}/{n} {interval(sum(verdicts), n)}")
before, after = right["without notes"], right["with 2 chunks"]
better, worse = sum(a and not b for a, b in zip(after, before)), sum(b and not a for a, b in zip(after, before))
print(f"  changed with the notes: {better} better, {worse} worse (exact sign test, two-sided p = {sign_test(better, worse):.3f})")
change, low, high = paired_change(before, after)
print(f"  change in the rate: {change:+.2f} [{low:+.2f} to {high:+.2f}]")

print(f"\nretrieval put the answering chunk in the 2 given for {sum(found)}/{n} {interval(sum(found), n)}")
print("  right, split by it (counts only: too few questions in each part for a rate):")
for label, given in (("given", True), ("not given", False)):
    ok = {name: [v for v, f in zip(verdicts, found) if f == given] for name, verdicts in right.items()}
    print(f"  answering chunk {label:9} ({len(ok['without notes'])} questions): " + ", ".join(
        f"{name} {sum(v):2}" for name, v in ok.items()))

print("\nthe questions whose verdict the notes changed (/pattern/; answering chunk given or not;"
      " the first 90 characters of each reply):")
for i, t in enumerate(tests):
    if before[i] != after[i]:
        print(f"Q: {t['question']}   /{t['expect']}/   {'given' if found[i] else 'NOT given'}")
        for name in replies:
            print(f"  {name:14} {'RIGHT' if right[name][i] else 'wrong'}  {replies[name][i][:90]!r}")
