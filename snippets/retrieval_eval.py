import json
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer
from sklearn.feature_extraction.text import TfidfVectorizer

data = Path(__file__).parent / "data"
notes = json.loads((data / "notes.json").read_text(encoding="utf-8"))
tests = json.loads((data / "test_questions.json").read_text(encoding="utf-8"))
texts = [note["text"] for note in notes]
questions = [test["question"] for test in tests]


def keyword_scores():
    """TF-IDF: documents that share rare words with the question score high."""
    tfidf = TfidfVectorizer(stop_words="english").fit(texts + questions)
    return (tfidf.transform(questions) @ tfidf.transform(texts).T).toarray()


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
    ("keyword (TF-IDF)", keyword_scores()),
    ("embedding", embedding_scores()),
]:
    results[name] = [
        rank_of_answer(row, test["answer"]) for row, test in zip(scores, tests)
    ]

print(f"{'rank of the right note (1 = first)':68}{'TF-IDF':>6}{'embed':>6}")
for test, tfidf, embed in zip(tests, *results.values()):
    print(f"{test['question']:68}{tfidf:>6}{embed:>6}")

print(f"\n{'':18}{'hit@1':>7}{'hit@3':>7}{'MRR':>7}")
for name, ranks in results.items():
    ranks = np.array(ranks)
    hit1, hit3, mrr = (
        np.mean(ranks == 1),
        np.mean(ranks <= 3),
        np.mean(1 / ranks),
    )
    print(f"{name:18}{hit1:7.2f}{hit3:7.2f}{mrr:7.2f}")
