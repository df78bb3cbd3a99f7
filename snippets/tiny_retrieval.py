import json
from pathlib import Path

from sentence_transformers import SentenceTransformer

# A small, fixed set of study notes that lives next to this file.
notes = json.loads(
    (Path(__file__).parent / "data" / "notes.json").read_text(encoding="utf-8")
)

model = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2")
# Normalized vectors make the dot product equal to cosine similarity.
note_vectors = model.encode(
    [note["text"] for note in notes], normalize_embeddings=True
)

question = "Why do long contexts make Transformers expensive?"
question_vector = model.encode(question, normalize_embeddings=True)

scores = note_vectors @ question_vector
top_k = sorted(range(len(notes)), key=lambda i: -scores[i])[:3]

print(f"question: {question}\n")
for rank, i in enumerate(top_k, start=1):
    print(f"{rank}. {scores[i]:.2f}  {notes[i]['id']}")

# The retrieved notes become context in the prompt that would go to an LLM.
context = "\n".join(f"[{notes[i]['id']}] {notes[i]['text']}" for i in top_k)
prompt = f"""Answer the question using only the notes below.
Cite the id of the note you used.

Notes:
{context}

Question: {question}
Answer:"""
print("\n--- augmented prompt ---")
print(prompt)
