"""Helpers for the X12 reader tests: run a reader over bytes, gather the chunks."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from parley.ingest.base import PatientHasher, Problem
from parley.ingest.x12 import read_835, read_837, sniff_x12

DATA = Path(__file__).resolve().parents[2] / "data" / "x12"


@dataclass
class Parsed:
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    chunks: int = 0
    bytes_done: list[int] = field(default_factory=list)

    def table(self, name: str) -> pl.DataFrame:
        return self.tables.get(name, pl.DataFrame())

    def codes(self) -> list[str]:
        return [p.code for p in self.problems]


HASHER = PatientHasher(b"test-secret-0123456789")


def parse(data: bytes, kind: str | None = None, chunk_bytes: int = 32 << 20) -> Parsed:
    kind = kind or sniff_x12(data[:4096]) or "x12-835"
    reader = read_835 if kind == "x12-835" else read_837
    out = Parsed()
    pieces: dict[str, list[pl.DataFrame]] = {}
    for chunk in reader(io.BytesIO(data), file_id="f" * 16, hasher=HASHER, chunk_bytes=chunk_bytes):
        out.chunks += 1
        out.problems.extend(chunk.problems)
        out.bytes_done.append(chunk.bytes_done)
        for name, frame in chunk.tables.items():
            pieces.setdefault(name, []).append(frame)
    out.tables = {k: pl.concat(v, how="vertical_relaxed") for k, v in pieces.items()}
    return out


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def assert_canonical(result: Parsed) -> None:
    """Every frame is a column subset of its canonical table, with castable types."""
    import pyarrow as pa

    from parley.store.tables import schema

    for name, frame in result.tables.items():
        target = schema(name)
        fields = [target.field(c) for c in frame.columns]
        frame.to_arrow().cast(pa.schema(fields))


def serialize(
    segments: list[list[str]], element: str, component: str, terminator: str, repetition: str = "^"
) -> bytes:
    """Write segments (lists of elements, components joined by ':') with other delimiters."""
    out = []
    for seg in segments:
        els = list(seg)
        if els[0] == "ISA":
            els[11] = repetition if els[12].startswith("005") else els[11]
            els[16] = component
            out.append(element.join(els))
        else:
            out.append(element.join(e.replace(":", component) for e in els))
    return (terminator.join(out) + terminator).encode()


def segments_of(data: bytes) -> list[list[str]]:
    text = data.decode().replace("\n", "").replace("\r", "")
    return [s.split("*") for s in text.split("~") if s.strip()]
