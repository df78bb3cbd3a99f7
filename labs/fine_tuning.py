# %% [markdown]
# # Lab: fine-tuning with LoRA
#
# Teach SmolLM2-135M-Instruct a habit from examples alone: here, answer with the city a
# sentence mentions and nothing else. LoRA trains two small matrices beside the attention
# query and value weights; the model's own weights stay frozen. Change the training examples, the number of
# steps or the learning rate, and check the result on sentences the model never trained on.
#
# You need `pip install torch --index-url https://download.pytorch.org/whl/cpu` (the CPU build)
# and `pip install transformers==5.24.0 peft==0.21.2`; the first run downloads SmolLM2
# once. The outputs shown on the site come from its 4-bit (Q4_1) build.

# %%
train = [  # (input, the reply to learn): edit these
    ("I fly to Paris on Monday.", "Paris"), ("Our office in Berlin is closed today.", "Berlin"),
    ("She grew up in Nairobi.", "Nairobi"), ("The conference moved to Toronto.", "Toronto"),
    ("He took the night train to Vienna.", "Vienna"), ("My cousin studies in Melbourne.", "Melbourne"),
    ("The parcel is stuck in Dubai.", "Dubai"), ("We met at a cafe in Lisbon.", "Lisbon"),
]
held_out = [("They opened a new shop in Osaka.", "Osaka"), ("The match in Madrid starts at nine.", "Madrid"),
            ("I missed my connection in Chicago.", "Chicago"), ("Her band toured Seoul last year.", "Seoul")]
INSTRUCTION = "Which city?"

# %%
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

torch.manual_seed(0)
model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32)  # the Hub default would load bfloat16


def prompt_ids(text, instruction=INSTRUCTION):
    chat = [{"role": "user", "content": f"{instruction}\n{text}"}]
    return tokenizer.apply_chat_template(chat, add_generation_prompt=True)["input_ids"]


def check(model, instruction=INSTRUCTION):
    """Greedy replies on the held-out sentences; exact = the reply is the city and nothing else."""
    exact = 0
    for text, city in held_out:
        ids = torch.tensor([prompt_ids(text, instruction)])
        output = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=12, do_sample=False)
        reply = tokenizer.decode(output[0, ids.shape[1]:], skip_special_tokens=True).strip()
        exact += reply == city
        print(f"  {text:40} -> {reply!r}")
    print(f"exactly the city: {exact} of {len(held_out)} (a count: too few sentences for a rate)")


check(model)

# %% [markdown]
# The instruction never asks for the city alone, so that "before" is partly unfair to the
# model. Here is one prompt that states the habit (a few worked examples in the prompt, or
# constrained decoding, are other things to try before training):

# %%
check(model, "Which city does this sentence mention? Reply with the city name only.")

# %% [markdown]
# ## 1. Train
#
# Each step shows the model every training example once; the loss counts only the reply
# tokens (the prompt is masked with -100). After changing anything, restart and run the
# whole notebook: run twice, this cell would put a second adapter on the trained model.

# %%
model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], lora_dropout=0.0))
optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-3)
# The reply as the chat template ends a turn, with <|im_end|> (a shortcut: the newline the
# template writes after it is left out; lora_finetune.py builds the turn with the template).
rows = [(prompt_ids(text), tokenizer(city + "<|im_end|>")["input_ids"]) for text, city in train]
width = max(len(p) + len(r) for p, r in rows)
pad = tokenizer.pad_token_id
input_ids = torch.tensor([p + r + [pad] * (width - len(p) - len(r)) for p, r in rows])
labels = torch.tensor([[-100] * len(p) + r + [-100] * (width - len(p) - len(r)) for p, r in rows])
mask = torch.tensor([[1] * (len(p) + len(r)) + [0] * (width - len(p) - len(r)) for p, r in rows])
model.train()
for step in range(5):
    loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    print(f"step {step + 1}: loss {loss.item():.2f} (before this step's update)")

# %% [markdown]
# ## 2. Check on sentences it never saw
#
# Four sentences make a demonstration, not a measurement: a real check uses dozens, kept
# apart from the ones you tune the steps and learning rate on. The fine-tuning page
# measures one task four ways on sixty held-out reviews, each rate with its interval.

# %%
model.eval()
check(model)

# %% [markdown]
# ## Your turn
#
# Teach another habit: replace the replies with the country, or with the city in capitals,
# and rerun. How many examples and steps does the new habit need? Then check what else the
# adapter changed: ask an unrelated question, and a request near the task, before and after
# training, as the fine-tuning page does.
