import re

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32)  # the Hub default would load bfloat16


def answer(messages, max_new_tokens=40):
    """The model's reply to a chat, greedy (the same reply on every run)."""
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)
    output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()


chat = [
    {"role": "system", "content": "You are a concise teaching assistant."},
    {"role": "user", "content": "What is a token?"},
]
print("What the model reads (its chat template fills in the roles):")
print(tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True))
print("Its answer:", answer(chat))

# A small labelled task: is a review positive or negative?
reviews = [
    ("The battery lasts all day and the screen is gorgeous.", "positive"),
    ("It broke after two days and support never answered.", "negative"),
    ("Fast delivery, works exactly as described.", "positive"),
    ("The sound is tinny and the app keeps crashing.", "negative"),
    ("Best purchase I have made this year.", "positive"),
    ("Way too expensive for what you get.", "negative"),
    ("My kids love it and it was easy to set up.", "positive"),
    ("The instructions were useless and a part was missing.", "negative"),
    ("Comfortable, light, and it looks great.", "positive"),
    ("I returned it; the fabric tore on the first wash.", "negative"),
    ("Does everything I hoped for, and quietly.", "positive"),
    ("Slow, noisy and it overheats.", "negative"),
]
instruction = "Is this review positive or negative? Answer with one word."
examples = [  # few-shot: worked examples first (none of them is in the test set)
    ("I use it every day and it never lets me down.", "positive"),
    ("It stopped charging within a week.", "negative"),
    ("Great value, would buy again.", "positive"),
    ("The colour faded and the zip broke.", "negative"),
]


def zero_shot(review):
    return [{"role": "user", "content": f"{instruction}\nReview: {review}"}]


def few_shot(review):
    shots = []
    for text, label in examples:
        shots += [{"role": "user", "content": f"{instruction}\nReview: {text}"},
                  {"role": "assistant", "content": label}]
    return shots + zero_shot(review)


def label_of(reply):
    """The first of the two labels the reply mentions, or None if it names neither."""
    words = re.findall(r"[a-z]+", reply.lower())
    return next((word for word in words if word in ("positive", "negative")), None)


print("\nA zero-shot reply, its first 5 tokens:", repr(answer(zero_shot(reviews[1][0]), max_new_tokens=5)))
print(f"\n{'review':52} {'truth':9} {'zero-shot':10} few-shot")
said = {"zero-shot": [], "few-shot": []}
for review, truth in reviews:
    for name, build in (("zero-shot", zero_shot), ("few-shot", few_shot)):
        said[name].append(label_of(answer(build(review), max_new_tokens=5)))
    print(f"{review[:50]:52} {truth:9} {str(said['zero-shot'][-1]):10} {said['few-shot'][-1]}")
print()
for name, labels in said.items():  # twelve reviews show what happens; rates need more (the fine-tuning page's 60)
    print(f"{name:9} answers:", ", ".join(f"{label} {labels.count(label)}" for label in ("positive", "negative", None)))
