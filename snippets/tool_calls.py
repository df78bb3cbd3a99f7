from transformers import AutoModelForCausalLM, AutoTokenizer

from tools_app import REQUESTS, SYSTEM, execute, parse_call, same_call

model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
model = AutoModelForCausalLM.from_pretrained(model_id)


def reply(messages, max_new_tokens=60):  # as many as the constrained run gets
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()


valid = right = 0
for request, expected in REQUESTS:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": request}]
    text = reply(messages)
    call, problem = parse_call(text)
    valid += call is not None
    right += same_call(call, expected)
    print(f"{request}\n  model:  {text[:110]!r}")
    if call is None:
        print(f"  INVALID: {problem}")
        continue
    result = execute(call)
    print(f"  valid call {'(the right one)' if same_call(call, expected) else '(but not the right one)'}; result: {result}")
    # The result goes back to the model, which now answers the user.
    messages += [{"role": "assistant", "content": text},
                 {"role": "user", "content": f"The tool returned {result}. Answer my question in one sentence."}]
    print(f"  answer: {reply(messages, max_new_tokens=30)[:110]!r}")
print(f"\nvalid calls: {valid}/{len(REQUESTS)}; the right call: {right}/{len(REQUESTS)}")
