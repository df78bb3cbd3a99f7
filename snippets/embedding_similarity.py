from itertools import combinations

import numpy as np
from sentence_transformers import SentenceTransformer

sentences = [
    "The cat sits on the mat.",
    "A kitten is resting on a rug.",
    "A dog sleeps by the fire.",
    "Investors sold shares as prices dropped.",
    "How do I bake sourdough bread?",
]

for i, sentence in enumerate(sentences):
    print(f"S{i} {sentence}")

model = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2")
embeddings = model.encode(sentences)  # one 384-number vector per sentence
print("\nembedding shape:", embeddings.shape)

# Cosine similarity: 1 = same direction (same meaning), around 0 = unrelated.
similarity = model.similarity(embeddings, embeddings)

print("\ncosine similarity (rounded to 2 decimals)")
print("    " + "".join(f"{'S' + str(j):>6}" for j in range(len(sentences))))
for i, row in enumerate(similarity.tolist()):
    print(f"S{i}  " + "".join(f"{value:6.2f}" for value in row))

pairs = sorted(
    combinations(range(len(sentences)), 2), key=lambda p: float(similarity[p])
)
for label, (i, j) in [("most similar", pairs[-1]), ("least similar", pairs[0])]:
    print(f"\n{label} ({float(similarity[i, j]):.2f}):")
    print(f"  S{i} {sentences[i]}\n  S{j} {sentences[j]}")

# A 2-D map for plotting: PCA keeps the two directions in which the vectors
# differ most.
centered = embeddings.astype(np.float64) - embeddings.mean(axis=0)
_, _, directions = np.linalg.svd(centered, full_matrices=False)
points = centered @ directions[:2].T
points *= np.sign(
    points[0]
)  # a PCA axis has no preferred sign: make S0 positive on both
print("\n2-D projection (PCA), x and y:")
for i, (x, y) in enumerate(points):
    print(f"S{i} {x:6.2f} {y:6.2f}")
