import json
from pathlib import Path

import bm25s
import numpy as np
from sentence_transformers import SentenceTransformer

data = Path(__file__).parent / "data"
notes = json.loads((data / "notes.json").read_text(encoding="utf-8"))
tests = json.loads((data / "test_questions.json").read_text(encoding="utf-8"))
texts = [note["text"] for note in notes]
questions = [test["question"] for test in tests]


def keyword_scores():
    """BM25, the usual keyword baseline: documents that share rare words with the question
    score high. Its statistics come from the documents only, never from the test questions."""
    bm25 = bm25s.BM25()
    bm25.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    tokens = bm25s.tokenize(questions, stopwords="en", return_ids=False, show_progress=False)
    return np.array([bm25.get_scores(words) for words in tokens])


def embedding_scores():
    """Embeddings: documents close in meaning to the question score high."""
    model = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2")
    return (
        model.encode(questions, normalize_embeddings=True)
        @ model.encode(texts, normalize_embeddings=True).T
    )


def rank_of_answer(scores, answer):
    order = sorted(
        range(len(notes)), key=lambda i: (-scores[i], i)
    )  # ties: earlier note first
    return [notes[i]["id"] for i in order].index(answer) + 1


results = {}
for name, scores in [
    ("keyword (BM25)", keyword_scores()),
    ("embedding", embedding_scores()),
]:
    results[name] = [
        rank_of_answer(row, test["answer"]) for row, test in zip(scores, tests)
    ]

print(f"{'rank of the right note (1 = first)':68}{'BM25':>6}{'embed':>6}")
for test, keyword, embed in zip(tests, *results.values()):
    print(f"{test['question']:68}{keyword:>6}{embed:>6}")

differ = sum(keyword != embed for keyword, embed in zip(*results.values()))
print(f"\nthe two rank the right note differently on {differ} of {len(tests)} questions: enough to see how"
      f"\neach goes wrong, too few to say which is better (retrieval_compared.py asks 60)")
