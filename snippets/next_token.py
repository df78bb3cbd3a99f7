import random
import re
from collections import Counter, defaultdict
from pathlib import Path

text = (Path(__file__).parent / "data" / "tiny_corpus.txt").read_text(
    encoding="utf-8"
)
# A word-level tokenizer keeps the idea visible: words and punctuation.
tokens = re.findall(r"\w+|[^\w\s]", text.lower())

# "Training": count which token follows which (a bigram language model).
following = defaultdict(Counter)
for current, nxt in zip(tokens, tokens[1:]):
    following[current][nxt] += 1


def next_token_distribution(token):
    """P(next | token), most likely first; ties in alphabetical order."""
    counts = following[token]
    total = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return {candidate: count / total for candidate, count in ranked}


print(f"{len(tokens)} tokens, {len(set(tokens))} different ones\n")
for prompt in ["the model", "the next", "a piece of"]:
    last = prompt.split()[-1]
    print(f"prompt {prompt!r}: a bigram model only looks at {last!r}")
    for candidate, p in next_token_distribution(last).items():
        print(f"  {candidate:10}{p:5.2f}  {'#' * round(p * 20)}")
    print()


def generate(choose, start="the", max_tokens=12):
    text = [start]
    while text[-1] != "." and len(text) < max_tokens:
        text.append(choose(next_token_distribution(text[-1])))
    return " ".join(text)


# Greedy: always append the single most likely next token.
print("greedy:\n ", generate(lambda dist: next(iter(dist))))


def sample(dist):
    """Draw the next token at random, in proportion to its probability."""
    return rng.choices(list(dist), weights=list(dist.values()))[0]


rng = random.Random(7)
print("sampled:")
for _ in range(3):
    print(" ", generate(sample))
