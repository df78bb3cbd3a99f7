# %% [markdown]
# # Lab: embeddings
#
# An embedding model turns a text into a list of numbers (a vector) so that texts with
# similar meaning get vectors that point in similar directions. In this lab you compare
# sentences, change them, and watch the similarity scores move.
#
# The model is `sentence-transformers/all-MiniLM-L6-v2`: small (about 90 MB), fast on a
# CPU, 384 numbers per text. You need `pip install sentence-transformers==6.2.0`; the first run
# downloads the model once.

# %%
from sentence_transformers import SentenceTransformer

model = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2")
vector = model.encode("The cat sits on the mat.")
print("numbers per text:", vector.shape[0])
print("first five:", [round(float(x), 2) for x in vector[:5]])


def similarity(a, b):
    """Cosine similarity of two texts: 1 = same direction; unrelated texts score low (how
    low depends on the model)."""
    va, vb = model.encode([a, b])
    return round(float(model.similarity(va, vb)), 2)


# %% [markdown]
# ## 1. Same meaning, different words
#
# The second sentence shares almost no words with the first, yet scores far higher than
# the third, which is about something else.

# %%
anchor = "The cat sits on the mat."
for other in ["A kitten is resting on a rug.", "Investors sold shares as prices dropped."]:
    print(f"{similarity(anchor, other):5.2f}  {other}")

# %% [markdown]
# ## 2. A ranking moves when the query changes
#
# Search is just this comparison done against many texts. Change the query and the order
# of the notes changes with it.

# %%
notes = [
    "Transformers use attention over every pair of tokens.",
    "RAG retrieves notes and adds them to the prompt.",
    "Fine-tuning changes a model's weights with new examples.",
    "A tokenizer splits text into tokens.",
]
note_vectors = model.encode(notes)


def rank(query):
    scores = model.similarity(model.encode(query), note_vectors)[0].tolist()
    for score, note in sorted(zip(scores, notes), reverse=True):
        print(f"{score:5.2f}  {note}")


rank("How can a chatbot answer from my company's documents?")

# %%
rank("How do I teach a model a new writing style?")

# %% [markdown]
# ## 3. What embeddings miss
#
# Embeddings capture topic and wording well but can miss what a single word does. Swapping
# who does what barely changes the vector. Worse, compare the last two lines: the sentence
# that says the *opposite* ("did not pass") scores higher than a true paraphrase in other
# words. Similarity here follows shared words and topic more than truth, so a retriever can
# hand the model a note that contradicts the question; meaning-critical details still need
# checking by a model or a person.

# %%
print("roles swapped: ", similarity("The dog bit the man.", "The man bit the dog."))
print("negation:      ", similarity("The test passed.", "The test did not pass."))
print("paraphrase:    ", similarity("The test passed.", "The check was successful."))

# %% [markdown]
# ## 4. Your turn
#
# Write two sentences of your own: first two that mean the same with different words,
# then two that share words but mean different things. Which pair scores higher?
#
# Write them in English: all-MiniLM-L6-v2 was trained on English text, and its vocabulary has
# no entry for many characters of other scripts (in the tokens page's Chinese example, half the
# characters became `[UNK]`), so other languages can get meaningless scores. It also
# reads at most 256 word pieces and silently drops the rest ([model card](https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2)).

# %%
similarity("Write one sentence here.", "And another one here.")
