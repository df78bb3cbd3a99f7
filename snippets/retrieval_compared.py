import json
from pathlib import Path

import bm25s
import numpy as np

from notes_db import chunk, model
from rates import holm, paired_change, sign_test, wilson

data = Path(__file__).parent / "data"
chunks = [c["text"] for c in chunk((data / "class_notes.md").read_text(encoding="utf-8"))]
tests = json.loads((data / "retrieval_questions.json").read_text(encoding="utf-8"))
questions = [t["question"] for t in tests]
# Each question is labelled with a phrase found in exactly one chunk: the chunk that answers it.
answers = []
for t in tests:
    where = [i for i, text in enumerate(chunks) if t["answer"] in text]
    assert len(where) == 1, f"{t['question']!r}: its answer phrase is in {len(where)} chunks, not 1"
    answers.append(where[0])


def dense():
    """Embeddings (MiniLM): chunks close in meaning to the question rank first."""
    return model.encode(questions, normalize_embeddings=True) @ model.encode(chunks, normalize_embeddings=True).T


def keyword():
    """BM25: chunks sharing rare words with the question rank first (a chunk sharing none
    scores 0, and those ties keep the notes' order)."""
    bm25 = bm25s.BM25()
    bm25.index(bm25s.tokenize(chunks, stopwords="en", show_progress=False), show_progress=False)
    words = bm25s.tokenize(questions, stopwords="en", return_ids=False, show_progress=False)
    return np.array([bm25.get_scores(w) for w in words])


def ranks(scores):
    """Each chunk's rank (0 = first) for each question; ties: the earlier chunk first."""
    order = np.array([sorted(range(len(chunks)), key=lambda i: (-row[i], i)) for row in scores])
    return np.argsort(order, axis=1)


def hybrid(dense_rank, keyword_rank, keyword_scores, k=60):
    """Reciprocal rank fusion: add 1 / (k + rank), rank counted from 1, from each retriever
    (k = 60, as in the paper); a chunk BM25 did not find at all (score 0) gets nothing from it."""
    return 1 / (k + 1 + dense_rank) + np.where(keyword_scores > 0, 1 / (k + 1 + keyword_rank), 0)


def reranked(rank, k=5):
    """A re-ranking step: the first stage's top k chunks, put in a new order by a line-level
    second look, the chunk's one line closest in meaning to the question (a chunk mixes several points; the
    line that answers counts, not the average). The rest keep their ranks. A cross-encoder,
    which reads question and chunk together, is the usual second look; none is seeded here."""
    asked = model.encode(questions, normalize_embeddings=True)
    lines = [model.encode(text.splitlines(), normalize_embeddings=True) for text in chunks]
    new = rank.copy()
    for q, row in enumerate(rank):
        top = np.argsort(row)[:k]  # the chunks ranked 0 to k-1
        # Similarities rounded to 0.01 (equal ones count as a tie, kept in the first stage's
        # order), which makes it unlikely that another CPU's last float digits swap two chunks.
        for position, c in enumerate(sorted(top, key=lambda c: (-round(float((lines[c] @ asked[q]).max()), 2), row[c]))):
            new[q, c] = position
    return new


def bootstrap(values, rng, rounds=2000):
    """The 95% percentile bootstrap interval of a mean: resample the questions with replacement."""
    means = [rng.choice(values, len(values)).mean() for _ in range(rounds)]
    return np.percentile(means, [2.5, 97.5])


keyword_scores = keyword()
by_dense, by_keyword = ranks(dense()), ranks(keyword_scores)
results = {"dense (MiniLM)": by_dense, "keyword (BM25)": by_keyword,
           "hybrid (RRF)": ranks(hybrid(by_dense, by_keyword, keyword_scores))}
results["hybrid, re-ranked"] = reranked(results["hybrid (RRF)"])
n = len(tests)
CUTOFFS = {"hit@1": 1, "hit@3": 3}  # the answering chunk among the top k: what a prompt of k chunks gets
print(f"{n} questions over {len(chunks)} chunks of the class notes; 95% intervals in brackets\n")
print(f"{'':18}" + "".join(f"{name:>20}" for name in [*CUTOFFS, "MRR"]))
for name, rank in results.items():
    position = rank[np.arange(n), answers]  # where the answering chunk came, per question
    cells = []
    for k in CUTOFFS.values():
        hits = int((position < k).sum())
        low, high = wilson(hits, n)
        cells.append(f"{hits}/{n} [{low:.2f}-{high:.2f}]")
    reciprocal = 1 / (position + 1)
    low, high = bootstrap(reciprocal, np.random.default_rng(0))
    cells.append(f"{reciprocal.mean():.2f} [{low:.2f}-{high:.2f}]")
    print(f"{name:18}" + "".join(f"{c:>20}" for c in cells))


# Pair by pair, three ways: the answering chunk ranked higher at all (a move from 15th to 12th
# counts), or brought into the top 1 or the top 3, what a prompt of that many chunks gets.
MEASURES = {"any rank": lambda a, b: (a < b, a > b)} | {
    name: lambda a, b, k=k: ((a < k) & (b >= k), (a >= k) & (b < k)) for name, k in CUTOFFS.items()}
print("\nthe same questions, pair by pair (better or worse for the first method; ties left out;")
print("p: exact sign test; Holm: p corrected for the four pairs, within each measure; change, at")
print(f"{' and '.join(CUTOFFS)}: the first's hit rate minus the second's over all {n} questions, ties too,")
print("and its 95% interval for paired items):")
position = {name: rank[np.arange(n), answers] for name, rank in results.items()}
pairs = [("hybrid (RRF)", "dense (MiniLM)"), ("hybrid (RRF)", "keyword (BM25)"), ("keyword (BM25)", "dense (MiniLM)"),
         ("hybrid, re-ranked", "hybrid (RRF)")]
tested = {}
for measure, split in MEASURES.items():
    counts = [tuple(int(side.sum()) for side in split(position[a], position[b])) for a, b in pairs]
    p_values = [sign_test(better, worse) for better, worse in counts]
    tested[measure] = list(zip(counts, p_values, holm(p_values)))
for i, (a, b) in enumerate(pairs):
    print(f"  {a} against {b}:")
    for measure, rows in tested.items():
        (better, worse), p, corrected = rows[i]
        line = f"    {measure:9} better on {better:2}, worse on {worse:2}, p = {p:.3f}, Holm {corrected:.3f}"
        if measure in CUTOFFS:  # a rate: how much it changes, not only whether
            k = CUTOFFS[measure]
            change, low, high = paired_change(list(position[b] < k), list(position[a] < k))
            line += f", change {change:+.2f} [{low:+.2f}, {high:+.2f}]"
        print(line)
fused = position["hybrid (RRF)"]

print("\nwhere the hybrid's top 3 miss the answer (the labelled chunk, and the hybrid's first):")
for t, place, row, label in zip(tests, fused, results["hybrid (RRF)"], answers):
    if place >= 3:
        first = int(np.argmin(row))
        print(f"  {t['question']}\n    labelled chunk {label}, ranked {place + 1}: {chunks[label].replace(chr(10), ' / ')[:64]!r}"
              f"\n    first, chunk {first}: {chunks[first].replace(chr(10), ' / ')[:64]!r}")
