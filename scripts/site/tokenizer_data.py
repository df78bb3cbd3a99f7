"""The browser tokenizer's vocabularies: cl100k_base and o200k_base ranks, compacted, from
the verified files.

The widget on the tokens page must give exactly tiktoken's ids, so its data comes from the
same hash-verified ``.tiktoken`` files the Python examples load (seeded by
``scripts.gate.seed``), never from a copy.  cl100k_base's text file is 1.7 MB of base64; the
widget gets the raw token bytes in rank order instead, gzip-compressed (about 0.4 MB; 0.8 MB
for o200k_base, fetched only if the reader picks it):

    u32 little-endian  n (number of ranks, which run 0 .. n-1)
    n  x u8            length in bytes of each token
    ...                the token bytes, concatenated in rank order
"""

from __future__ import annotations

import base64
import gzip
import struct
from pathlib import Path

from scripts.gate import Project, seed
from scripts.site import memo

URLS = {"cl100k_base": seed.TIKTOKEN_URL, "o200k_base": seed.O200K_URL}


def site_path(name: str) -> str:
    return f"assets/tokenizer/{name}.bin.gz"


def ranks_file(cache: Path, name: str = "cl100k_base") -> Path:
    """A seeded ``.tiktoken`` file, after ``seed.seed`` has checked its sha256."""
    seed.seed(cache, (name,), partial=True)
    return seed.tiktoken_file(cache, URLS[name])


def compact(text: str) -> bytes:
    """The ``.tiktoken`` text (``base64 rank`` per line) as the widget's binary layout."""
    tokens = []
    for expected, line in enumerate(text.splitlines()):
        encoded, rank = line.split()
        if int(rank) != expected:
            raise ValueError(f"ranks are not contiguous at line {expected + 1}: {rank}")
        tokens.append(base64.b64decode(encoded))
    if max(map(len, tokens)) > 255:
        raise ValueError("a token longer than 255 bytes does not fit the u8 length table")
    return struct.pack("<I", len(tokens)) + bytes(map(len, tokens)) + b"".join(tokens)


def expand(data: bytes) -> list[bytes]:
    """The inverse of ``compact`` (what the widget's JavaScript does), for the tests.

    >>> expand(compact("YQ== 0\\nYmM= 1\\n"))
    [b'a', b'bc']
    """
    (count,) = struct.unpack_from("<I", data)
    lengths, offset, tokens = data[4:4 + count], 4 + count, []
    for length in lengths:
        tokens.append(data[offset:offset + length])
        offset += length
    return tokens


def build(where: Project | Path, name: str = "cl100k_base") -> bytes:
    """The gzip file for the site (fixed mtime: same input, same bytes), cached on its input."""
    cache = Project.of(where).cache
    text = ranks_file(cache, name).read_text(encoding="ascii")
    return memo.cached(cache, "tokenizer", [text, memo.source_of(__file__)],
                       lambda: gzip.compress(compact(text), 9, mtime=0))


def add_to_site(files, config, project: Project) -> None:
    """Serve the vocabularies from the site itself, next to its other assets."""
    from mkdocs.structure.files import File

    for name in URLS:
        files.append(File.generated(config, site_path(name), content=build(project, name)))
