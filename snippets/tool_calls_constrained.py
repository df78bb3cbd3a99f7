import json
from collections import Counter
from pathlib import Path

import outlines
import torch
from outlines.backends import get_json_schema_logits_processor
from transformers import AutoModelForCausalLM, AutoTokenizer

from batched import greedy
from rates import interval, sign_test, wilson
from tools_app import CALL_SCHEMA, SYSTEM_ONE_CALL, execute, parse_call, same_call

model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32)  # the Hub default would load bfloat16
tests = json.loads((Path(__file__).parent / "data" / "tool_requests.json").read_text(encoding="utf-8"))["requests"]
# Constrained decoding: at each step, every token that cannot continue a JSON text matching
# CALL_SCHEMA gets probability 0. So the model writes the start of a valid call; if it ends
# before max_new_tokens, the call parses and validates; if the limit cuts it, it does not.
as_call = get_json_schema_logits_processor(None, outlines.from_transformers(model, tokenizer), json.dumps(CALL_SCHEMA))


def constrained_calls(requests, max_new_tokens=60):
    rows = [tokenizer.apply_chat_template([{"role": "system", "content": SYSTEM_ONE_CALL}, {"role": "user", "content": r}],
                                          add_generation_prompt=True)["input_ids"] for r in requests]
    return greedy(model, tokenizer, rows, max_new_tokens, processor=as_call)  # batched.py: the system prompt read once


texts = constrained_calls([t["request"] for t in tests])
calls, reasons = zip(*(parse_call(text) for text in texts))
right = [same_call(call, t["call"]) for call, t in zip(calls, tests)]
for t, text, call, reason, ok in list(zip(tests, texts, calls, reasons, right))[:8:2]:  # four weather requests
    verdict = f"not a call: {reason}" if call is None else ("the right call" if ok else "valid, not the right call")
    print(f"{t['request']:42} {text}\n{'':42} -> {verdict}{'; ' + str(execute(call)) if call else ''}")

n, valid = len(tests), sum(call is not None for call in calls)
print(f"\n{n} requests: valid calls {valid}/{n} {interval(valid, n)}; the right call {sum(right)}/{n} {interval(sum(right), n)}")
wrong_tool = sum(call is not None and call["name"] != t["call"]["name"] for call, t in zip(calls, tests))
wrong_arguments = n - sum(right) - wrong_tool - (n - valid)
cut_off = sum(reason is not None and reason.startswith("not JSON") for reason in reasons)  # the token limit ended it
print(f"  the others: the wrong tool {wrong_tool}; the right tool, wrong arguments {wrong_arguments}; "
      f"not a call {n - valid} (cut off {cut_off})")
# Which tool it chose, by the tool each request needs: is it choosing, or leaning to one tool?
for needed in sorted({t["call"]["name"] for t in tests}):
    chosen = Counter(call["name"] if call else "not a call" for call, t in zip(calls, tests) if t["call"]["name"] == needed)
    print(f"  needs {needed:16} chose: " + ", ".join(f"{name} {k}" for name, k in sorted(chosen.items())))
right_tool, one_tool = valid - wrong_tool, max(Counter(t["call"]["name"] for t in tests).values())
print(f"  the right tool {right_tool}/{n} {interval(right_tool, n)}; always choosing one tool would get {one_tool}/{n}")
# A coin flip per request would also get about half: an exact binomial test against 1/2 (the
# same sum as the sign test); one-sided, the question "better than chance?", it is half of two-sided.
p_coin = sign_test(right_tool, n - right_tool)
print(f"  against a coin flip: exact p = {p_coin:.3f} two-sided, {p_coin / 2:.3f} one-sided;"
      f" the interval's lower end {wilson(right_tool, n)[0]:.3f}")
t, text = next((t, text) for t, text, call, ok in zip(tests, texts, calls, right)
               if call and not ok and call["name"] == t["call"]["name"])
print(f"  the right tool with wrong arguments, e.g. {t['request']!r}:\n    {text}\n    expected {json.dumps(t['call'])}")

text = constrained_calls([tests[0]["request"]], max_new_tokens=12)[0]
print(f"\nthe first request again, with max_new_tokens=12: {text}\n  -> {parse_call(text)[1]}")
