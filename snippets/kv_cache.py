import numpy as np

rng = np.random.default_rng(0)
d = 64  # width of one toy layer


def attention_step(x, cache):
    """One token through a toy attention layer: its key and value join the cache, which it
    then reads whole. Nothing is ever dropped: the cache grows by one row per token."""
    q, k, v = x, x[::-1], x * 0.5  # stand-ins for the learned projections
    cache["K"] = np.vstack([cache["K"], k])
    cache["V"] = np.vstack([cache["V"], v])
    scores = cache["K"] @ q / np.sqrt(d)
    weights = np.exp(scores - scores.max())
    return (weights / weights.sum()) @ cache["V"]


def recurrent_step(x, state, decay=0.9):
    """One token through a toy recurrent layer (the fixed-size state of RWKV and Mamba): the
    state is updated in place, a fixed-size summary of everything so far. Its decay is fixed;
    in Mamba and RWKV-6/7 the decay depends on the input (selectivity), which this toy leaves out."""
    state[:] = decay * state + np.outer(x, x * 0.5)
    return state @ x


cache = {"K": np.empty((0, d)), "V": np.empty((0, d))}
state = np.zeros((d, d))
print("memory one toy layer holds after n tokens (float64):")
print(f"{'tokens':>7} {'attention KV cache':>19} {'recurrent state':>16}")
for n in range(1, 4097):
    x = rng.normal(size=d)
    attention_step(x, cache)
    recurrent_step(x, state)
    if n in (1, 64, 1024, 4096):
        kv = cache["K"].nbytes + cache["V"].nbytes
        print(f"{n:>7,} {kv / 1024:>16,.0f} KiB {state.nbytes / 1024:>13,.0f} KiB")

# The same arithmetic for a real model: Llama 3.1 8B's published configuration.
layers, kv_heads, head_dim, bytes_per_value = 32, 8, 128, 2  # 16-bit cache
per_token = 2 * layers * kv_heads * head_dim * bytes_per_value  # a key and a value per layer
print(f"\nLlama 3.1 8B: {per_token // 1024} KiB of KV cache per token, per sequence"
      f" (its 8.0e9 weights at 16-bit: {8.0e9 * 2 / 2**30:.1f} GiB)")
for context in (8_192, 131_072):
    print(f"  {context:>7,} tokens: {per_token * context / 2**30:5.1f} GiB")
