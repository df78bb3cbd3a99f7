import os

os.environ["OMP_NUM_THREADS"] = "1"  # one thread builds the same HNSW graph on every run

import numpy as np
from pymilvus import DataType, MilvusClient

DIM, QUERIES, K = 16, 100, 10
rng = np.random.default_rng(0)
resample = np.random.default_rng(1)  # for the intervals, apart from the data's generator


def clustered_vectors(n):
    """n unit vectors around 100 random centres: like real embeddings, they form topics."""
    centres = rng.normal(size=(100, DIM))
    vectors = centres[rng.integers(0, 100, n)] + 0.6 * rng.normal(size=(n, DIM))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def hnsw_collection(client, name, vectors):
    """A collection with an HNSW index (approximate nearest neighbours), loaded for search."""
    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
    client.create_collection(name, schema=schema)
    client.insert(name, [{"id": i, "vector": v} for i, v in enumerate(vectors.tolist())])
    client.flush(name)  # seal the data, so the index covers it
    client.release_collection(name)
    index = client.prepare_index_params()
    index.add_index("vector", index_type="HNSW", metric_type="COSINE")
    client.create_index(name, index)
    client.load_collection(name)  # builds the HNSW graph


def recall_at_k(client, name, vectors, queries, ef):
    """The share of the exact top k (every vector scored) that the HNSW search also returns,
    with a 95% bootstrap interval over the queries (a query's k neighbours are not independent
    draws, so the query is what is resampled): "recall [low-high]"."""
    exact = np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :K]
    hits = client.search(name, queries.tolist(), limit=K, search_params={"params": {"ef": ef}})
    found = np.array([len(set(row) & {hit["id"] for hit in hit_list}) for row, hit_list in zip(exact, hits)])
    totals = found[resample.integers(0, len(found), size=(2000, len(found)))].sum(axis=1)
    low, high = np.percentile(totals, [2.5, 97.5], method="inverted_cdf")  # whole counts: no float rounding
    return f"{found.sum() / found.size / K:.2f} [{low / found.size / K:.2f}-{high / found.size / K:.2f}]"


client = MilvusClient("scaling.db")
print(f"recall@{K} of HNSW against exact search, {QUERIES} queries, {DIM}-dim vectors; 95% intervals")
print(f"{'vectors':>8}  {'ef=10':16} ef=64")
for n in (1_000, 10_000, 100_000):
    vectors = clustered_vectors(n)
    queries = vectors[:QUERIES] + 0.05 * rng.normal(size=(QUERIES, DIM)).astype(np.float32)
    name = f"synthetic_{n}"
    if client.has_collection(name):
        client.drop_collection(name)
    hnsw_collection(client, name, vectors)
    print(f"{n:>8,}  {recall_at_k(client, name, vectors, queries, 10):16} {recall_at_k(client, name, vectors, queries, 64)}")
