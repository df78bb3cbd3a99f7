import json

import outlines
from transformers import AutoModelForCausalLM, AutoTokenizer

from tools_app import CALL_SCHEMA, REQUESTS, SYSTEM_ONE_CALL, execute, parse_call, same_call

model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
model = outlines.from_transformers(AutoModelForCausalLM.from_pretrained(model_id), tokenizer)
# Constrained decoding: at each step, every token that cannot continue a JSON text matching
# CALL_SCHEMA gets probability 0. So the model writes the start of a valid call; if it ends
# before max_new_tokens, the call parses and validates; if the limit cuts it, it does not.
as_call = outlines.types.JsonSchema(json.dumps(CALL_SCHEMA))


def constrained_call(request, max_new_tokens=60):
    prompt = tokenizer.apply_chat_template([{"role": "system", "content": SYSTEM_ONE_CALL}, {"role": "user", "content": request}],
                                           add_generation_prompt=True, tokenize=False)
    return model(prompt, as_call, max_new_tokens=max_new_tokens)  # greedy by default


valid = right = 0
for request, expected in REQUESTS:
    text = constrained_call(request)
    call, problem = parse_call(text)
    valid += call is not None
    right += same_call(call, expected)
    verdict = problem or ("the right call" if same_call(call, expected) else "valid, not the right call")
    print(f"{request:42} {text}\n{'':42} -> {verdict}{'; ' + str(execute(call)) if call else ''}")
print(f"\nvalid calls: {valid}/{len(REQUESTS)}; the right call: {right}/{len(REQUESTS)}")

text = constrained_call(REQUESTS[0][0], max_new_tokens=12)
print(f"\nthe first request again, with max_new_tokens=12: {text}\n  -> {parse_call(text)[1]}")
