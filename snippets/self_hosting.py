# How much GPU memory does a self-hosted model need? Weights, plus the KV cache of every
# sequence served at once, plus some room for activations and the serving framework.
BYTES_PER_WEIGHT = {"16-bit": 2.0, "8-bit": 1.0, "4-bit": 0.5}  # 4-bit formats add ~5-25% for scales
OVERHEAD = 1.2  # about 20% on top, a common rule of thumb

# Published configurations: parameters (from each model card), then layers, key-value heads and
# head size (from each model's config.json on the Hugging Face Hub, e.g.
# https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json).
MODELS = {
    "Llama 3.1 8B": (8.0e9, 32, 8, 128),
    "Qwen2.5 32B": (32.5e9, 64, 8, 128),
    "Llama 3.1 70B": (70.6e9, 80, 8, 128),
}
GPUS = {"24 GiB": 24, "80 GiB": 80}  # memory of one card
USABLE = 0.9  # of a card's memory that the server takes (vLLM's default gpu_memory_utilization, as of 2026-11)


def gib_needed(params, layers, kv_heads, head_dim, precision, context, sequences):
    weights = params * BYTES_PER_WEIGHT[precision]
    kv_cache = 2 * layers * kv_heads * head_dim * 2 * context * sequences  # 16-bit keys and values
    return OVERHEAD * (weights + kv_cache) / 2**30


context, sequences = 8_192, 4
print(f"GiB of GPU memory for {sequences} sequences of {context:,} tokens at once")
print(f"{'':15}" + "".join(f"{p:>9}" for p in BYTES_PER_WEIGHT))
for name, config in MODELS.items():
    needs = [gib_needed(*config, precision, context, sequences) for precision in BYTES_PER_WEIGHT]
    print(f"{name:15}" + "".join(f"{n:9.0f}" for n in needs))


def best_fit(config, card_gib):
    """The most precise weights that fit in the usable part of one card, or "none"."""
    return next((p for p in BYTES_PER_WEIGHT if gib_needed(*config, p, context, sequences) <= USABLE * card_gib), "none")


print(f"\nthe most precise weights that fit in {USABLE:.0%} of one card:")
for name, config in MODELS.items():
    print(f"{name:15}" + ", ".join(f"{card}: {best_fit(config, size)}" for card, size in GPUS.items()))
