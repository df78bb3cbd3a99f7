import numpy as np
import torch  # to read the weight file (it may hold bfloat16) and for the reference at the end
from huggingface_hub import hf_hub_download
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
config = AutoConfig.from_pretrained(model_id)
file = hf_hub_download(model_id, "model.safetensors")
W = {name: array.float().numpy() for name, array in load_file(file).items()}  # from here on, NumPy only
heads, kv_heads, head_dim = config.num_attention_heads, config.num_key_value_heads, config.head_dim


def rms_norm(x, weight):
    """Scale each token's vector to a root-mean-square of 1, then by a learned weight per number."""
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + config.rms_norm_eps) * weight


def rope(x):
    """Rotary positions: turn each pair of numbers (i, i + 64/2) of a head's query or key by an
    angle = position x frequency, so that a query-key dot product depends on their distance.
    (The RoPE paper pairs neighbours, 2i and 2i + 1; transformers' Llama pairs i and i + 32,
    the same rotation with the weights' numbers in another order.)"""
    half = head_dim // 2
    frequencies = config.rope_parameters["rope_theta"] ** (-np.arange(half) / half)
    angle = np.arange(x.shape[1])[:, None] * frequencies  # (tokens, half)
    cos, sin = np.cos(angle).astype(x.dtype), np.sin(angle).astype(x.dtype)  # stay in float32
    a, b = x[..., :half], x[..., half:]
    return np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=-1)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


attention_maps = {}  # layer -> the weights of its last run, to look at afterwards


def attention(x, p):
    """Grouped-query attention: 9 query heads share 3 key/value heads, with the causal mask."""
    n = len(x)
    q = (x @ W[p + "q_proj.weight"].T).reshape(n, heads, head_dim).transpose(1, 0, 2)
    k = (x @ W[p + "k_proj.weight"].T).reshape(n, kv_heads, head_dim).transpose(1, 0, 2)
    v = (x @ W[p + "v_proj.weight"].T).reshape(n, kv_heads, head_dim).transpose(1, 0, 2)
    q, k = rope(q), rope(k)
    k, v = np.repeat(k, heads // kv_heads, axis=0), np.repeat(v, heads // kv_heads, axis=0)
    scores = q @ k.transpose(0, 2, 1) / head_dim**0.5
    scores = np.where(np.tri(n, dtype=bool), scores, -np.inf)  # no token sees a later one
    weights = softmax(scores)  # (heads, tokens, tokens): who looks at whom
    attention_maps[p] = weights
    mixed = weights @ v  # (heads, tokens, head_dim)
    return mixed.transpose(1, 0, 2).reshape(n, heads * head_dim) @ W[p + "o_proj.weight"].T


def mlp(x, p):
    """SwiGLU: a gate (through SiLU) times an up-projection, then back down to 576 numbers."""
    gate, up = x @ W[p + "gate_proj.weight"].T, x @ W[p + "up_proj.weight"].T
    return (gate / (1 + np.exp(-gate)) * up) @ W[p + "down_proj.weight"].T


def block(x, i):
    """One Transformer block: each part reads a normalised copy and adds its result (residual)."""
    p = f"model.layers.{i}."
    x = x + attention(rms_norm(x, W[p + "input_layernorm.weight"]), p + "self_attn.")
    return x + mlp(rms_norm(x, W[p + "post_attention_layernorm.weight"]), p + "mlp.")


def logits_numpy(ids):
    x = W["model.embed_tokens.weight"][ids]  # each token id picks one row: its embedding
    for i in range(config.num_hidden_layers):
        x = block(x, i)
    # The output head is the embedding matrix again ("tied"): one score per vocabulary token.
    return rms_norm(x, W["model.norm.weight"]) @ W["model.embed_tokens.weight"].T


# Every weight, counted from the config alone, against the arrays in the file.
d, ffn, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
per_layer = 2 * d * d + 2 * d * kv_heads * head_dim + 3 * d * ffn + 2 * d  # q,o; k,v; MLP; 2 norms
counted = config.vocab_size * d + layers * per_layer + d
print(f"parameters from the config: {counted:,}; in the file: {sum(a.size for a in W.values()):,}")
print(f"  one block: {per_layer:,} ({3 * d * ffn / per_layer:.0%} of it in the MLP)")

# Now the same prompt through this NumPy model and through transformers (PyTorch), both in float32.
tokenizer = AutoTokenizer.from_pretrained(model_id)
reference = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32)
ids = tokenizer("The capital of France is").input_ids
ours = logits_numpy(np.array(ids))[-1]
with torch.no_grad():
    theirs = reference(torch.tensor([ids])).logits[0, -1].numpy()

for name, logits in (("NumPy", ours), ("transformers", theirs)):
    top = np.argsort(-logits)[:5]
    print(f"{name:>12} top 5: {' | '.join(repr(tokenizer.decode(int(i))) for i in top)}")
same = list(np.argsort(-ours)[:5]) == list(np.argsort(-theirs)[:5])
tolerance = 1e-3
print(f"same top-5 tokens: {same}; largest logit difference over all {len(ours):,} tokens"
      f" below {tolerance}: {bool(np.abs(ours - theirs).max() < tolerance)}")
print(f"  (the logits themselves span {ours.min():.0f} to {ours.max():.0f})")

# What some heads look at, in a sentence of 10 tokens (rows: looking, columns: looked at).
ids = tokenizer("The cat sat on the mat because it was tired").input_ids
words = [tokenizer.decode(i).strip() for i in ids]
logits_numpy(np.array(ids))
for layer, head in ((1, 2), (13, 8), (16, 3)):
    print(f"\nlayer {layer}, head {head}")
    print("        " + "".join(f"{w:>8}" for w in words))
    for word, row in zip(words, attention_maps[f"model.layers.{layer}.self_attn."][head]):
        print(f"{word:>8}" + "".join(f"{v:8.2f}" for v in row))
