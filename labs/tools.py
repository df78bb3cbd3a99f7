# %% [markdown]
# # Lab: tools, with a real model
#
# A model calls a tool by writing a name and JSON arguments; the application checks the call
# and runs it. Here SmolLM2-135M-Instruct writes the calls under **constrained decoding**
# (`outlines`): every token that would break the JSON schema is forbidden, so each call
# parses and validates if it finishes within the token limit. Add a tool, change the requests, and see which calls are *right*,
# not just valid.
#
# SmolLM2-135M-Instruct was **not fine-tuned for tool calling** (its fine-tuning set,
# [Smol-SmolTalk](https://huggingface.co/datasets/HuggingFaceTB/smol-smoltalk), leaves function
# calling out), so expect wrong choices. And the schema here
# forces exactly one call, even when no tool fits: a real application adds a "no call" option.
#
# You need `pip install torch transformers==5.24.0 outlines==1.3.3 jsonschema`; the first run downloads
# SmolLM2 once. The outputs shown on the site come from its 4-bit (Q4_1) build.

# %%
import json

TOOLS = {  # name -> (the function, a one-line description, its JSON schema)
    "get_weather": (lambda city: {"city": city, "sky": {"Paris": "cloudy", "Tokyo": "rain", "Beijing": "sunny"}[city]},
                    "Current weather in a city.",
                    {"type": "object", "required": ["city"], "additionalProperties": False,
                     "properties": {"city": {"type": "string", "enum": ["Paris", "Tokyo", "Beijing"]}}}),
    "add": (lambda a, b: {"sum": a + b},
            "Add two whole numbers.",
            {"type": "object", "required": ["a", "b"], "additionalProperties": False,
             "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}),
}


def call_schema(tools):
    """One call to one of the tools: its name, and arguments that fit that tool's schema."""
    return {"anyOf": [{"type": "object", "required": ["name", "arguments"], "additionalProperties": False,
                       "properties": {"name": {"const": name}, "arguments": schema}}
                      for name, (_, _, schema) in tools.items()]}


print(json.dumps(call_schema(TOOLS))[:120], "...")

# %% [markdown]
# ## Constrained calls
#
# The tools go into the system prompt (the chat template inside this model build has no slot
# for them); the schema goes to the decoder. The decoder only ever allows the *start* of a
# valid call: if the token limit cuts the call short, it is not JSON, and the application
# must check for that. The application also validates every call against the schema before
# running it: the decoder enforces only the part of JSON Schema it supports, and a tool you add
# may use more.

# %%
import outlines
import torch
from jsonschema import Draft202012Validator
from transformers import AutoModelForCausalLM, AutoTokenizer

model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
# float32, as the site runs it (the Hub default would load bfloat16)
model = outlines.from_transformers(AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32), tokenizer)


def call(request, tools=None, max_new_tokens=40):
    tools = TOOLS if tools is None else tools  # the TOOLS of now, with any tool added since
    described = [{"name": name, "description": description, "parameters": schema}
                 for name, (_, description, schema) in tools.items()]
    system = f"You can call these tools:\n<tools>{json.dumps(described)}</tools>\nReply with one call as JSON."
    prompt = tokenizer.apply_chat_template([{"role": "system", "content": system}, {"role": "user", "content": request}],
                                           add_generation_prompt=True, tokenize=False)
    text = model(prompt, outlines.types.JsonSchema(json.dumps(call_schema(tools))), max_new_tokens=max_new_tokens,
                 do_sample=False)  # greedy: the same call on every run
    try:
        chosen = json.loads(text)  # valid by the schema, if it finished within max_new_tokens
    except json.JSONDecodeError:
        print(f"{request!r}\n  cut at {max_new_tokens} tokens, not a whole call: {text}")
        return
    if errors := list(Draft202012Validator(call_schema(tools)).iter_errors(chosen)):  # never run an unchecked call
        print(f"{request!r}\n  call:   {text}\n  refused: {errors[0].message}")
        return
    try:
        result = tools[chosen["name"]][0](**chosen["arguments"])
    except Exception as error:  # a valid call can still fail when it runs: report it, as a result
        result = {"error": f"{type(error).__name__}: {error}"}
    print(f"{request!r}\n  call:   {text}\n  result: {result}")


call("Is it raining in Tokyo?")
call("What is 12 plus 30?")
call("What is 12 plus 30?", max_new_tokens=8)

# %% [markdown]
# ## Your turn
#
# Add a tool to `TOOLS` in a new cell, as `TOOLS["convert_currency"] = (its function, a description,
# its schema, with an `enum` of currencies)`, then ask for it (`call("Convert 100 USD to EUR.")`).
# Watch for calls that are valid but wrong: the constraint fixes the form, not the choice. The
# cell below was recorded with the two tools above only, before any tool was added.

# %%
call("What's the weather in Beijing?")

# %% [markdown]
# In the recorded run (the site's 4-bit build): a valid call, and the wrong one. The constraint
# fixed the form; the model still chose `add` for a weather question.
