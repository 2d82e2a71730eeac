"""Hospital price transparency (CMS template CSV tall / wide and JSON, v2.x and v3.0)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from parley.ingest.base import ParsedChunk, Problem


def read_hpt(
    source: Any, detected_format: str, *, options: Any, extra_problems: list[Problem]
) -> Iterator[ParsedChunk]:
    if detected_format == "hpt-json":
        from parley.ingest.hpt.json_reader import read_hpt_json

        yield from read_hpt_json(source, extra_problems=extra_problems, options=options)
    else:
        from parley.ingest.hpt.csv_reader import read_hpt_csv

        yield from read_hpt_csv(source, extra_problems=extra_problems, options=options)
