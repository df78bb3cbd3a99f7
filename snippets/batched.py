"""Greedy replies to many prompts at once, as a server batches requests. Prompts that begin
alike (a system prompt, worked examples) share that start: the model reads it once, and every
row gets a copy of its KV cache. The rest of each prompt is padded on the left, so every row
ends where its reply starts.

Imported by the snippets that ask SmolLM2 many things (tools, RAG, fine-tuning); save it beside them."""
import os

import torch
from transformers import DynamicCache, LogitsProcessor, LogitsProcessorList, StaticCache

# SmolLM2 has 9 query heads and 3 key/value heads (grouped-query attention). On a CPU, transformers
# copies each key/value head 3 times before attending unless told to let PyTorch attend to the
# groups directly: the same scores, without copying the whole cache at every token.
os.environ.setdefault("TRANSFORMERS_SDPA_FORCE_GQA", "1")
# What one batch may hold. Its cache: rows x their length in tokens, each token 30 layers x keys
# and values x 192 numbers, 46 KB in float32 (30,000 tokens: 1.4 GB). The tokens it reads in its
# first step, every row its own prompt at once: that step's work space grows with them. And its
# padding: every row is padded to the longest, and padding costs as much to read as a token.
CACHE_BUDGET, READ_BUDGET, MAX_PADDING = 30_000, 8_000, 0.2


def left_padded(rows, pad_id):
    """One batch from rows of token ids: padding on the left, and positions that skip it."""
    width = max(map(len, rows))
    ids = torch.tensor([[pad_id] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    return {"input_ids": ids, "attention_mask": mask, "position_ids": (mask.cumsum(-1) - 1).clamp(min=0)}


def read_start(model, ids):
    """Run the model over a prompt start once: (its ids, its KV cache). With gradients when the
    model trains, so a loss reaches the start's tokens too."""
    return ids, (model(torch.tensor([ids])).cache if ids else None)


def shared_start(rows):
    """The ids every row begins with, leaving each row at least one token of its own."""
    start = 0
    while all(len(r) > start + 1 for r in rows) and len({r[start] for r in rows}) == 1:
        start += 1
    return rows[0][:start]


def after_start(rows, start, pad_id, budget=CACHE_BUDGET):
    """Batches of rows that all begin with `start` (ids, cache), each row with a copy of the start's
    cache and only its own tokens to read. The copies cost memory, so a batch holds at most
    `budget` tokens of them (rows x start); each batch is built only when it is used."""
    ids, prefix = start
    assert all(r[:len(ids)] == ids for r in rows), "every row must begin with the start"
    size = max(1, budget // max(1, len(ids)))
    for i in range(0, len(rows), size):
        part = rows[i:i + size]
        cache = DynamicCache()
        for layer, kv in enumerate(prefix.layers if ids else ()):  # a view of the start per row
            cache.update(kv.keys.expand(len(part), -1, -1, -1), kv.values.expand(len(part), -1, -1, -1), layer)
        rest = left_padded([r[len(ids):] for r in part], pad_id)
        mask = torch.cat([torch.ones(len(part), len(ids), dtype=torch.long), rest["attention_mask"]], 1)
        yield {"input_ids": rest["input_ids"], "attention_mask": mask, "cache": cache,
               "position_ids": rest["position_ids"] + len(ids)}


class PerRow(LogitsProcessor):
    """Logits processors, one per row of a batch: each row keeps its own constraint."""

    def __init__(self, processors):
        self.processors = processors

    def reset(self):
        for processor in self.processors:
            processor.reset()

    def __call__(self, input_ids, scores):
        return torch.cat([p(input_ids[i:i + 1], scores[i:i + 1]) for i, p in enumerate(self.processors)])


def by_budget(order, cached, read):
    """Consecutive runs of `order` (shortest rows first), each as many rows as fit the budgets
    when every row of the run is as long as its last: `cached(i)` tokens of cache, `read(i)` to
    read, and padding at most MAX_PADDING times the tokens the rows really read."""
    part, real = [], 0
    for i in order:
        rows, real = len(part) + 1, real + read(i)
        if part and (rows * cached(i) > CACHE_BUDGET or rows * read(i) > READ_BUDGET
                     or rows * read(i) > (1 + MAX_PADDING) * real):
            yield part
            part, real = [], read(i)
        part.append(i)
    if part:
        yield part


def greedy(model, tokenizer, rows, max_new_tokens, start=None, processor=None):
    """The greedy reply to each row of prompt ids, in the rows' order. `start` is a start read
    already (read_start) and kept across calls; without it, the rows' shared start is read here.
    Rows of similar length go together, as many as the budgets allow: little of a batch is padding,
    and the batches are few (the CPU does larger matrix products faster per row). A
    `processor` (a logits processor: constrained decoding) sees each batch from its first token;
    a list of them gives each row its own."""
    with torch.no_grad():
        ids, prefix = start or read_start(model, shared_start(rows))
        assert all(r[:len(ids)] == ids for r in rows), "every row must begin with the start"
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        texts = {}
        for part in by_budget(order, lambda i: len(rows[i]) + max_new_tokens, lambda i: len(rows[i]) - len(ids)):
            rest = left_padded([rows[i][len(ids):] for i in part], tokenizer.pad_token_id)
            n, width = rest["input_ids"].shape
            # A cache of fixed size, each row beginning with a copy of the start's: the model writes
            # each new token into its place, where transformers' growing DynamicCache copies itself
            # at every token. (Filling it by hand uses StaticCache's internals, as of 5.24.0.)
            cache = StaticCache(config=model.config, max_cache_len=len(ids) + width + max_new_tokens)
            for layer, kv in zip(cache.layers, prefix.layers if ids else ()):
                keys, values = kv.keys.expand(n, -1, -1, -1), kv.values.expand(n, -1, -1, -1)
                layer.lazy_initialization(keys, values)
                layer.keys[:, :, :len(ids)], layer.values[:, :, :len(ids)] = keys, values
                layer.cumulative_length.fill_(len(ids))
            constraint = PerRow([processor[i] for i in part]) if isinstance(processor, list) else processor
            if constraint is not None:
                constraint.reset()  # a new batch: each row's constraint starts again
            # generate() takes every id, skips as many as the cache holds already, and numbers the
            # positions from the mask, as left_padded() does. Eagerly: outlines-core masks the
            # logits with a kernel it torch.compile()s on first use, about 20 s of compiling on a
            # CPU in every fresh run, for a mask that eager PyTorch applies just the same.
            with torch.compiler.set_stance("force_eager"):
                output = model.generate(
                    input_ids=torch.cat([torch.tensor([ids] * n, dtype=torch.long), rest["input_ids"]], 1),
                    attention_mask=torch.cat([torch.ones(n, len(ids), dtype=torch.long), rest["attention_mask"]], 1),
                    cache=cache, max_new_tokens=max_new_tokens, do_sample=False,
                    logits_processor=LogitsProcessorList([constraint] if constraint else []))
            for i, row in zip(part, output[:, len(ids) + width:]):
                texts[i] = tokenizer.decode(row, skip_special_tokens=True).strip()
    return [texts[i] for i in range(len(rows))]
