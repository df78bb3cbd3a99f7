import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
tokenizer = AutoTokenizer.from_pretrained(model_id)
model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32)  # compute in float32, whatever the file holds


def next_token_logits(prompt):
    """The model's score for every token in its vocabulary, as the next token."""
    ids = tokenizer(prompt, return_tensors="pt").input_ids
    with torch.no_grad():
        return model(ids).logits[0, -1]


def show(probs, k=5):
    top = torch.topk(probs, k)
    for p, i in zip(top.values.tolist(), top.indices.tolist()):
        print(f"  {tokenizer.decode(i)!r:12}{p:6.3f}  {'#' * round(p * 40)}")


print(f"vocabulary: {len(tokenizer)} tokens; every step scores all of them\n")
# A plain language model's question: what comes next in this text? (No chat template.)
for prompt in ["The capital of France is", "The opposite of hot is", "1, 2, 3, 4,"]:
    print(f"{prompt!r} -> top 10 of P(next token)")
    show(torch.softmax(next_token_logits(prompt), dim=-1), k=10)
    print()

logits = next_token_logits("My favourite colour is")
print("'My favourite colour is' at three temperatures (softmax of logits / T)")
for temperature in (0.5, 1.0, 1.5):
    probs = torch.softmax(logits / temperature, dim=-1)
    print(f"T = {temperature}: the top token has {probs.max():.3f} of the mass")
    show(probs, k=3)

probs = torch.softmax(logits, dim=-1)
ranked, order = torch.sort(probs, descending=True)
keep = int((ranked.cumsum(0) < 0.9).sum()) + 1  # the fewest tokens reaching 0.9
print(f"\ntop-p 0.9 keeps {keep} of {len(probs)} tokens; renormalised, the top 3 are:")
show(torch.zeros_like(probs).scatter(0, order[:keep], ranked[:keep] / ranked[:keep].sum()), k=3)
print(f"top-k 50 (generate()'s default) keeps {ranked[:50].sum():.3f} of the mass")

for text in (" 5", " lukewarm"):
    print(f"{text!r} as tokens:", [tokenizer.decode(i) for i in tokenizer(text).input_ids])

chat = [{"role": "user", "content": "Write one sentence about the sea."}]
inputs = tokenizer.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt", return_dict=True)
start = inputs["input_ids"].shape[1]  # generate() returns the prompt, then the new tokens
greedy = model.generate(**inputs, max_new_tokens=30, do_sample=False)
print("\ngreedy:", tokenizer.decode(greedy[0, start:], skip_special_tokens=True))
for seed in (1, 2):
    torch.manual_seed(seed)  # a seeded sampler: the same "random" draw on every run
    # top_k=0: no top-k cut, so only temperature and top-p shape the draw (the default is 50)
    sampled = model.generate(**inputs, max_new_tokens=30, do_sample=True, temperature=0.8, top_k=0, top_p=0.9)
    print(f"sampled, seed {seed}:", tokenizer.decode(sampled[0, start:], skip_special_tokens=True))
