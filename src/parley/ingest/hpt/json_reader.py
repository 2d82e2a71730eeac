"""CMS hospital standard-charge JSON, schema 2.x and 3.0, streamed item by item.

``standard_charge_information`` items are cut out with the same structural
index as TiC files (memory flat whatever the size) and parsed one by one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import polars as pl

from parley.ingest.base import ParsedChunk, Problem
from parley.ingest.hpt.common import rows_of, to_table
from parley.ingest.tic.reader import TicError, iter_items

KNOWN_MAJOR = ("2", "3")


def records_of(item: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One standard_charge_information item -> standard-charge records (see common.rows_of)."""
    codes = [
        (c.get("code"), c.get("type"))
        for c in item.get("code_information") or []
        if isinstance(c, dict)
    ]
    for charge in item.get("standard_charges") or []:
        base = {
            "codes": codes,
            "setting": charge.get("setting"),
            "modifiers": _modifiers(charge.get("modifier_code")),
            "gross": charge.get("gross_charge"),
            "cash": charge.get("discounted_cash"),
            "min": charge.get("minimum"),
            "max": charge.get("maximum"),
            "notes": charge.get("additional_generic_notes"),
        }
        payers = charge.get("payers_information") or []
        if not payers:
            yield base
        for p in payers:
            yield {
                **base,
                "payer_name": p.get("payer_name"),
                "plan_name": p.get("plan_name"),
                "dollar": p.get("standard_charge_dollar"),
                "percentage": p.get("standard_charge_percentage"),
                "algorithm": p.get("standard_charge_algorithm"),
                "estimated": p.get("estimated_amount"),
                "median": p.get("median_amount"),
                "p10": p.get("10th_percentile"),
                "p90": p.get("90th_percentile"),
                "count": p.get("count"),
                "methodology": p.get("methodology"),
                "notes": p.get("additional_payer_notes") or base.get("notes"),
            }


def _modifiers(value: Any) -> str | None:
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or None
    return str(value) if value else None


def read_hpt_json(
    source: Any, *, extra_problems: list[Problem], options: Any
) -> Iterator[ParsedChunk]:
    problems = list(extra_problems)
    codes = getattr(options, "codes", None)
    rows: list[dict[str, Any]] = []
    header: dict[str, Any] = {}
    try:
        with source.open() as stream:
            for key, raw, offset in iter_items(stream, ("standard_charge_information",)):
                if key == "":
                    header = json.loads(raw)
                    continue
                try:
                    item = json.loads(raw)
                except ValueError as exc:
                    problems.append(
                        Problem(
                            "error",
                            "hpt.bad_item",
                            f"byte {offset}: an item is not JSON ({exc})",
                            element=f"byte {offset}",
                            quarantined=True,
                        )
                    )
                    continue
                for record in records_of(item):
                    rows.extend(rows_of(record, codes))
        version = str(header.get("version") or "")
        if version and version.split(".")[0] not in KNOWN_MAJOR:
            raise TicError(
                "hpt.unknown_version", f"hospital schema version {version!r} is not 2.x or 3.0", 0
            )
    except TicError as exc:
        where = f"byte {exc.offset}" if exc.offset is not None else None
        problems.append(
            Problem(
                "error",
                exc.code,
                f"{where}: {exc}" if where else str(exc),
                element=where,
                quarantined=True,
            )
        )
        rows = []
    if rows:
        frame = pl.from_arrow(to_table(rows, header, 0))
        assert isinstance(frame, pl.DataFrame)
        yield ParsedChunk(tables={"market_rates": frame})
    yield ParsedChunk(problems=problems)
