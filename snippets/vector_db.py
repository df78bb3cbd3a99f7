from notes_db import MAX_WORDS, RULE, open_notes_db, search

client = open_notes_db()
print("chunking rule:", RULE)
count = client.get_collection_stats("notes")["row_count"]
sections = client.query("notes", filter="id >= 0", output_fields=["section"])
print(f"{count} chunks stored:", ", ".join(f"{sum(row['section'] == s for row in sections)} in '{s}'"
                                         for s in sorted({row["section"] for row in sections})))
lines = {row["id"]: row["text"].splitlines() for row in client.query("notes", filter="id >= 0", output_fields=["text"])}
over = sorted(i for i, chunk in lines.items() if len(" ".join(chunk).split()) > MAX_WORDS)
print(f"chunks over {MAX_WORDS} words: {over}; each is one bullet after its path: {all(len(lines[i]) <= 2 for i in over)}")


def show(hits):
    for hit in hits:
        print(f"  {hit['score']:.2f}  #{hit['id']:<2} [{hit['section']}] {hit['text'].replace(chr(10), ' / ')[:64]}")


question = "What is RAG compared to?"
print(f"\ntop 3 for: {question}")
show(search(client, question))
print('\nthe same, only where section == "study LLM with me":')
show(search(client, question, where='section == "study LLM with me"'))
