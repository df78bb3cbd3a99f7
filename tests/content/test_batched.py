"""``snippets/batched.py`` answers many prompts at once, reading the start a group of them
shares once (``greedy(..., groups=...)``).  That must change what the model reads, never what
it replies: each row's reply is the one it gets asked alone, and the grouped run reads fewer
tokens.  Run with SmolLM2 from the seeded cache, in the sandbox a snippet gets."""

import shutil
import textwrap
from dataclasses import replace

import pytest

from scripts import gate
from scripts.gate import run
from tests.conftest import REPO

SCRIPT = '''
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

import batched
from batched import greedy

model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32)
NOTES = {"t": "A Transformer reads every earlier token at each step, so its cost grows with the context.",
         "r": "RWKV keeps a fixed-size state, so each new token costs the same."}
ASKED = [("t", "What grows with the context?"), ("t", "What does a Transformer read?"),
         ("r", "What does RWKV keep?"), ("r", "Does a new token cost more?"), ("r", "Is RWKV a Transformer?"),
         (None, "What is a token?")]


def ids(note, question):
    text = f"Notes:\\n{NOTES[note]}\\n\\nQuestion: {question}" if note else f"Question: {question}"
    return tokenizer.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True)["input_ids"]


rows = [ids(note, question) for note, question in ASKED]
read = []
model.register_forward_pre_hook(lambda _, args, kwargs: read.append(kwargs["input_ids"].numel()), with_kwargs=True)
calls, by_budget = [], batched.by_budget
batched.by_budget = lambda *args: calls.append(list(by_budget(*args))) or calls[-1]  # the batches each call made
kept_once, update = [], batched.StartsOnce.update
batched.StartsOnce.update = lambda self, *a, **k: kept_once.append(len(self.starts)) or update(self, *a, **k)
grouped = greedy(model, tokenizer, rows, 12, groups=[note for note, _ in ASKED])
mixed = any(len({ASKED[i][0] for i in part}) > 1 for part in calls[-1])  # the last call: the replies' batches
grouped_read, read[:] = sum(read), []
one_group = greedy(model, tokenizer, rows, 12)
one_group_read = sum(read)


def alone(row):
    """The prompt alone, by transformers' own generate: no batch, no start read apart."""
    with torch.no_grad():
        ids = model.generate(torch.tensor([row]), attention_mask=torch.ones(1, len(row), dtype=torch.long),
                             max_new_tokens=12, do_sample=False)
    return tokenizer.decode(ids[0, len(row):], skip_special_tokens=True).strip()


# Plain text, no chat template: rows that share no start at all, of different lengths (padded).
plain = [tokenizer(text)["input_ids"] for text in ("The capital of France is", "Two plus two is four, and three plus")]
no_start = greedy(model, tokenizer, plain, 12)
no_start_alone = [alone(row) for row in plain]
alone = [alone(row) for row in rows]
print("grouped replies as alone:", grouped == alone, "one group's as alone:", one_group == alone)
print("no start, replies as alone:", no_start == no_start_alone, no_start)
print("rows of different groups in one batch:", mixed)
print("most starts kept apart in one batch's cache:", max(kept_once))  # each read once, not copied per row
print("positions read (padding too), grouped:", grouped_read, "one group:", one_group_read)
'''


@pytest.mark.slow
def test_groups_read_less_and_reply_the_same(tmp_path):
    project = gate.Project.load(REPO)
    target = project.target(REPO / "snippets" / "rag_answer.py")  # a snippet that imports batched.py
    tmp_path.chmod(0o755)  # runs are never root: a folder they read must be readable by others
    shutil.copy(REPO / "snippets" / "batched.py", tmp_path / "batched.py")
    script = tmp_path / "groups.py"
    script.write_text(textwrap.dedent(SCRIPT), encoding="utf-8")
    spec = target.spec(project)
    result = run.run(replace(spec, argv=(str(script),), readable=(*spec.readable, tmp_path), family=None))

    out = result.stdout.decode()
    assert "grouped replies as alone: True one group's as alone: True" in out, out + result.stderr[-2000:]
    assert "no start, replies as alone: True" in out, out
    assert "rows of different groups in one batch: True" in out, out
    assert "most starts kept apart in one batch's cache: 3" in out, out  # the two notes and no note
    grouped, one_group = (int(n) for n in out.split("positions read (padding too), grouped:")[1].split("one group:"))
    assert grouped < one_group, out
