import json

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

torch.manual_seed(0)  # LoRA starts from random matrices: seeded, the same run every time
model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
model = AutoModelForCausalLM.from_pretrained(model_id)

# The house style to teach: the reply is only {"label": ...}; the instruction never says so.
INSTRUCTION = "Classify this review."
train = [
    ("Arrived quickly and works perfectly.", "positive"), ("The handle snapped on day one.", "negative"),
    ("Lovely colour and very soft.", "positive"), ("Customer service hung up on me.", "negative"),
    ("Battery dies in an hour.", "negative"), ("Exactly what I needed for my kitchen.", "positive"),
    ("Smells of chemicals and gave me a headache.", "negative"), ("Five stars, I bought a second one.", "positive"),
    ("The zip jammed the first time I used it.", "negative"), ("Sturdy, simple and cheap.", "positive"),
    ("Stopped working after the update.", "negative"), ("My daughter wears it every day.", "positive"),
    ("Too small, and the return cost me money.", "negative"), ("Quiet, fast and easy to clean.", "positive"),
    ("The paint peeled within a week.", "negative"), ("Great sound for the price.", "positive"),
]
held_out = [  # never trained on: every "after" number below is measured on these
    ("The battery lasts all day and the screen is gorgeous.", "positive"),
    ("It broke after two days and support never answered.", "negative"),
    ("Fast delivery, works exactly as described.", "positive"),
    ("The sound is tinny and the app keeps crashing.", "negative"),
    ("Best purchase I have made this year.", "positive"),
    ("Way too expensive for what you get.", "negative"),
    ("Comfortable, light, and it looks great.", "positive"),
    ("Slow, noisy and it overheats.", "negative"),
]


def chat(review, label=None):
    messages = [{"role": "user", "content": f"{INSTRUCTION}\n{review}"}]
    return messages + ([{"role": "assistant", "content": json.dumps({"label": label})}] if label else [])


def batch(examples):
    """Token ids of whole chats, with the loss only on the reply (the prompt is masked out)."""
    ids, labels = [], []
    for review, label in examples:
        prompt = tokenizer.apply_chat_template(chat(review), add_generation_prompt=True)["input_ids"]
        full = tokenizer.apply_chat_template(chat(review, label))["input_ids"]
        ids.append(full)
        labels.append([-100] * len(prompt) + full[len(prompt):])
    width = max(map(len, ids))
    pad = lambda rows, value: torch.tensor([row + [value] * (width - len(row)) for row in rows])  # noqa: E731
    return {"input_ids": pad(ids, tokenizer.pad_token_id), "attention_mask": pad([[1] * len(r) for r in ids], 0),
            "labels": pad(labels, -100)}


def evaluate(model):
    """Held-out loss on the replies, and how many held-out replies follow the format."""
    model.eval()
    with torch.no_grad():
        loss = model(**batch(held_out)).loss.item()
    follows = right = 0
    for review, truth in held_out:
        inputs = tokenizer.apply_chat_template(chat(review), add_generation_prompt=True, return_tensors="pt", return_dict=True)
        output = model.generate(**inputs, max_new_tokens=10, do_sample=False)
        reply = tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()
        try:
            label = json.loads(reply)["label"]
        except (ValueError, KeyError, TypeError):
            continue
        follows += label in ("positive", "negative")
        right += label == truth
    print(f"held-out loss {loss:.3f}; format followed {follows}/{len(held_out)}; right label {right}/{len(held_out)};"
          f" last reply {reply!r}")


print("before: ", end="")
evaluate(model)

# LoRA: freeze the 135M weights, train two small matrices beside each attention q and v.
model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], lora_dropout=0.0))
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
total = sum(p.numel() for p in model.parameters())
print(f"trainable parameters: {trainable:,} of {total:,} ({trainable / total:.2%})")
optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-3)
model.train()
for step in range(6):
    examples = train[(step * 8) % 16:(step * 8) % 16 + 8]  # batches of 8: one pass over the data every 2 steps
    loss = model(**batch(examples)).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    if step % 2 == 1:
        print(f"  step {step + 1:2}: training loss {loss.item():.3f}")

print("after:  ", end="")
evaluate(model)
