from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from parley.ingest.base import Problem
from parley.ingest.sources import Source
from parley.ingest.tic import MarketOptions, read_market, sniff_market

TIC = Path(__file__).parents[2] / "data" / "tic"


def read_all(path: Path, **options: Any) -> tuple[pl.DataFrame, list[Problem], str | None]:
    """Read one file inline (no pool): all rows and problems."""
    source = Source(path)
    fmt = sniff_market(source.head(), source.suffix)
    frames: list[pl.DataFrame] = []
    problems: list[Problem] = []
    if fmt is None:
        return pl.DataFrame(), problems, None
    opts = MarketOptions(**{"workers": 1, **options})
    for chunk in read_market(source, fmt, file_id="test", options=opts):
        frames += list(chunk.tables.values())
        problems += chunk.problems
    return (pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()), problems, fmt


@pytest.fixture
def tic_dir() -> Path:
    return TIC


def examples(prefix: str) -> Iterator[Path]:
    return iter(sorted(TIC.glob(prefix)))
