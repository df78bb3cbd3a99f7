import json
import re
from math import comb
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer, DynamicCache

torch.manual_seed(0)  # LoRA starts from random matrices: seeded, the same run every time
model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id, padding_side="left")  # batches end where replies start
model = AutoModelForCausalLM.from_pretrained(model_id)

data = Path(__file__).parent / "data"
reviews = json.loads((data / "reviews.json").read_text(encoding="utf-8"))
train, held_out = reviews["train"], reviews["held_out"]  # 16 to learn from; 60 never in a prompt or training
LABELS = ("positive", "negative")
# The house style to teach: the reply is only {"label": ...}; the instruction never says so.
HOUSE = "Classify this review."
# The fair baselines get the format spelled out.
STATED = 'Classify this review. Reply with only {"label": "positive"} or {"label": "negative"}.'
UNRELATED = "What is the capital of France?"  # does the adapter leak into other requests?


def reply_json(label):
    return json.dumps({"label": label})


def chat(review, instruction=HOUSE, examples=()):
    """A conversation: worked examples as earlier turns (few-shot), then the review to classify."""
    turns = []
    for text, label in examples:
        turns += [{"role": "user", "content": f"{instruction}\n{text}"},
                  {"role": "assistant", "content": reply_json(label)}]
    return turns + [{"role": "user", "content": f"{instruction}\n{review}"}]


def prompt_ids(messages):
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True)["input_ids"]


def left_padded(rows):
    """One batch from rows of token ids: padding on the left, and positions that skip it."""
    width = max(map(len, rows))
    ids = torch.tensor([[tokenizer.pad_token_id] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    return {"input_ids": ids, "attention_mask": mask, "position_ids": (mask.cumsum(-1) - 1).clamp(min=0)}


def after_shared_start(model, rows, budget=30_000):
    """Every prompt starts alike (system prompt, examples, instruction): run that start once and
    give each row a copy of its KV cache, so the model reads only the rest, left-padded after it.
    The copies cost memory, so a batch holds at most `budget` tokens of them (rows x start).
    Returns the shared start's length and, per batch, what the model's forward pass takes."""
    start = 0
    while all(len(r) > start + 1 for r in rows) and len({r[start] for r in rows}) == 1:
        start += 1
    size = max(1, budget // start)
    prefix = model(torch.tensor([rows[0][:start]])).past_key_values  # with gradients when training
    batches = []
    for i in range(0, len(rows), size):
        part = rows[i:i + size]
        cache = DynamicCache()
        for layer, kv in enumerate(prefix.layers):  # views of the start, one per row
            cache.update(kv.keys.expand(len(part), -1, -1, -1), kv.values.expand(len(part), -1, -1, -1), layer)
        rest = left_padded([r[start:] for r in part])
        mask = torch.cat([torch.ones(len(part), start, dtype=torch.long), rest["attention_mask"]], 1)
        batches.append({"input_ids": rest["input_ids"], "attention_mask": mask, "cache": cache,
                        "position_ids": rest["position_ids"] + start})
    return start, batches


def replies(model, conversations, max_new_tokens=8):
    """Greedy replies to many conversations, generated in batches (the house reply is 7 tokens)."""
    rows = [prompt_ids(c) for c in conversations]
    with torch.no_grad():
        start, batches = after_shared_start(model, rows)
    texts = []
    for batch in batches:
        ids = torch.cat([torch.tensor([rows[0][:start]] * len(batch["input_ids"])), batch["input_ids"]], 1)
        output = model.generate(input_ids=ids, attention_mask=batch["attention_mask"], cache=batch["cache"],
                                max_new_tokens=max_new_tokens, do_sample=False)  # generate() wants all the ids
        texts += [tokenizer.decode(row, skip_special_tokens=True).strip() for row in output[:, ids.shape[1]:]]
    return texts


def constrained(model, conversations):
    """Constrained decoding with only two allowed replies: the decoder writes their shared start
    ({"label": ") and then must pick the token where they part, so the model chooses only the label."""
    a, b = (tokenizer.encode(reply_json(label)) for label in LABELS)
    part = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
    labels = []
    with torch.no_grad():
        for batch in after_shared_start(model, [prompt_ids(c) + a[:part] for c in conversations])[1]:
            logits = model(**batch, logits_to_keep=1).logits[:, -1]  # only the last position's scores
            labels += [LABELS[0] if row[a[part]] > row[b[part]] else LABELS[1] for row in logits]
    return [reply_json(label) for label in labels]


def reply_loss(model, examples, instruction=HOUSE):
    """Mean loss on the house-style replies only (each prompt is masked out with -100)."""
    ids, targets = [], []
    for review, label in examples:
        prompt = prompt_ids(chat(review, instruction))
        answered = chat(review, instruction) + [{"role": "assistant", "content": reply_json(label)}]
        full = tokenizer.apply_chat_template(answered)["input_ids"]
        ids.append(full)
        targets.append([-100] * len(prompt) + full[len(prompt):])
    start, (batch,) = after_shared_start(model, ids)  # 8 rows: one batch
    width = batch["input_ids"].shape[1]
    labels = torch.tensor([[-100] * (width - len(t) + start) + t[start:] for t in targets])
    return model(**batch, labels=labels).loss


def label_in(reply):
    """(the label a reply gives, whether it is in the house format). A reply in words still
    gets its label: the first of the two label words it mentions."""
    try:
        return json.loads(reply)["label"], True
    except (ValueError, KeyError, TypeError):
        return next((w for w in re.findall(r"[a-z]+", reply.lower()) if w in LABELS), None), False


def wilson(k, n, z=1.96):
    """The 95% Wilson interval for k successes in n: what k/n says about the true rate."""
    centre, half = (k + z * z / 2) / (n + z * z), z * (k * (n - k) / n + z * z / 4) ** 0.5 / (n + z * z)
    return f"[{max(0.0, centre - half):.2f}-{min(1.0, centre + half):.2f}]"


def sign_test(before, after):
    """Exact two-sided sign test over paired verdicts on the same reviews: of those that changed,
    could chance alone split them this lopsidedly?"""
    pairs = list(zip(before, after, strict=True))
    better, worse = sum(a > b for b, a in pairs), sum(a < b for b, a in pairs)
    n = better + worse
    p = min(1.0, 2 * sum(comb(n, i) for i in range(max(better, worse), n + 1)) / 2**n) if n else 1.0
    return f"{better} better, {worse} worse, p {'< 0.001' if p < 0.001 else f'= {p:.3f}'}"


def score(name, conversations, answer):
    """Ask every held-out review, print one row of the table; return each review's (in format,
    right label). The prompt length is what each request costs before the model writes a word."""
    given = [label_in(reply) for reply in answer(model, conversations)]
    tokens = sum(len(prompt_ids(c)) for c in conversations) / len(conversations)
    truths = [truth for _, truth in held_out]
    verdicts = [(fmt and label in LABELS, label == truth) for (label, fmt), truth in zip(given, truths, strict=True)]
    n, follows, right = len(verdicts), sum(f for f, _ in verdicts), sum(r for _, r in verdicts)
    said = "/".join(str(sum(label == x for label, _ in given)) for x in (*LABELS, None))
    print(f"{name:24} {tokens:6.0f}   {follows:2}/{n} {wilson(follows, n)}   {right:2}/{n} {wilson(right, n)}   {said}")
    return verdicts


def elsewhere(model):
    """Away from the task, is the model still itself? Its loss on the class notes' first 512
    tokens (text it never trained on), and its reply to an unrelated question."""
    notes = tokenizer((data / "class_notes.md").read_text(encoding="utf-8"), return_tensors="pt",
                      max_length=512, truncation=True)
    with torch.no_grad():
        loss = model(**notes, labels=notes["input_ids"]).loss.item()
    return loss, replies(model, [[{"role": "user", "content": UNRELATED}]], max_new_tokens=20)[0]


texts = [review for review, _ in held_out]
PROMPTS = {  # each way of asking the untrained model, one row each: (conversations, decoding).
    # The few-shot prompt shows, as worked examples, the same 16 reviews LoRA trains on.
    "format stated": ([chat(r, STATED) for r in texts], replies),
    "few-shot (16) + stated": ([chat(r, STATED, train) for r in texts], replies),
    "constrained + stated": ([chat(r, STATED) for r in texts], constrained),
}
model.eval()
positives = sum(truth == "positive" for _, truth in held_out)
print(f"{len(held_out)} held-out reviews ({positives} positive); 95% Wilson intervals in brackets")
print(f"{'method':24} {'prompt':>6}   {'in the house format':20} {'right label':19} said positive/negative/other")
print(f"{'':24} {'tokens':>6}")
rows = {name: score(name, conversations, answer) for name, (conversations, answer) in PROMPTS.items()}
before = elsewhere(model)

# LoRA: freeze the 135M weights, train two small matrices beside each attention q and v,
# on the 16 training reviews with the house instruction (settings fixed before the 60 were scored).
model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], lora_dropout=0.0))
optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-3)
model.train()
for step in range(6):
    loss = reply_loss(model, train[(step * 8) % 16:(step * 8) % 16 + 8])  # batches of 8: a pass every 2 steps
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
model.eval()
lora = score("LoRA + house instruction", [chat(r) for r in texts], replies)
after = elsewhere(model)

trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f"\nLoRA trained {trainable:,} of {sum(p.numel() for p in model.parameters()):,} parameters, 6 steps;"
      f" last training loss {loss.item():.2f}")
print("LoRA against each prompt, review by review (right label; exact sign test, two-sided):")
for name, verdicts in rows.items():
    print(f"  vs {name:23} {sign_test([right for _, right in verdicts], [right for _, right in lora])}")
print("before and after LoRA:")
print(f"  loss on 512 tokens of the class notes (never trained on): {before[0]:.2f} -> {after[0]:.2f}")
print(f"  unrelated question, before: {before[1]!r}\n  unrelated question, after:  {after[1]!r}")
