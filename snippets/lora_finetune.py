import json
import re
from math import comb

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

torch.manual_seed(0)  # LoRA starts from random matrices: seeded, the same run every time
model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
model = AutoModelForCausalLM.from_pretrained(model_id)

# The house style to teach: the reply is only {"label": ...}; the instruction never says so.
INSTRUCTION = "Classify this review."
# The fair baseline: the best a prompt alone does, with the format stated.
STATED = 'Classify this review. Reply with only {"label": "positive"} or {"label": "negative"}.'
UNRELATED = "What is the capital of France?"  # does the adapter leak into other requests?
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


def chat(review, label=None, instruction=INSTRUCTION):
    messages = [{"role": "user", "content": f"{instruction}\n{review}"}]
    return messages + ([{"role": "assistant", "content": json.dumps({"label": label})}] if label else [])


def batch(examples, instruction=INSTRUCTION):
    """Token ids of whole chats, with the loss only on the reply (the prompt is masked out)."""
    ids, labels = [], []
    for review, label in examples:
        prompt = tokenizer.apply_chat_template(chat(review, instruction=instruction), add_generation_prompt=True)["input_ids"]
        full = tokenizer.apply_chat_template(chat(review, label, instruction))["input_ids"]
        ids.append(full)
        labels.append([-100] * len(prompt) + full[len(prompt):])
    width = max(map(len, ids))
    pad = lambda rows, value: torch.tensor([row + [value] * (width - len(row)) for row in rows])  # noqa: E731
    return {"input_ids": pad(ids, tokenizer.pad_token_id), "attention_mask": pad([[1] * len(r) for r in ids], 0),
            "labels": pad(labels, -100)}


def reply_to(model, messages, max_new_tokens=10):
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()


def wilson(k, n, z=1.96):
    """The 95% Wilson interval for k successes in n: what k/n says about the true rate."""
    centre, half = (k + z * z / 2) / (n + z * z), z * (k * (n - k) / n + z * z / 4) ** 0.5 / (n + z * z)
    return f"{max(0.0, centre - half):.2f}-{min(1.0, centre + half):.2f}"


def sign_test(pairs):
    """Two-sided exact sign test over paired verdicts (before, after) of the same reviews: of
    those that changed, could chance alone split them this lopsidedly?"""
    better, worse = sum(b < a for b, a in pairs), sum(b > a for b, a in pairs)
    n = better + worse
    p = min(1.0, 2 * sum(comb(n, i) for i in range(max(better, worse), n + 1)) / 2**n) if n else 1.0
    return f"{better} better, {worse} worse (exact sign test, two-sided p = {p:.3f})"


def label_in(reply):
    """The label a reply gives: from the JSON if it is the house format, else the first of the
    two label words it mentions (so a right answer in words still counts as right)."""
    try:
        return json.loads(reply)["label"], True
    except (ValueError, KeyError, TypeError):
        words = re.findall(r"[a-z]+", reply.lower())
        return next((word for word in words if word in ("positive", "negative")), None), False


def evaluate(model, instruction=INSTRUCTION):
    """Held-out loss on the replies, how many held-out replies follow the format, and how
    many give the right label in any form; returns each review's (in format, right label)."""
    model.eval()
    with torch.no_grad():
        loss = model(**batch(held_out, instruction)).loss.item()
    verdicts = []
    for review, truth in held_out:
        reply = reply_to(model, chat(review, instruction=instruction))
        label, in_format = label_in(reply)
        verdicts.append((in_format and label in ("positive", "negative"), label == truth))
    follows, right = sum(f for f, _ in verdicts), sum(r for _, r in verdicts)
    print(f"held-out loss {loss:.3f}; format followed {follows}/{len(held_out)}; right label {right}/{len(held_out)}"
          f" (95% interval {wilson(right, len(held_out))}); last reply {reply!r}")
    return verdicts


print("before: ", end="")
evaluate(model)
print("prompted, format stated: ", end="")
stated = evaluate(model, STATED)
print(f"unrelated, before: {reply_to(model, [{'role': 'user', 'content': UNRELATED}], 20)!r}")

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
after = evaluate(model)
print("after against the stated prompt, review by review:")
print("  format:", sign_test([(s[0], a[0]) for s, a in zip(stated, after)]))
print("  label: ", sign_test([(s[1], a[1]) for s, a in zip(stated, after)]))
print(f"unrelated, after: {reply_to(model, [{'role': 'user', 'content': UNRELATED}], 20)!r}")
