"""Greedy replies to many prompts at once, as a server batches requests. Prompts that begin
alike (a system prompt, worked examples) share that start: the model reads it once, and every
row attends to that one copy of its keys and values. Given groups (questions given the same
retrieved passage), each group's start is read once, and rows of different groups still share a
batch. The rest of each prompt is padded on the left, so every row ends where its reply starts.

Imported by the snippets that ask SmolLM2 many things (tools, RAG, fine-tuning); save it beside them."""
import os
from contextlib import contextmanager
from itertools import groupby

import torch
from transformers import AttentionInterface, DynamicCache, LogitsProcessor, LogitsProcessorList
from transformers.cache_utils import Cache, StaticLayer
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

# SmolLM2 has 9 query heads and 3 key/value heads (grouped-query attention). On a CPU, transformers
# copies each key/value head 3 times before attending with PyTorch's SDPA (reading starts, training)
# unless told to let it attend to the groups directly: the same scores, without the copies.
os.environ.setdefault("TRANSFORMERS_SDPA_FORCE_GQA", "1")
# What one batch may hold. Its cache: rows x their own tokens (the starts are kept once, apart),
# each token 30 layers x keys and values x 192 numbers, 46 KB in float32 (30,000 tokens: 1.4 GB).
# The tokens it reads in its first step, every row its own prompt at once: that step's work space
# grows with them, and its attention scores with them times every place they may look at (start,
# own tokens, reply): 4,000,000 of them per head, 144 MB for the 9 heads of a layer, about three
# such at once (attend_starts_once): 0.4 GB. The starts, read once, are kept besides for the whole
# call. And its padding: every row is padded to the longest, and padding costs as much to read as a token.
CACHE_BUDGET, READ_BUDGET, SCORES_BUDGET, MAX_PADDING = 30_000, 8_000, 4_000_000, 0.2
# But one more batch costs too: each step of its reply reads all the weights, however few its rows.
# On one thread here a step of one row took 71 ms, as long as reading 20 tokens of prompt in a
# batch (3.4 ms each), so a batch may pad 20 tokens more for each step its reply may take.
STEP_COST = 20


def left_padded(rows, pad_id):
    """One batch from rows of token ids: padding on the left, and positions that skip it."""
    width = max(map(len, rows))
    ids = torch.tensor([[pad_id] * (width - len(r)) + r for r in rows], dtype=torch.long)
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], dtype=torch.long)
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


def by_budget(order, start, read, steps=0):
    """Consecutive runs of `order` (shortest first), each as many rows as fit the budgets: its
    cache, rows x (the longest `read(i)` + `steps` of reply) tokens; its first step's reading,
    rows x the longest `read(i)`, and its scores, that x (the longest `start(i)` + `read(i)` +
    `steps`); and the padding of what it reads, at most MAX_PADDING times the tokens the rows
    really read, plus what another batch of `steps` steps would cost (STEP_COST)."""
    part, real, wide, long = [], 0, 0, 0
    for i in order:
        rows, more, wider, longer = len(part) + 1, real + read(i), max(wide, start(i)), max(long, read(i))
        if part and (rows * (longer + steps) > CACHE_BUDGET or rows * longer > READ_BUDGET
                     or rows * longer * (wider + longer + steps) > SCORES_BUDGET
                     or rows * longer - more > MAX_PADDING * more + STEP_COST * steps):
            yield part
            part, more, wider, longer = [], read(i), start(i), read(i)
        part.append(i)
        real, wide, long = more, wider, longer
    if part:
        yield part


def read_starts(model, starts, pad_id):
    """Each start read once, as many at once as the budgets allow: {start: its KV per layer,
    (keys, values) of its own tokens only, copied out of the padded batch it was read in}."""
    starts, read = sorted(set(starts), key=len), {}
    for part in by_budget(range(len(starts)), lambda i: 0, lambda i: len(starts[i])):
        batch = left_padded([list(starts[i]) for i in part], pad_id)
        # Read without the scores of the next token: only the cache is kept.
        layers = model(**batch, logits_to_keep=1).cache.layers if batch["input_ids"].shape[1] else ()
        for row, i in enumerate(part):
            own = slice(batch["input_ids"].shape[1] - len(starts[i]), None)
            read[starts[i]] = [(kv.keys[row, :, own].clone(), kv.values[row, :, own].clone()) for kv in layers]
    return read


class StartsOnce(StaticLayer):
    """One layer's cache for a batch whose rows begin with starts read already (read_starts):
    each distinct start's keys and values kept once, however many rows begin with it, and each
    row's own tokens (the rest of its prompt, then its reply) in a fixed-size place, where the
    model writes each new token (transformers' growing DynamicCache copies itself at every token).
    To the mask and to generate() it looks like one cache of `width` plus `own`'s places: the
    rows' starts, right-aligned in the first `width`, then their own tokens. (Built on
    transformers' StaticLayer and its registries of attentions and masks, as of 5.24.0.)"""

    def __init__(self, starts, width, own):
        """`starts`: [(rows, keys, values)], each start with the slice of rows that begin with it;
        `own`: the place for the rows' own tokens, zeros (rows, key/value heads, places, head size)."""
        super().__init__(max_cache_len=width + own.shape[2])
        self.starts, self.width, self.keys, self.values = starts, width, own, torch.zeros_like(own)
        self.batch_size, self.num_heads, self.is_initialized = own.shape[0], own.shape[1], True
        self.device, self.cumulative_length = own.device, torch.tensor(width, device=own.device)

    def update(self, keys, values, *args, **kwargs):
        """Writes the new tokens in place; gives itself to attend_starts_once as keys and values."""
        places = torch.arange(keys.shape[-2], device=self.device) + self.cumulative_length - self.width
        self.keys.index_copy_(2, places, keys)
        self.values.index_copy_(2, places, values)
        self.cumulative_length.add_(keys.shape[-2])
        return self, self

    def _kept_apart(self, *args, **kwargs):
        raise NotImplementedError("StartsOnce keeps each start apart from its rows: greedy() needs none of this")

    reset = crop = reorder_cache = batch_select_indices = batch_repeat_interleave = offload = prefetch = _kept_apart


def attend_starts_once(module, query, key, value, attention_mask, scaling=None, **kwargs):
    """Attention that reads each start once for all the rows that begin with it (cascade
    attention): for those rows, scores against the start and against each row's own tokens, one
    softmax over both: the same sums as if the start were copied into every row. Any other cache: PyTorch's
    own attention (SDPA), as transformers gives it."""
    if not isinstance(key, StartsOnce):
        return sdpa_attention_forward(module, query, key, value, attention_mask, scaling=scaling, **kwargs)
    assert attention_mask is not None and attention_mask.dtype == torch.bool, "expects transformers' boolean SDPA mask"
    rows, heads, length, size = query.shape
    kv_heads = key.keys.shape[1]
    per_head = heads // kv_heads * length  # each key/value head's queries, its 3 query heads' in a row
    query = query.reshape(rows, kv_heads, per_head, size) * scaling
    own = torch.matmul(query, key.keys.transpose(2, 3))  # each row against its own tokens
    hidden = ~attention_mask[:, :, :, key.width:].unsqueeze(2)  # padding, and places not yet written
    # Hidden places get the lowest float, not minus infinity: a padding query that sees nothing
    # (no start) gets finite weights, as in SDPA, and its NaN never reaches the next layer.
    lowest = torch.finfo(own.dtype).min
    own = own.view(rows, kv_heads, -1, length, own.shape[-1]).masked_fill(hidden, lowest).flatten(2, 3)
    out = torch.empty_like(query)
    for which, start_keys, start_values in key.starts:  # its rows' queries, all at once, against the start
        count, start_length = which.stop - which.start, start_keys.shape[1]
        asked = query[which].transpose(0, 1).reshape(kv_heads, count * per_head, size)
        shared = torch.bmm(asked, start_keys.transpose(1, 2)).view(kv_heads, count, per_head, start_length)
        weights = torch.cat([shared.transpose(0, 1), own[which]], -1).softmax(-1)
        on_start, on_own = weights.split([start_length, own.shape[-1]], -1)
        on_start = on_start.transpose(0, 1).reshape(kv_heads, count * per_head, start_length)
        from_start = torch.bmm(on_start, start_values).view(kv_heads, count, per_head, size).transpose(0, 1)
        out[which] = from_start + torch.matmul(on_own, key.values[which])
    return out.view(rows, heads, length, size).transpose(1, 2).contiguous(), None


def always_a_mask(*args, **kwargs):
    """transformers' SDPA mask, never left out: SDPA may be told "causal" instead, but
    attend_starts_once needs the mask itself."""
    return sdpa_mask(*args, **{**kwargs, "allow_is_causal_skip": False})


AttentionInterface.register("starts_once", attend_starts_once)
AttentionMaskInterface.register("starts_once", always_a_mask)


@contextmanager
def attending(model, name):
    """Inside the block the model attends with `name`, a registered attention; after it, as before."""
    config = model.config
    was, config._attn_implementation = config._attn_implementation, name
    try:
        yield
    finally:
        config._attn_implementation = was


def starts_cache(model, starts, read, width, places):
    """A cache for a batch whose rows begin with `starts`, the rows of each start next to each
    other: each distinct start kept once, with its rows as a slice (StartsOnce: the rows'
    queries, keys and values are taken as slices, not gathered copies), and `places` for each
    row's own tokens."""
    spans, first = [], 0
    for start, rows in groupby(starts):
        spans.append((start, slice(first, first + len(list(rows)))))
        first = spans[-1][1].stop
    assert len({start for start, _ in spans}) == len(spans), "the rows of each start must be next to each other"
    config = model.config
    heads, size = config.num_key_value_heads, config.head_dim
    empty = torch.empty((heads, 0, size), dtype=model.dtype)
    return Cache(layers=[StartsOnce([(rows, *(read[start][layer] if start else (empty, empty)))
                                     for start, rows in spans],
                                    width, torch.zeros((len(starts), heads, places, size), dtype=model.dtype))
                         for layer in range(config.num_hidden_layers)])


def greedy(model, tokenizer, rows, max_new_tokens, start=None, processor=None, groups=None):
    """The greedy reply to each row of prompt ids, in the rows' order. Rows begin alike: the start
    they share is read once. `groups` (a key per row) says among which rows to look for one:
    each group's shared start is read once (a retrieved passage shared by several questions),
    and rows of different groups still go in one batch, each row's start padded on its left (in
    the ids and the mask: the cache keeps each start once, unpadded).
    Without it, all rows are one group. `start` is a start read already (read_start) and kept across calls.
    Rows of similar length go together, as many as the budgets allow: little of a batch is padding,
    and the batches are few (the CPU does larger matrix products faster per row). A
    `processor` (a logits processor: constrained decoding) sees each batch from its first token;
    a list of them gives each row its own."""
    with torch.no_grad():
        if start is not None:
            assert groups is None, "a start read already is every row's start"
            ids, prefix = start
            starts = [tuple(ids)] * len(rows)
            read = {tuple(ids): [(kv.keys[0], kv.values[0]) for kv in (prefix.layers if ids else ())]}
        else:
            keys = groups or [None] * len(rows)
            members = {}
            for row, key in zip(rows, keys, strict=True):
                members.setdefault(key, []).append(row)
            # A group of one row has no start to share: it begins as all rows do.
            common = tuple(shared_start(rows))
            shared = {key: tuple(shared_start(group)) if len(group) > 1 else common for key, group in members.items()}
            starts = [shared[key] for key in keys]
            read = read_starts(model, shared.values(), tokenizer.pad_token_id)
        assert all(tuple(r[:len(s)]) == s for r, s in zip(rows, starts, strict=True)), "a row must begin with its start"
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]) - len(starts[i]))
        texts = {}
        for part in by_budget(order, lambda i: len(starts[i]), lambda i: len(rows[i]) - len(starts[i]), max_new_tokens):
            part = sorted(part, key=lambda i: (len(starts[i]), starts[i]))  # the rows of each start together; stable
            before = left_padded([list(starts[i]) for i in part], tokenizer.pad_token_id)
            rest = left_padded([rows[i][len(starts[i]):] for i in part], tokenizer.pad_token_id)
            width, own = before["input_ids"].shape[1], rest["input_ids"].shape[1]  # the starts' part, the rows' own
            cache = starts_cache(model, [starts[i] for i in part], read, width, own + max_new_tokens)
            constraint = PerRow([processor[i] for i in part]) if isinstance(processor, list) else processor
            if constraint is not None:
                constraint.reset()  # a new batch: each row's constraint starts again
            # generate() takes every id, skips as many as the cache holds already, and numbers the
            # positions from the mask (padding in the middle of a row skipped, as on its left).
            # Eagerly: outlines-core masks the logits with a kernel it torch.compile()s on first
            # use, about 20 s of compiling on a CPU in every fresh run, for a mask that eager
            # PyTorch applies just the same.
            with torch.compiler.set_stance("force_eager"), attending(model, "starts_once"):
                output = model.generate(
                    input_ids=torch.cat([before["input_ids"], rest["input_ids"]], 1),
                    attention_mask=torch.cat([before["attention_mask"], rest["attention_mask"]], 1),
                    cache=cache, max_new_tokens=max_new_tokens, do_sample=False,
                    logits_processor=LogitsProcessorList([constraint] if constraint else []))
            for i, row in zip(part, output[:, width + own:], strict=True):
                texts[i] = tokenizer.decode(row, skip_special_tokens=True).strip()
            del cache  # before the next batch's is made: never two batches' caches at once
    return [texts[i] for i in range(len(rows))]
