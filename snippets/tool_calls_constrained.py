import json

import outlines
from transformers import AutoModelForCausalLM, AutoTokenizer

from tools_app import CALL_SCHEMA, REQUESTS, SYSTEM, execute, parse_call, same_call

model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
model = outlines.from_transformers(AutoModelForCausalLM.from_pretrained(model_id), tokenizer)
# Constrained decoding: at each step, every token that cannot continue a JSON text matching
# CALL_SCHEMA gets probability 0, so the model can only write a call that parses and validates.
as_call = outlines.types.JsonSchema(json.dumps(CALL_SCHEMA))

valid = right = 0
for request, expected in REQUESTS:
    prompt = tokenizer.apply_chat_template([{"role": "system", "content": SYSTEM}, {"role": "user", "content": request}],
                                           add_generation_prompt=True, tokenize=False)
    text = model(prompt, as_call, max_new_tokens=60)  # greedy by default
    call, problem = parse_call(text)
    valid += call is not None
    right += same_call(call, expected)
    verdict = problem or ("the right call" if same_call(call, expected) else "valid, not the right call")
    print(f"{request:42} {text}\n{'':42} -> {verdict}{'; ' + str(execute(call)) if call else ''}")
print(f"\nvalid calls: {valid}/{len(REQUESTS)}; the right call: {right}/{len(REQUESTS)}")
