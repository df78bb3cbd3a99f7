import json
import re
from math import exp
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from batched import after_start, greedy, read_start, shared_start
from rates import holm, interval, paired_change, sign_test

torch.manual_seed(0)  # LoRA's A matrices start random (B at zero): seeded, the same run every time
model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32)  # the Hub default would load bfloat16

data = Path(__file__).parent / "data"
reviews = json.loads((data / "reviews.json").read_text(encoding="utf-8"))
train, held_out = reviews["train"], reviews["held_out"]  # 16 to learn from; 60 only ever classified
LABELS = ("positive", "negative")
# The house style to teach: the reply is only {"label": ...}; the instruction never says so.
HOUSE = "Classify this review."
# The fair baselines get the format spelled out.
STATED = 'Classify this review. Reply with only {"label": "positive"} or {"label": "negative"}.'
# Does the adapter leak into other requests? The same task asked in another format, where a
# leak of the JSON habit is likeliest, counted on the 60 held-out reviews; and, one each, a
# request far from the task and one near it (another instruction about a short text).
ONE_WORD = "Is this review positive or negative? Answer with one word."
OTHER_REQUESTS = {"unrelated question": "What is the capital of France?",
                  "nearby request": "Summarise in one sentence: The train was late, so we missed the first song."}


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


def replies(model, conversations, max_new_tokens=24):
    """Greedy replies to many conversations, batched, their shared start read once (batched.py).
    A house reply is 6 tokens and the end-of-turn token; a reply in words gets room to name its label."""
    return greedy(model, tokenizer, [prompt_ids(c) for c in conversations], max_new_tokens)


def after_shared_start(model, rows):
    """Batches of rows after the start they share, read once: with gradients when training."""
    return after_start(rows, read_start(model, shared_start(rows)), tokenizer.pad_token_id)


def constrained(model, conversations):
    """Constrained decoding with only two allowed replies: the decoder writes their shared start
    ({"label": ") and then must pick the token where they part, so the model chooses only the label.
    This shortcut fits two replies that part at one token; more labels or fields need a decoder
    constrained by a grammar or JSON schema (as on the function-calling page)."""
    first, second = (tokenizer.encode(reply_json(label)) for label in LABELS)
    part = next(i for i, (x, y) in enumerate(zip(first, second, strict=True)) if x != y)
    labels = []
    with torch.no_grad():
        for batch in after_shared_start(model, [prompt_ids(c) + first[:part] for c in conversations]):
            logits = model(**batch, logits_to_keep=1).logits[:, -1]  # only the last position's scores
            labels += [LABELS[0] if row[first[part]] > row[second[part]] else LABELS[1] for row in logits]
    return [reply_json(label) for label in labels]


def reply_loss(model, examples, instruction=HOUSE):
    """Mean loss on the house-style replies only (each prompt is masked out with -100)."""
    ids, targets = [], []
    for review, label in examples:
        prompt = prompt_ids(chat(review, instruction))
        answered = chat(review, instruction) + [{"role": "assistant", "content": reply_json(label)}]
        full = tokenizer.apply_chat_template(answered)["input_ids"]
        assert full[:len(prompt)] == prompt, "the chat template wrote the prompt differently: the mask would be off"
        ids.append(full)
        targets.append([-100] * len(prompt) + full[len(prompt):])
    start = len(shared_start(ids))
    batch, *more = after_shared_start(model, ids)
    assert not more, "the loss needs every row in one batch"  # 8 short rows: far within after_start's budget
    width = batch["input_ids"].shape[1]
    labels = torch.tensor([[-100] * (width - len(t) + start) + t[start:] for t in targets])
    return model(**batch, labels=labels).loss


def label_in(reply):
    """(the label a reply gives, whether the reply is exactly one of the two house replies). A
    reply in words still gets its label: the first of the two label words it mentions."""
    exact = [label for label in LABELS if reply == reply_json(label)]
    words = [w for w in re.findall(r"[a-z]+", reply.lower()) if w in LABELS]
    return (exact[0], True) if exact else (words[0] if words else None, False)


def compared(then, now):
    """Two ways' verdicts on the same reviews, pair by pair: how many reviews the second gets
    right and the first wrong (better) or the reverse (worse); an exact two-sided sign test on
    those; and the difference in accuracy with its 95% interval for paired data (rates.py)."""
    pairs = list(zip(then, now, strict=True))
    better, worse = sum(b and not a for a, b in pairs), sum(a and not b for a, b in pairs)
    return better, worse, sign_test(better, worse), paired_change(then, now)


def p_text(p):
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def score(name, model, conversations, answer, by_construction=False):
    """Ask every held-out review, print one row of the table; return whether each reply has the
    right label, and the replies. The prompt length is what a request costs before the model
    writes a word."""
    replies_given = answer(model, conversations)
    given = [label_in(reply) for reply in replies_given]
    right = [label == truth for (label, _), truth in zip(given, truths, strict=True)]
    n, follows = len(right), sum(exact for _, exact in given)
    tokens = sum(len(prompt_ids(c)) for c in conversations) / n
    in_format = "(by construction)" if by_construction else f"{follows:2}/{n} {interval(follows, n)}"
    print(f"{name:24} {tokens:6.0f}   {in_format:19}   {sum(right):2}/{n} {interval(sum(right), n)}")
    return right, replies_given


def elsewhere(model):
    """Away from the task, is the model still itself? Its loss on the class notes' first 512
    tokens (text it never trained on), its one-word replies to the held-out reviews (8 tokens:
    room for a word, a house reply or the start of a sentence), and its replies to the other requests."""
    notes = tokenizer((data / "class_notes.md").read_text(encoding="utf-8"), return_tensors="pt",
                      max_length=512, truncation=True)
    with torch.no_grad():
        loss = model(**notes, labels=notes["input_ids"]).loss.item()
    one_word = replies(model, [[{"role": "user", "content": f"{ONE_WORD}\n{r}"}] for r in texts], max_new_tokens=8)
    others = replies(model, [[{"role": "user", "content": r}] for r in OTHER_REQUESTS.values()], max_new_tokens=20)
    return loss, one_word, others


texts, truths = [review for review, _ in held_out], [truth for _, truth in held_out]
PROMPTS = {  # each way of asking the untrained model, one row each: (conversations, decoding).
    # The few-shot prompt shows, as worked examples, the same 16 reviews LoRA trains on.
    "format stated": ([chat(r, STATED) for r in texts], replies),
    "few-shot (16) + stated": ([chat(r, STATED, train) for r in texts], replies),
    "constrained + stated": ([chat(r, STATED) for r in texts], constrained),
}
model.eval()
print(f"{len(held_out)} held-out reviews ({truths.count('positive')} positive); 95% Wilson intervals in brackets")
print(f"{'':24} {'prompt':>6}   {'exactly a house':19}   right label")
print(f"{'method':24} {'tokens':>6}   reply")
rows = {name: score(name, model, conversations, answer, by_construction=answer is constrained)
        for name, (conversations, answer) in PROMPTS.items()}
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
lora = score("LoRA + house instruction", model, [chat(r) for r in texts], replies)
# The trained model asked with the baselines' instruction (it names the format, "positive"
# first). Against "constrained + stated" this row differs in the weights and the decoder only
# (the decoder would make no difference if every reply were a house reply written in the same
# tokens; the weights still would).
# Against the few-shot row it differs in where the sixteen examples are (weights or prompt)
# and in the instruction they came with (the house one in training, the stated one in the prompt).
lora_stated = score("LoRA + stated", model, [chat(r, STATED) for r in texts], replies)
after = elsewhere(model)

print(f"\nright on each label's reviews ({truths.count('positive')} positive, {truths.count('negative')} negative;"
      " counts only: too few reviews in each for a rate):")
for name, (right, _) in {**rows, "LoRA + house instruction": lora, "LoRA + stated": lora_stated}.items():
    counts = {label: sum(r for r, t in zip(right, truths, strict=True) if t == label) for label in LABELS}
    print(f"  {name:24} " + "   ".join(f"{label} {k:2}" for label, k in counts.items()))

print(f"\nthe reply to held-out review 2, {texts[1]!r} ({truths[1]}):")
for name, (_, replies_given) in {**rows, "LoRA + house instruction": lora}.items():
    print(f"  {name:24} {replies_given[1]!r}")
stated = rows["format stated"][1]
echoes = sum(reply.startswith(review) for reply, review in zip(stated, texts, strict=True))
unlabelled = sum(label_in(reply)[0] is None for reply in stated)
both = sum(set(LABELS) <= set(re.findall(r"[a-z]+", reply.lower())) for reply in stated)  # e.g. an echoed instruction
n = len(texts)
print(f"format stated, replies that name no label:              {unlabelled}/{n} {interval(unlabelled, n)}")
print(f"format stated, replies that begin with the whole review: {echoes}/{n} {interval(echoes, n)}")
print(f"format stated, replies that name both labels:            {both}/{n} {interval(both, n)}")
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f"\nLoRA trained {trainable:,} of {sum(p.numel() for p in model.parameters()):,} parameters, 6 steps;"
      f" last training loss {loss.item():.2f} (step 6's batch, before its update)")
# Eight comparisons on the same reviews: each p also corrected for all eight (Holm's method).
stated_rows = {"format stated": rows["format stated"][0], "few-shot": rows["few-shot (16) + stated"][0],
               "constrained": rows["constrained + stated"][0]}
comparisons = {f"LoRA vs {name}": (right, lora[0]) for name, right in stated_rows.items()}
comparisons["LoRA vs LoRA + stated"] = (lora_stated[0], lora[0])  # the same weights, two instructions
comparisons |= {f"LoRA + stated vs {name}": (stated_rows[name], lora_stated[0]) for name in ("constrained", "few-shot")}
comparisons |= {f"few-shot vs {name}": (stated_rows[name], stated_rows["few-shot"]) for name in ("format stated", "constrained")}
tests = {name: compared(*verdicts) for name, verdicts in comparisons.items()}
corrected = dict(zip(tests, holm([p for _, _, p, _ in tests.values()]), strict=True))
print("the same reviews pair by pair, the first way against the second (LoRA: with the house instruction;")
print("the prompts: with the format stated; the first's better and worse reviews; exact sign test,")
print("two-sided, and Holm's correction for the eight; accuracy, first minus second, and its 95% interval):")
for name, (better, worse, p, (diff, low, high)) in tests.items():
    print(f"  {name:29} {better:2} better, {worse:2} worse, p {p_text(p):7} Holm {p_text(corrected[name]):7}"
          f" {diff:+.2f} [{low:+.2f}, {high:+.2f}]")
print("before and after LoRA:")
print(f"  loss on 512 tokens of the class notes (never trained on): {before[0]:.2f} -> {after[0]:.2f}"
      f" (perplexity {exp(before[0]):.1f} -> {exp(after[0]):.1f})")
print(f"  asked for one word on the 60 held-out reviews ({ONE_WORD!r}):")
for name, count in (("replies exactly a house reply", lambda said: sum(label_in(s)[1] for s in said)),
                    ("replies of one label word", lambda said: sum(s.strip(" .").lower() in LABELS for s in said)),
                    ("replies with the right label",
                     lambda said: sum(label_in(s)[0] == t for s, t in zip(said, truths, strict=True)))):
    print(f"    {name}: before {count(before[1]):2}/{n} {interval(count(before[1]), n)},"
          f" after {count(after[1]):2}/{n} {interval(count(after[1]), n)}")
negatives_right = [sum(label_in(s)[0] == t == "negative" for s, t in zip(said, truths, strict=True))
                   for said in (before[1], after[1])]
print(f"    of those, on the {truths.count('negative')} negative reviews (a count only): before {negatives_right[0]},"
      f" after {negatives_right[1]}")
print(f"    e.g. review 2, before: {before[1][1]!r}\n                   after:  {after[1][1]!r}")
for name, then, now in zip(OTHER_REQUESTS, before[2], after[2], strict=True):
    print(f"  {name}, before: {then!r}\n  {name}, after:  {now!r}")
