from decimal import ROUND_HALF_UP, Decimal

import tiktoken

# The models priced below (GPT-4o mini, GPT-4o) use o200k_base; cl100k_base is GPT-4's.
encodings = {name: tiktoken.get_encoding(name) for name in ("cl100k_base", "o200k_base")}

# The same customer-service exchange in two languages: the customer's question, the reply.
texts = {
    "English": ("Hi, where is my order? I paid for it four days ago.",
                "Hello! Your order has shipped and should arrive within three working days. "
                "You can track the parcel in the app. Is there anything else I can help you with?"),
    "Chinese": ("你好，我的订单在哪里？我四天前就付款了。",
                "您好！您的订单已经发货，预计三个工作日内送达。您可以在应用里查看物流信息。请问还有什么可以帮您？"),
}
print("tokens for the same meaning (question + reply):")
for name, enc in encodings.items():
    counts = {lang: sum(len(enc.encode(t)) for t in pair) for lang, pair in texts.items()}
    print(f"  {name:12} English {counts['English']:3}  Chinese {counts['Chinese']:3}"
          f"  Chinese / English = {counts['Chinese'] / counts['English']:.2f}x")

# OpenAI list prices in US dollars per 1 million tokens (input, output), as announced in
# 2024 (GPT-4o mini and its fine-tuning in 2024-07, GPT-4o's in 2024-08). Prices change:
# use your provider's list. A fine-tuned model is billed above its base model, but the
# house rules are in its weights, so it needs a short instruction instead of a long one.
PLANS = {  # model: (price in, price out, tokens of instructions in every request)
    "GPT-4o mini": (Decimal("0.15"), Decimal("0.60"), 350),
    "GPT-4o": (Decimal("2.50"), Decimal("10.00"), 350),
    "4o mini tuned": (Decimal("0.30"), Decimal("1.20"), 50),
}
TRAINING_PRICE = Decimal("3.00")  # per 1M training tokens, GPT-4o mini fine-tuning
CHAT_FORMAT = 2 * (3 + 1) + 3  # per message (system, user): 3, and 1 for its role; 3 to start the reply
enc = encodings["o200k_base"]
users, requests_per_day, days = 100_000, 5, 30
requests = users * requests_per_day * days
print(f"\nWorkload: {users:,} users x {requests_per_day} requests a day x {days} days; each request")
print(f"reads its instructions, the question and {CHAT_FORMAT} tokens of chat format, and writes the reply (o200k_base).")
print(f"\n{'':14}{'instructions':>13}{'English':>10}{'Chinese':>10}   (USD per month)")
for model, (price_in, price_out, instructions) in PLANS.items():
    row = []
    for question, reply in texts.values():
        tokens_in = instructions + CHAT_FORMAT + len(enc.encode(question))
        tokens_out = len(enc.encode(reply))
        cost = requests * (tokens_in * price_in + tokens_out * price_out) / 1_000_000
        row.append(cost.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    print(f"{model:14}{instructions:>13}{row[0]:>10,}{row[1]:>10,}")
examples, tokens_each, epochs = 1_000, 400, 3
training = examples * tokens_each * epochs * TRAINING_PRICE / 1_000_000
print(f"\nfine-tuning once: {examples:,} examples x {tokens_each} tokens x {epochs} epochs = USD {training:.2f}")
