"""The class notes in an embedded vector database (Milvus Lite): chunked, embedded with
all-MiniLM-L6-v2, and searchable with an optional metadata filter.

Imported by vector_db.py, retrieval_compared.py, rag_answer.py and rag_abstain.py; save it beside them."""
import re
from pathlib import Path

from pymilvus import DataType, MilvusClient
from sentence_transformers import SentenceTransformer

MIN_WORDS, MAX_WORDS = 25, 80
RULE = (f"a new chunk at a bullet of the top three levels once the chunk has {MIN_WORDS} words,\n"
        f"or before it would pass {MAX_WORDS} words; each chunk starts with the bullets of the\n"
        f"top three levels above it (a bullet too long to fit after them is a chunk of its own);\n"
        f"words are counted with those bullets (each ' > ' between them counts as one), and each\n"
        f"heading starts a section afresh")
ITEM = r"\s*([-*+•]|\d+[.)])(\s|$)"  # a bullet or a numbered item
HEADING = r"#{1,6}\s"
model = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2")


def bullets(markdown):
    """The notes' lines, each wrapped line of an item joined to the item it continues, so that
    no sentence is cut between two chunks. Other text (a paragraph under a heading) stays a
    line of its own, and counts as a top-level item."""
    lines = []
    for raw in markdown.splitlines():
        wrapped = raw.strip() and not re.match(ITEM, raw) and not re.match(HEADING, raw)
        if wrapped and lines and re.match(ITEM, lines[-1]):
            lines[-1] += " " + raw.strip()
        else:
            lines.append(raw.strip() if wrapped else raw)
    return lines


def indent_unit(lines):
    """The outline's step of indentation (2 or 4 spaces, say): its smallest indent of an item."""
    return min((len(raw) - len(raw.lstrip()) for raw in lines if re.match(ITEM, raw) and raw[0].isspace()), default=2)


def chunk(markdown, min_words=MIN_WORDS, max_words=MAX_WORDS):
    """Split outline notes into chunks (see RULE). The path of bullets above a chunk is kept,
    so that a line such as "like open book open note test" keeps its subject."""
    chunks, section, path = [], "", []  # path: (indent, text) of the bullets above this line
    first = 0  # the index of this section's first chunk: two sections may share a heading
    lines = bullets(markdown)
    top = 2 * indent_unit(lines)  # the deepest indent of the top three levels
    for raw in lines:
        indent, text = len(raw) - len(raw.lstrip()), re.sub(r"^([-*+•]|\d+[.)])\s*", "", raw.strip())
        if re.match(HEADING, raw):
            section, path, first = raw.lstrip("#").strip(), [], len(chunks)
            continue
        if not text:
            continue
        path = [(i, t) for i, t in path if i < indent]
        current = chunks[-1] if len(chunks) > first else None
        words = len(current["text"].split()) if current else 0
        if current is None or (indent <= top and words >= min_words) or words + len(text.split()) > max_words:
            current = {"section": section, "text": " > ".join(t for i, t in path if i <= top)}
            chunks.append(current)
        current["text"] = (current["text"] + "\n" + text).strip()
        path.append((indent, text))
    return chunks


def open_notes_db(uri="notes.db"):
    """A Milvus Lite database (a local folder) holding every chunk of data/class_notes.md.
    It drops and rebuilds the collection "notes" on every call, so the notes are always the
    file's: never point it at a database whose "notes" you want to keep. For a Milvus server or
    cluster, the one change is MilvusClient(uri="http://host:19530")."""
    notes = (Path(__file__).parent / "data" / "class_notes.md").read_text(encoding="utf-8")
    chunks = chunk(notes)
    vectors = model.encode([c["text"] for c in chunks], normalize_embeddings=True)
    client = MilvusClient(uri)
    if client.has_collection("notes"):
        client.drop_collection("notes")
    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=vectors.shape[1])
    schema.add_field("text", DataType.VARCHAR, max_length=2000)
    schema.add_field("section", DataType.VARCHAR, max_length=100)  # in UTF-8 bytes: about 33 Chinese characters
    index = client.prepare_index_params()
    index.add_index("vector", index_type="FLAT", metric_type="COSINE")  # exact: a few chunks
    client.create_collection("notes", schema=schema, index_params=index)
    client.insert("notes", [{"id": i, "vector": v.tolist(), **c} for i, (c, v) in enumerate(zip(chunks, vectors))])
    return client


def search(client, question, k=3, where=""):
    """The k chunks closest in meaning to the question (cosine), among those matching the
    filter: a list of {"id", "score", "section", "text"}."""
    vector = model.encode(question, normalize_embeddings=True).tolist()
    hits = client.search("notes", [vector], limit=k, filter=where, output_fields=["text", "section"])[0]
    return [{"id": hit["id"], "score": hit["distance"], **hit["entity"]} for hit in hits]
