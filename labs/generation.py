# %% [markdown]
# # Lab: generation
#
# A language model writes one token at a time: it scores every token in its vocabulary, turns
# the scores into probabilities, picks one, appends it, and repeats. In this lab you change
# the knobs most LLM APIs expose (the prompt, the **temperature**, **top-k**, **top-p** and the
# **maximum number of new tokens**; as of 2026-11 some reasoning models fix the sampling knobs
# or reject them, [Claude with extended thinking](https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking)
# for one) and watch what changes.
#
# It uses [SmolLM2-135M-Instruct](https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct),
# small enough for a laptop's CPU. You need `pip install torch transformers==5.24.0`; the first
# run downloads the model (about 270 MB) once. The outputs shown on the site come from the
# model's 4-bit (Q4_1) build, so the Hub's original 16-bit weights can give other greedy text
# and other samples (by how much, we have not measured: the site runs offline).
#
# A 135M model is weak: expect answers that miss the question (the first one below names no
# colours). The lab uses it to show the mechanics of generation, not good answers.

# %%
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32)  # compute in float32, whatever the file holds


def generate(prompt, temperature=0.0, top_k=0, top_p=1.0, max_new_tokens=25, seed=0):
    """The model's reply to one user message, after the number of tokens it generated (the
    end-of-message token included). Temperature 0 means greedy: always the top token. Top-k 0
    means no top-k cut: without it, generate() would keep only the 50 most likely tokens."""
    chat = [{"role": "user", "content": prompt}]
    inputs = tokenizer.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)
    torch.manual_seed(seed)  # sampling is random, but seeded: the same draw on every run
    sampling = ({"do_sample": True, "temperature": temperature, "top_k": top_k, "top_p": top_p}
                if temperature > 0 else {"do_sample": False})
    output = model.generate(**inputs, max_new_tokens=max_new_tokens, **sampling)
    new_tokens = output[0, inputs["input_ids"].shape[1]:]
    return f"[{len(new_tokens)} tokens] " + tokenizer.decode(new_tokens, skip_special_tokens=True)


print(generate("Name three colours of the rainbow."))

# %% [markdown]
# ## 1. Temperature
#
# Greedy decoding (temperature 0) gives the same text every time. A temperature above 0
# samples from the distribution: low values stay close to greedy, high values wander.

# %%
for temperature in (0.0, 0.7, 1.5):
    print(f"T={temperature}:", generate("Describe a cat in one sentence.", temperature=temperature, seed=3))

# %% [markdown]
# ## 2. Top-k and top-p
#
# Both cut the long tail of unlikely tokens that makes high temperatures wander, then sample
# among what is left (after the temperature is applied). **Top-k** keeps the k most likely
# tokens. **Top-p** keeps the smallest set of most likely tokens whose probabilities add up
# to at least p.
#
# transformers' `generate()` applies **top-k 50 by default**: a model's generation config can
# set another value, and SmolLM2's sets none. So a call with only `temperature` and `top_p`
# still samples from at most 50 tokens. This lab's `generate()` passes `top_k=0` (no cut)
# unless you ask for one. (With top-k 0 and top-p 1.0 nothing is cut, so the first line
# repeats the T=1.5 line above: same seed, same draw.)

# %%
for top_k, top_p in ((0, 1.0), (50, 1.0), (0, 0.5)):
    print(f"T=1.5, top-k={top_k}, top-p={top_p}:",
          generate("Describe a cat in one sentence.", temperature=1.5, top_k=top_k, top_p=top_p, seed=3))

# %% [markdown]
# With nothing cut, T=1.5 draws from the whole vocabulary and the sentence falls apart within
# a few tokens. The default top-k 50 alone keeps it readable, which is why a call that sets
# only the temperature can look better than the temperature deserves.

# %% [markdown]
# ## 3. Maximum new tokens
#
# Generation stops at the end-of-message token or at the limit, whichever comes first. A
# limit that is too low cuts the answer mid-sentence (here even 40 is too low).

# %%
for limit in (5, 40):
    print(f"max {limit}:", generate("What is the boiling point of water at sea level?", max_new_tokens=limit))

# %% [markdown]
# ## Your turn
#
# Change the prompt and the knobs. Try the same seed twice (same text), then another seed.
# Sources: [transformers' generation strategies](https://huggingface.co/docs/transformers/generation_strategies)
# and [`GenerationConfig`](https://huggingface.co/docs/transformers/main_classes/text_generation)
# (top-k defaults to 50); top-p is from [Holtzman et al., 2019](https://arxiv.org/abs/1904.09751).

# %%
print(generate("Give me a name for a study group about LLMs.", temperature=0.8, top_p=0.9, seed=42))
