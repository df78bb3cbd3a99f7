import numpy as np


def softmax(x):
    e = np.exp(
        x - x.max(axis=-1, keepdims=True)
    )  # subtract the max for numerical safety
    return e / e.sum(axis=-1, keepdims=True)


def attention(Q, K, V, causal=False):
    """Scaled dot-product attention: softmax(Q K^T / sqrt(d_k)) V, d_k the key length."""
    scores = Q @ K.T / np.sqrt(K.shape[-1])
    if causal:  # a decoder (GPT-style) token may not look at later tokens
        scores = np.where(np.tri(len(Q), dtype=bool), scores, -np.inf)
    weights = softmax(scores)
    return weights, weights @ V


tokens = ["the", "cat", "sat", "down"]
# Tiny made-up query, key and value vectors, one row per token. In a real
# Transformer they are learned projections of each token's embedding.
Q = np.array(
    [[1, 0, 1, 0], [0, 2, 0, 1], [1, 1, 0, 0], [0, 0, 2, 1]], dtype=float
)
K = np.array(
    [[1, 0, 0, 0], [0, 2, 0, 1], [1, 0, 1, 0], [0, 1, 0, 2]], dtype=float
)
V = np.array([[1, 0], [0, 1], [2, 2], [-1, 3]], dtype=float)


def show(title, matrix, columns):
    print(title)
    print("      " + "".join(f"{c:>7}" for c in columns))
    for token, row in zip(tokens, matrix):
        print(f"{token:6}" + "".join(f"{value:7.2f}" for value in row))
    print()


for causal in (False, True):
    weights, output = attention(Q, K, V, causal)
    kind = "causal (GPT-style)" if causal else "full (encoder-style)"
    title = f"{kind} attention weights (row: looking, column: looked at)"
    show(title, weights, tokens)
show(
    "output of the causal layer: each row is a weighted mix of the value rows",
    output,
    ["out0", "out1"],
)
print(
    "every row of weights sums to 1:", bool(np.allclose(weights.sum(axis=1), 1))
)
