# %% [markdown]
# # Lab: retrieval
#
# Retrieval-augmented generation (RAG) answers from *your* documents: find the notes that
# match a question, then put them into the prompt. This lab builds the "find" half in a
# few lines, compares keyword matching with embeddings, and counts what the prompt costs.
#
# You need `pip install sentence-transformers==6.2.0 tiktoken==0.14.0`; the first run downloads the
# embedding model and the tokenizer once.

# %%
notes = {
    "attention": "Transformers compare each token with every token before it, so cost "
                 "grows with the square of the context length.",
    "rwkv": "RWKV is a recurrent network that keeps a fixed-size state, so each new "
            "token costs the same.",
    "rag": "RAG retrieves relevant notes and adds them to the prompt, so answers can "
           "cite sources the model never saw in training.",
    "fine-tuning": "Fine-tuning updates the weights with examples, which suits a fixed "
                   "style or format better than fast-changing facts.",
    "tokens": "A tokenizer splits text into tokens; prices and context limits are "
              "counted in tokens.",
    # A one-line summary, as of 2026-11: the 2023 Interim Measures (Article 17) ask filing of
    # services with "public opinion attributes", in practice almost every public chat service.
    "china": "Generative AI offered to the public in mainland China must be filed "
             "with the regulator (under the 2023 Interim Measures).",
}
print(len(notes), "notes")

# %% [markdown]
# ## 1. Keyword matching
#
# The simplest retriever counts the words a note shares with the question. It works when
# the question uses the note's words.

# %%
import re


def words(text):
    return set(re.findall(r"[a-z]+", text.lower()))


def keyword_search(question, k=3):
    scores = {name: len(words(question) & words(text)) for name, text in notes.items()}
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]


keyword_search("Why does the cost grow with the context length?")

# %% [markdown]
# Now ask the same thing in other words. Few words are shared, and the keyword
# retriever ranks the notes on coincidences:

# %%
keyword_search("Why are long documents expensive for a transformer?")

# %% [markdown]
# This keyword matcher is the crudest kind: "transformer" and "Transformers" are different
# strings to it, and "the" counts as much as any word. BM25 down-weights words many notes
# share and weighs rare ones higher (and is usually run with a stop-word list); on the approach
# page's sixty questions it scored higher than embeddings at hit@1, though not
# significantly pair by pair, on questions that reuse the notes' words.

# %% [markdown]
# ## 2. Embedding search
#
# Embeddings compare meaning instead of spelling. Normalized vectors make the dot
# product equal to cosine similarity.

# %%
from sentence_transformers import SentenceTransformer

model = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2")
names = list(notes)
note_vectors = model.encode(list(notes.values()), normalize_embeddings=True)


def embedding_search(question, k=3):
    scores = note_vectors @ model.encode(question, normalize_embeddings=True)
    ranked = sorted(zip(scores.tolist(), names), reverse=True)[:k]
    return [(name, round(score, 2)) for score, name in ranked]


embedding_search("Why are long documents expensive for a transformer?")

# %%
embedding_search("Can I use a chatbot to answer from our own files?")

# %% [markdown]
# The right note comes first here, but only just, and every score is low: a near tie, which
# a different model or version could reverse. A low score does not mean the answer is missing, though:
# it is present here. MiniLM can score the right note low when the question shares little
# wording with it, so a cut-off for "the notes may not hold the answer" must be set on labelled
# questions, some answerable (the approach page's sixty) and some not (the RAG page's fifty).

# %% [markdown]
# ## 3. The prompt that goes to the model
#
# The retrieved notes become context. Every note you add costs tokens on every request,
# which is why retrieval keeps only the best few.

# %%
import tiktoken

enc = tiktoken.get_encoding("cl100k_base")  # GPT-4's; count with the tokenizer of the model you call


def build_prompt(question, k):
    context = "\n".join(f"[{name}] {notes[name]}" for name, _ in embedding_search(question, k))
    return (f"Answer using only the notes below and cite their ids.\n\n"
            f"Notes:\n{context}\n\nQuestion: {question}")


question = "Why are long documents expensive for a transformer?"
print(build_prompt(question, 1))
for k in [1, 3, 6]:
    print(f"top {k}: {len(enc.encode(build_prompt(question, k)))} prompt tokens")

# %% [markdown]
# ## 4. Your turn
#
# Ask your own question, first with words from a note, then in your own words. Which
# retriever still finds the right note? Add a note of your own to `notes` (and run the
# cells again) to see it come up.

# %%
my_question = "Which models may I offer to users in China?"
print("keywords:  ", keyword_search(my_question))
print("embeddings:", embedding_search(my_question))
