import math
import re
from pathlib import Path

import numpy as np

# 1. One neuron, one gradient step, by hand. The neuron says "yes" with probability
#    p = sigmoid(w * x + b). Its loss is -[y ln p + (1 - y) ln(1 - p)], here -ln p: the answer is yes (y = 1).
x, y, w, b, lr = 2.0, 1, 0.5, 0.0, 0.5
p = 1 / (1 + math.exp(-(w * x + b)))
grad_w, grad_b = (p - y) * x, p - y  # chain rule: d(loss)/d(w*x + b) = p - y
print(f"one neuron: p = sigmoid({w} * {x} + {b}) = {p:.3f}, loss -ln p = {-math.log(p):.3f}")
print(f"  gradient: d loss/dw = (p - y) * x = {grad_w:.3f}, d loss/db = p - y = {grad_b:.3f}")
w, b = w - lr * grad_w, b - lr * grad_b  # a step against the gradient
p = 1 / (1 + math.exp(-(w * x + b)))
print(f"  after one step of size {lr}: w = {w:.3f}, b = {b:.3f}, p = {p:.3f}, loss = {-math.log(p):.3f}\n")

# 2. The counting model of next_token.py, scored. Cross-entropy: the mean of -log P(the token
#    that really came next); perplexity = e^loss, "as unsure as a fair choice among that many".
text = (Path(__file__).parent / "data" / "tiny_corpus.txt").read_text(encoding="utf-8")
tokens = re.findall(r"\w+|[^\w\s]", text.lower())
vocab = sorted(set(tokens))
ids = np.array([vocab.index(t) for t in tokens])
current, following = ids[:-1], ids[1:]
counts = np.zeros((len(vocab), len(vocab)))
np.add.at(counts, (current, following), 1)
bigram = counts / counts.sum(axis=1, keepdims=True)
loss = -np.log(bigram[current, following]).mean()
print(f"guessing uniformly among {len(vocab)} tokens: loss {math.log(len(vocab)):.3f}, perplexity {len(vocab)}")
print(f"counting model: loss {loss:.3f}, perplexity {math.exp(loss):.2f}")
new = [vocab.index(t) for t in "the model learns the next word .".split()]  # known words, a new pair
with np.errstate(divide="ignore"):
    print(f"  on a sentence it never saw: P('the' | 'learns') = {bigram[new[2], new[3]]:.2f},"
          f" so its loss is {-np.log(bigram[new[:-1], new[1:]]).mean()}\n")


# 3. The same job learned by a tiny network: an embedding table (a vector of 8 numbers per
#    token) and one linear layer back to a score per token. Gradient descent, no counting.
def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


rng = np.random.default_rng(0)
E = rng.normal(0, 0.1, (len(vocab), 8))  # embedding: token id -> 8 numbers
W = rng.normal(0, 0.1, (8, len(vocab)))  # linear layer: 8 numbers -> one score per token
target = np.eye(len(vocab))[following]
for step in range(1001):
    h = E[current]
    probs = softmax(h @ W)
    loss = -np.log(probs[np.arange(len(current)), following]).mean()
    if step in (0, 10, 100, 300, 1000):
        print(f"network, step {step:4}: loss {loss:.3f}, perplexity {math.exp(loss):5.2f}")
    d_scores = (probs - target) / len(current)  # the same p - y, for every token at once
    d_h = d_scores @ W.T
    W -= 2.0 * h.T @ d_scores
    np.add.at(E, current, -2.0 * d_h)  # each embedding row moves by the gradients of its uses

model = vocab.index("model")
network = softmax(E[[model]] @ W)[0]
print("\nP(next | 'model'):  counting   network")
for t in sorted(range(len(vocab)), key=lambda t: (-counts[model, t], vocab[t]))[:3]:  # ties a-z
    print(f"  {vocab[t]:10} {bigram[model, t]:13.2f} {network[t]:9.2f}")
