"""The project's files as the gate reads and writes them: regular files inside the project,
never through a link, never more than a bound.

Contributed files (``CONTRIBUTED``: snippets, labs, pages and their data) are untrusted.  A
committed ``.out`` or data file that is a symbolic link could make the gate read
``/proc/self/environ`` or a root-only file into a diff or a page, and make ``make update``
write through it (a ``.pth`` in the venv runs at the next start); a FIFO blocks a reader
forever; a hard link can name a root-only file; a 20 GB file takes minutes to hash; a name
that is not UTF-8 cannot be reported; a folder named ``x.py`` is no snippet.  So ``unsafe``
lists every such entry, and a
project with any is refused as a whole, each named (``Project.load``); ``read`` and ``write``
open without following a link, accept only a regular file, and read at most a bound.
"""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from pathlib import Path

CONTRIBUTED = ("snippets", "labs", "docs")  # folders whose every file is untrusted input
READ_AT_ONCE = ("pyproject.toml",)  # files at the root the gate reads (the site adds its own)
TARGET_SUFFIXES = (".py", ".out", ".md", ".ipynb")  # a folder with one of these names is a mistake
MAX_BYTES = 64 << 20  # a project file larger is refused before anything hashes it


class UnsafeFile(OSError):
    """A project file the gate will not read or write, with a message naming it."""


def unsafe(root: Path, read_at_once: tuple[str, ...] = READ_AT_ONCE) -> list[str]:
    """Every entry of the contributed folders (and the root files read) that is not a
    regular file or a plain folder, in words naming it; [] if there is none."""
    found = []
    for name in read_at_once:
        found += problem(root, root / name, missing_ok=True)
    for folder in CONTRIBUTED:
        top = root / folder
        found += problem(root, top, missing_ok=True, folder=True)
        if top.is_dir() and not top.is_symlink():
            for current, folders, names in os.walk(top):  # os.walk does not follow links to folders
                here = Path(current)
                found += [said for name in folders for said in problem(root, here / name, folder=True)]
                found += [said for name in names for said in problem(root, here / name)]
    return found


def tracked(root: Path, cache: Path) -> list[str]:
    """Files under ``cache`` that the project's git repository holds: a checkout that ships
    cached passes or rendered pages would have them trusted as made here ([] without git)."""
    if root not in cache.parents:
        return []
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--", str(cache.relative_to(root))],
                                capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return listed.stdout.decode("utf-8", "replace").split("\0")[:-1] if listed.returncode == 0 else []


def problem(root: Path, path: Path, missing_ok: bool = False, folder: bool = False) -> list[str]:
    """What is wrong with one entry ([] if nothing), said from the project root."""
    rel = path.relative_to(root).as_posix()
    if not utf8(rel):
        return [f"{rel.encode('utf-8', 'surrogateescape')!r}: its name is not UTF-8; rename it"]
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return [] if missing_ok else [f"{rel}: went away while it was read"]
    if stat.S_ISLNK(mode):
        return [f"{rel}: is a symbolic link (to {os.readlink(path)!r}); the project takes regular files only: "
                "commit the file itself"]
    if stat.S_ISDIR(mode) and folder:
        if path.suffix in TARGET_SUFFIXES:
            return [f"{rel}: is a folder, but its name is a file's ({path.suffix}); rename it"]
        return []
    if not stat.S_ISREG(mode):
        return [f"{rel}: is not a regular file ({kind(mode)}); the project takes regular files only"]
    return regular_problem(rel, os.lstat(path)) or text_problem(rel, path)


def text_problem(rel: str, path: Path) -> list[str]:
    """A page (``.md``) must be UTF-8: the gate and the site read every one as text."""
    if path.suffix != ".md":
        return []
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        return [f"{rel}: is not UTF-8 (at byte {err.start}); save it as UTF-8"]
    return []


def regular_problem(rel: str, info: os.stat_result) -> list[str]:
    """What is wrong with a regular file: another name for a file elsewhere (a hard link:
    the gate, as root, would read a root-only file into a diff), or more than ``MAX_BYTES``."""
    if info.st_nlink > 1:
        return [f"{rel}: is a hard link ({info.st_nlink} names for one file); the project takes files of its own"]
    if info.st_size > MAX_BYTES:
        return [f"{rel}: is {info.st_size >> 20} MB, more than the {MAX_BYTES >> 20} MB a project file may be"]
    return []


def utf8(name: str) -> bool:
    """Whether a name read from the file system is UTF-8 (else Python holds it with surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a file"


def read(path: Path, limit: int, rel: str) -> bytes:
    """A regular file's bytes, opened without following a link or blocking; ``UnsafeFile``
    (naming ``rel``) if it is anything else or larger than ``limit`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        if os.path.islink(path):
            raise UnsafeFile(f"{rel}: is a symbolic link; the project takes regular files only") from None
        raise
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(f"{rel}: is not a regular file ({kind(info.st_mode)})")
        if info.st_nlink > 1:
            raise UnsafeFile(regular_problem(rel, info)[0])
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise UnsafeFile(f"{rel}: is larger than {limit} bytes, more than any output may be")
    return data


def write(path: Path, data: bytes, rel: str) -> None:
    """Replace ``path`` with ``data``: written beside it, then renamed over it, so a link in
    its place is replaced, never followed; ``UnsafeFile`` if something other than a regular
    file is there."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        raise UnsafeFile(f"{rel}: is not a regular file ({'a symbolic link' if stat.S_ISLNK(mode) else kind(mode)}); "
                         "not written")
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
