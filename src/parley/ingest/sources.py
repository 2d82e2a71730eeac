"""Finding and opening input files: paths, folders, globs, .gz and .zip members.

A :class:`Source` is something that can be opened as a binary stream more than
once (hashing is a first pass, parsing a second).  Compressed sources are
decompressed on the fly; a .zip yields one source per member.  A UTF-16 file
(Excel's "Unicode text", some Windows EDI tools) is read as UTF-8: every reader
sees the same bytes whatever the file's encoding.
"""

from __future__ import annotations

import functools
import glob
import gzip
import hashlib
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from parley.errors import InputError

HEAD_BYTES = 8192
#: skipped when walking folders and zips: hidden files and folders (".git", ".DS_Store"),
#: the resource forks macOS adds to zips, Office lock files ("~$claims.xlsx") and Python
#: caches.  A name that merely starts with "_" ("_835_batch.txt") is data and is read
_HIDDEN = (".", "~$")
_SKIPPED_DIRS = frozenset({"__MACOSX", "__pycache__"})


def _hidden(parts: Iterable[str]) -> bool:
    return any(part.startswith(_HIDDEN) or part in _SKIPPED_DIRS for part in parts)


@dataclass(frozen=True)
class Source:
    """One input: a plain file, a gzip file, or a member of a zip archive."""

    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    @property
    def suffix(self) -> str:
        name = self.member or self.path.name
        name = name[:-3] if name.lower().endswith(".gz") else name
        return Path(name).suffix.lower()

    @property
    def is_gzip(self) -> bool:
        return (self.member or self.path.name).lower().endswith(".gz")

    def open(self) -> BinaryIO:
        """The source's bytes (decompressed; UTF-16 text as UTF-8)."""
        raw = self._open_raw()
        encoding = _utf16(_peek(raw))
        if encoding is None:
            return raw
        return io.BufferedReader(_Utf8Of(raw, encoding), 1 << 20)  # type: ignore[return-value]

    def _open_raw(self) -> BinaryIO:
        if self.member is not None:
            archive = zipfile.ZipFile(self.path)
            raw: BinaryIO = archive.open(self.member)  # type: ignore[assignment]
        else:
            raw = open(self.path, "rb")  # noqa: SIM115 - caller closes
        if self.is_gzip:
            return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
        return raw

    @functools.cached_property
    def _is_utf16(self) -> bool:
        with self._open_raw() as raw:
            return _utf16(_peek(raw)) is not None

    def local_path(self) -> Path | None:
        """The plain file on disk, when there is one (readers may then open it by path)."""
        plain = self.member is None and not self.is_gzip and not self._is_utf16
        return self.path if plain else None

    def head(self, size: int = HEAD_BYTES) -> bytes:
        with self.open() as stream:
            return stream.read(size)

    def digest(self, block: int = 8 << 20) -> tuple[str, int]:
        """SHA-256 of the (decompressed) bytes, and their count."""
        sha = hashlib.sha256()
        total = 0
        with self.open() as stream:
            while chunk := stream.read(block):
                sha.update(chunk)
                total += len(chunk)
        return sha.hexdigest(), total


def _peek(raw: BinaryIO) -> bytes:
    """The first bytes of a stream, left unread (files, gzip and zip members can peek)."""
    peek = getattr(raw, "peek", None)
    return peek(64)[:64] if callable(peek) else b""


def _utf16(head: bytes) -> str | None:
    """'utf-16' (a byte-order mark), 'utf-16-le' / 'utf-16-be' (ASCII text with a NUL
    before or after every character), or None."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    even, odd = head[0:32:2], head[1:32:2]
    if len(head) < 8 or len(even) != len(odd):
        return None
    if not any(odd) and all(even):
        return "utf-16-le"
    if not any(even) and all(odd):
        return "utf-16-be"
    return None


class _Utf8Of(io.RawIOBase):
    """A UTF-16 byte stream read as UTF-8 bytes (line ends and every character kept)."""

    def __init__(self, raw: BinaryIO, encoding: str) -> None:
        self._text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        want = len(buffer)
        while len(self._pending) < want:
            text = self._text.read(max(want // 2, 1 << 16))
            if not text:
                break
            self._pending += text.encode("utf-8")
        out, self._pending = self._pending[:want], self._pending[want:]
        buffer[: len(out)] = out
        return len(out)

    def close(self) -> None:
        if not self.closed:
            self._text.close()
        super().close()


def _expand_one(text: str) -> list[Path]:
    path = Path(text).expanduser()
    if any(ch in text for ch in "*?["):
        matches = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
        if not matches:
            raise InputError(f"{text}: no file matches this pattern", hint="check the pattern and quote it")
        return [p for m in matches for p in (_walk(m) if m.is_dir() else [m])]
    if path.is_dir():
        return _walk(path)
    if not path.exists():
        raise InputError(f"{text}: no such file or folder", hint="check the path")
    return [path]


def _walk(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not _hidden(p.relative_to(folder).parts)
    )


def expand(paths: Iterable[str | Path]) -> list[Source]:
    """Every input named by files, folders (recursively) and globs; zips become members."""
    out: list[Source] = []
    seen: set[str] = set()
    for text in paths:
        for path in _expand_one(str(text)):
            for source in _sources_of(path):
                if source.name not in seen:
                    seen.add(source.name)
                    out.append(source)
    return out


def _sources_of(path: Path) -> Iterator[Source]:
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                members = [i.filename for i in archive.infolist() if not i.is_dir()]
        except zipfile.BadZipFile:
            yield Source(path)  # reported as unreadable by the service
            return
        for member in members:
            if not _hidden(Path(member).parts):
                yield Source(path, member)
        return
    yield Source(path)
