"""Fixtures for the tabular reader: the example mappings and a collect-all helper."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from parley.ingest.base import ParsedChunk, PatientHasher, Problem
from parley.ingest.tabular import Mapping, load_mapping, read_tabular

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "mappings"
SECRET = b"tabular-test-secret-0123456789"


@dataclass
class Result:
    """Every chunk of one file, tables concatenated."""

    chunks: list[ParsedChunk]
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def table(self, name: str) -> pl.DataFrame:
        return self.tables.get(name, pl.DataFrame())

    def codes(self, severity: str | None = None) -> list[str]:
        return [p.code for p in self.problems if severity is None or p.severity == severity]


def collect(chunks: list[ParsedChunk]) -> Result:
    result = Result(chunks)
    parts: dict[str, list[pl.DataFrame]] = {}
    for chunk in chunks:
        result.problems += chunk.problems
        for name, frame in chunk.tables.items():
            parts.setdefault(name, []).append(frame)
    result.tables = {name: pl.concat(frames) for name, frames in parts.items()}
    return result


@pytest.fixture
def hasher() -> PatientHasher:
    return PatientHasher(SECRET)


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


@pytest.fixture
def ingest(hasher: PatientHasher) -> Callable[..., Result]:
    def run(path: Path, mapping: Mapping | Path | str, **kwargs: Any) -> Result:
        if not isinstance(mapping, Mapping):
            mapping = load_mapping(Path(mapping))
        chunks = list(
            read_tabular(Path(path), mapping, file_id="0123456789abcdef", hasher=hasher, **kwargs)
        )
        return collect(chunks)

    return run


@pytest.fixture
def write_mapping(tmp_path: Path) -> Callable[[str], Mapping]:
    """Write YAML text to a file and load it."""

    def make(text: str, name: str = "mapping.yaml") -> Mapping:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return load_mapping(path)

    return make
