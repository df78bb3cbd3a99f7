import json
from collections import Counter
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from batched import greedy
from rates import interval
from tools_app import SYSTEM, parse_call, same_call

model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32)  # the Hub default would load bfloat16
# 50 requests, each with the one call that serves it.
tests = json.loads((Path(__file__).parent / "data" / "tool_requests.json").read_text(encoding="utf-8"))["requests"]


def prompt_ids(messages):
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True)["input_ids"]


# Every request after the same system prompt: the model reads that prompt once (batched.py).
asked = [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": t["request"]}] for t in tests]
texts = greedy(model, tokenizer, [prompt_ids(m) for m in asked], max_new_tokens=60)  # as many as the constrained run gets
calls = [parse_call(text) for text in texts]
for t, text, (call, problem) in list(zip(tests, texts, calls))[:4]:
    print(f"{t['request']}\n  model:  {text[:110]!r}\n  -> {problem or 'a valid call'}")

n = len(tests)
valid = [i for i, (call, _) in enumerate(calls) if call is not None]
right = sum(same_call(calls[i][0], tests[i]["call"]) for i in valid)
print(f"\n{n} requests: valid calls {len(valid)}/{n} {interval(len(valid), n)}; the right call {right}/{n} {interval(right, n)}")
print("why the others are not calls:", dict(sorted(Counter(p.split(" (")[0] for _, p in calls if p).items())))

