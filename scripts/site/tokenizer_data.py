"""The browser tokenizer's vocabulary: cl100k_base ranks, compacted, from the verified file.

The widget on the tokens page must give exactly tiktoken's ids, so its data comes from the
same hash-verified ``cl100k_base.tiktoken`` the Python examples load (seeded by
``scripts.gate.seed``), never from a copy.  The text file is 1.7 MB of base64; the widget gets
the raw token bytes in rank order instead, gzip-compressed (about 0.6 MB):

    u32 little-endian  n (number of ranks, which run 0 .. n-1)
    n  x u8            length in bytes of each token
    ...                the token bytes, concatenated in rank order
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import struct
from pathlib import Path

from scripts.gate import seed
from scripts.gate.settings import cache_root

SITE_PATH = "assets/tokenizer/cl100k_base.bin.gz"


def ranks_file(root: Path) -> Path:
    """The seeded cl100k_base file, after ``seed.seed`` has checked its sha256."""
    seed.seed(root)
    return seed.tiktoken_file(cache_root(root), seed.TIKTOKEN_URL)


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


def build(root: Path) -> bytes:
    """The gzip file for the site (fixed mtime: same input, same bytes), cached on its input."""
    source = ranks_file(root)
    key = hashlib.sha256(source.read_bytes() + Path(__file__).read_bytes()).hexdigest()[:20]
    cached = cache_root(root) / "tokenizer" / f"{key}.bin.gz"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(gzip.compress(compact(source.read_text(encoding="ascii")), 9, mtime=0))
    return cached.read_bytes()


def add_to_site(files, config, root: Path) -> None:
    """Serve the vocabulary from the site itself, next to its other assets."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, SITE_PATH, content=build(root)))
