from decimal import ROUND_HALF_UP, Decimal

import tiktoken

enc = tiktoken.get_encoding("cl100k_base")

# The same customer-service reply in two languages.
replies = {
    "English": "Hello! Your order has shipped and should arrive within three "
    "working days. You can track the parcel in the app. Is there anything else "
    "I can help you with?",
    "Chinese": "您好！您的订单已经发货，预计三个工作日内送达。"
    "您可以在应用里查看物流信息。请问还有什么可以帮您？",
}
tokens = {language: len(enc.encode(text)) for language, text in replies.items()}
for language, text in replies.items():
    print(
        f"{language:8}{len(text):4} characters {tokens[language]:4} tokens  "
        f"{tokens[language] / len(text):.2f} tokens per character"
    )

# EXAMPLE prices in US dollars per 1 million tokens (input, output), made up
# for this lesson as of 2026-11. They are inputs, not a quote: use your
# provider's price list.
EXAMPLE_PRICES = {
    "small model": (Decimal("0.15"), Decimal("0.60")),
    "large model": (Decimal("2.50"), Decimal("10.00")),
}
users, requests_per_day, days = 100_000, 5, 30
input_tokens = 400  # instructions, history and the question, per request

print(
    f"\nWorkload: {users:,} users x {requests_per_day} requests a day", end=""
)
print(f" x {days} days;")
print(f"each request reads {input_tokens} tokens and writes the reply above.")
print(
    f"\n{'':22}{'English':>12}{'Chinese':>12}   (USD per month, example prices)"
)
for model, (price_in, price_out) in EXAMPLE_PRICES.items():
    row = []
    for language in replies:
        requests = users * requests_per_day * days
        cost = requests * (
            input_tokens * price_in + tokens[language] * price_out
        )
        row.append(
            (cost / 1_000_000).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
        )
    print(f"{model:22}{row[0]:>12,}{row[1]:>12,}")
