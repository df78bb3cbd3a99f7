import hashlib

import torch
import torch.nn.functional as F
from sentence_transformers import SentenceTransformer

torch.manual_seed(0)
model = SentenceTransformer(
    "sentence-transformers/all-MiniLM-L6-v2", device="cpu"
)


def fingerprint(model):
    """sha256 of every weight: equal fingerprints mean identical weights."""
    digest = hashlib.sha256()
    for tensor in model.state_dict().values():
        digest.update(tensor.detach().numpy().tobytes())
    return digest.hexdigest()[:16]


def similarity(a, b):
    ea, eb = model.encode(
        [a, b], convert_to_tensor=True, normalize_embeddings=True
    )
    return float(ea @ eb)


# Class jargon the base model was never taught: each pair means the same thing.
pairs = [
    ("open-book exam", "retrieval augmented generation"),
    ("closed-book exam", "fine-tuning the model weights"),
    ("node efficiency", "AI speeds up one step of a workflow"),
    ("co-pilot mode", "the AI assists a human who decides"),
]
probe = pairs[1]  # "closed-book exam" is how my notes describe fine-tuning
original = [p.detach().clone() for p in model.parameters()]
before = fingerprint(model)
print(f"weights before:        {before}")
print(f"similarity{probe}: {similarity(*probe):.2f}\n")

# RAG: retrieval only *reads* the model (it embeds notes and a question).
notes = [
    "RAG adds retrieved notes to the prompt.",
    "Fine-tuning trains the weights further.",
]
model.encode(notes + ["What is an open-book exam?"])
status = "unchanged" if fingerprint(model) == before else "changed"
print(f"after RAG retrieval:   {status}")

# Fine-tuning: a few steps of contrastive training on the pairs.
# Dropout stays off (eval mode) so the run repeats exactly.
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-4)
anchors, positives = (
    model.preprocess([a for a, _ in pairs]),
    model.preprocess([b for _, b in pairs]),
)
for step in range(1, 6):
    ea = F.normalize(model(dict(anchors))["sentence_embedding"], dim=-1)
    eb = F.normalize(model(dict(positives))["sentence_embedding"], dim=-1)
    # Each anchor should match its own pair better than the other pairs.
    loss = F.cross_entropy(ea @ eb.T * 20, torch.arange(len(pairs)))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step in (1, 5):
        print(f"fine-tuning step {step}: loss {loss.item():.1f}")

change = torch.sqrt(
    sum(((p - o) ** 2).sum() for p, o in zip(model.parameters(), original))
)
status = "changed" if fingerprint(model) != before else "unchanged"
print(f"after fine-tuning:     {status}", end=" ")
print(f"(L2 norm of the change: {change.item():.1f})")
print(f"similarity{probe}: {similarity(*probe):.2f}")
