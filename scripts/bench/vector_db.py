"""Vector-database timings: Milvus Lite's query time, exact against HNSW, at a size where the
difference shows.  Timings belong here, not in ``snippets/vector_db_scaling.py``'s output,
which must be the same on every run."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from scripts.bench import REPEATS, timed


def search_seconds(client, collection: str, queries: list, params: dict) -> float:
    """The best of ``REPEATS`` rounds of one search (top 10) per query, in seconds."""
    return min(timed(lambda: [client.search(collection, [q], limit=10, search_params=params) for q in queries])[0]
               for _ in range(REPEATS))


def vector_query_ms(n: int = 100_000, dim: int = 16, queries: int = 100) -> dict[str, float]:
    """Milliseconds per query at n synthetic vectors (unclustered, unlike the clusters of
    snippets/vector_db_scaling.py, with queries that are copies of stored vectors):
    exact search (a FLAT index scores every vector) against HNSW at two ``ef``."""
    from pymilvus import DataType, MilvusClient

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        client = MilvusClient(str(Path(tmp) / "bench.db"))
        times = {}
        for index_type, efs in (("FLAT", [None]), ("HNSW", [10, 64])):
            schema = client.create_schema()
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
            client.create_collection(index_type, schema=schema)
            client.insert(index_type, [{"id": i, "vector": v} for i, v in enumerate(vectors.tolist())])
            client.flush(index_type)
            index = client.prepare_index_params()
            index.add_index("vector", index_type=index_type, metric_type="COSINE")
            client.create_index(index_type, index)
            client.load_collection(index_type)
            for ef in efs:
                params = {"params": {"ef": ef}} if ef else {}
                seconds = search_seconds(client, index_type, vectors[:queries].tolist(), params)
                times[index_type + (f" ef={ef}" if ef else " (exact)")] = 1000 * seconds / queries
        client.close()
    return times
