import numpy as np

rng = np.random.default_rng(1)
words = ["the", "cat", "sat", ".", "it", "slept"]
d, n = 4, len(words)
X = rng.normal(size=(n, d))  # made-up token vectors
Wq, Wk, Wv = (rng.normal(size=(d, d)) / 2 for _ in range(3))
w_gate = rng.normal(size=d)  # the selective model's gate (learned, in a real one)
X[3] = -2.5 * w_gate  # the '.': a vector the gate answers with "forget"
Q, K, V = X @ Wq, X @ Wk, X @ Wv


def recurrent(decay):
    """S_t = a_t S_(t-1) + k_t v_t^T and y_t = q_t S_t: one d x d state, updated token by token."""
    S, ys = np.zeros((d, d)), []
    for t in range(n):
        S = decay[t] * S + np.outer(K[t], V[t])
        ys.append(Q[t] @ S)
    return np.array(ys), S


def kept(decay):
    """How much of token s is left in the state at step t: a_(s+1) x ... x a_t (0 for s > t)."""
    return np.array([[np.prod(decay[s + 1:t + 1]) if s <= t else 0.0 for s in range(n)] for t in range(n)])


def parallel(decay):
    """The same outputs written like attention, all at once: y = (kept * Q K^T) V."""
    return (kept(decay) * (Q @ K.T)) @ V


scores = Q[-1] @ K.T / np.sqrt(d)
attention = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
decays = {
    "fixed decay 0.8": np.full(n, 0.8),  # RWKV-5-style: the same rate for every input
    "selective": 1 / (1 + np.exp(-(X @ w_gate))),  # a sigmoid gate, standing in for Mamba's exp(delta_t A)
}
print("selective gate a_t per token:", " ".join(f"{w}={a:.2f}" for w, a in zip(words, decays["selective"])))
print("\nthe last token, 'slept': its attention weights, and how much of each token the state keeps")
print(f"{'':31}" + "".join(f"{w:>7}" for w in words))
print(f"{'softmax attention weight':31}" + "".join(f"{v:7.2f}" for v in attention))
for name, decay in decays.items():
    print(f"{name + ': kept':31}" + "".join(f"{v:7.2f}" for v in kept(decay)[-1]))
same = all(np.allclose(recurrent(decay)[0], parallel(decay)) for decay in decays.values())
print(f"\nrecurrent and parallel forms give the same outputs: {same}")
S = recurrent(decays["selective"])[1]
print(f"memory after {n} tokens: attention {2 * n * d} numbers of keys and values, growing by {2 * d}"
      f" a token; the recurrence {S.size}, always")
