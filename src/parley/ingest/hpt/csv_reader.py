"""CMS hospital standard-charge CSV, tall and wide, template 2.x and 3.0.

Layout: an optional preamble, a row of general-data names (``hospital_name``,
``last_updated_on``, ``version``, ``type_2_npi``...), their values, then the
charge header (``description``, ``code|1``, ``code|1|type``...) and the rows.
Real files vary: spaces around ``|``, ``$1,234`` amounts, a BOM, extra
preamble rows, several NPIs in one cell.  Header names are matched with the
pipes' spaces removed and case folded (payer and plan names keep their case).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import polars as pl

from parley.ingest.base import ParsedChunk, Problem
from parley.ingest.hpt.common import rows_of, to_table

ROWS_PER_CHUNK = 20_000
REQUIRED = ("description", "code|1", "code|1|type", "setting")
_PIPE = re.compile(r"\s*\|\s*")
TALL_FIELDS = {
    "payer_name": "payer_name",
    "plan_name": "plan_name",
    "standard_charge|negotiated_dollar": "dollar",
    "standard_charge|negotiated_percentage": "percentage",
    "standard_charge|negotiated_algorithm": "algorithm",
    "estimated_amount": "estimated",
    "median_amount": "median",
    "10th_percentile": "p10",
    "90th_percentile": "p90",
    "count": "count",
    "standard_charge|methodology": "methodology",
    "additional_generic_notes": "notes",
}
ITEM_FIELDS = {
    "setting": "setting",
    "modifiers": "modifiers",
    "standard_charge|gross": "gross",
    "standard_charge|discounted_cash": "cash",
    "standard_charge|min": "min",
    "standard_charge|max": "max",
}
WIDE_SUFFIX = {
    "negotiated_dollar": "dollar",
    "negotiated_percentage": "percentage",
    "negotiated_algorithm": "algorithm",
    "methodology": "methodology",
}
WIDE_PREFIX = {
    "estimated_amount": "estimated",
    "median_amount": "median",
    "10th_percentile": "p10",
    "90th_percentile": "p90",
    "count": "count",
    "additional_payer_notes": "notes",
}


def norm(name: str) -> str:
    return _PIPE.sub("|", name.strip().lstrip("\ufeff")).lower()


def looks_like_hpt_csv(head: bytes) -> bool:
    text = head.decode("utf-8", "replace").lower()
    return "hospital_name" in text or ("description" in text and "standard_charge" in text)


class HptCsvError(ValueError):
    def __init__(self, code: str, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.row = row


def read_hpt_csv(
    source: Any, *, extra_problems: list[Problem], options: Any
) -> Iterator[ParsedChunk]:
    problems = list(extra_problems)
    codes = getattr(options, "codes", None)
    tables = []
    try:
        with source.open() as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
            reader = csv.reader(text)
            header, columns, row_no = _preamble(reader)
            plan = _plan(columns, row_no)
            seq = 0
            batch: list[dict[str, Any]] = []
            for line in reader:
                row_no += 1
                if not any(c.strip() for c in line):
                    continue
                for record in _records(line, plan):
                    batch.extend(rows_of(record, codes))
                if len(batch) >= ROWS_PER_CHUNK:
                    tables.append(to_table(batch, header, seq))
                    seq += len(batch)
                    batch = []
            if batch:
                tables.append(to_table(batch, header, seq))
    except HptCsvError as exc:
        problems.append(Problem("error", exc.code, str(exc), row=exc.row, quarantined=True))
        tables = []
    except (csv.Error, UnicodeError, OSError, EOFError) as exc:
        problems.append(
            Problem("error", "hpt.unreadable", f"the CSV cannot be read ({exc})", quarantined=True)
        )
        tables = []
    for t in tables:
        frame = pl.from_arrow(t)
        assert isinstance(frame, pl.DataFrame)
        yield ParsedChunk(tables={"market_rates": frame})
    yield ParsedChunk(problems=problems)


def _preamble(reader: Any) -> tuple[dict[str, Any], list[str], int]:
    """General data (name -> value) and the charge header row, with its 1-based row number."""
    header: dict[str, Any] = {}
    names: list[str] | None = None
    for row_no, line in enumerate(reader, start=1):
        cells = [norm(c) for c in line]
        if "description" in cells and any(c.startswith("code|") for c in cells):
            return header, line, row_no
        if "hospital_name" in cells:
            names = cells
            continue
        if names is not None and not header:
            for name, value in zip(names, line, strict=False):
                key = name.split("|", 1)[0]
                if key and key not in header:
                    header[key] = value.strip()
        if row_no > 50:
            break
    raise HptCsvError(
        "hpt.missing_columns",
        "no charge header row (description, code|1, code|1|type, setting) "
        "in the first 50 rows - is this a CMS template CSV?",
        1,
    )


def _plan(columns: list[str], row_no: int) -> dict[str, Any]:
    cells = [norm(c) for c in columns]
    missing = [r for r in REQUIRED if r not in cells]
    if missing:
        raise HptCsvError(
            "hpt.missing_columns",
            f"row {row_no}: required column(s) {', '.join(missing)} missing from the charge header - "
            "the file does not follow the CMS template; fix the header or ask the hospital for a conforming file",
            row_no,
        )
    index = {c: i for i, c in enumerate(cells) if c}
    codes = []
    n = 1
    while f"code|{n}" in index:
        codes.append((index[f"code|{n}"], index.get(f"code|{n}|type")))
        n += 1
    item = {f: index[c] for c, f in ITEM_FIELDS.items() if c in index}
    tall = {f: index[c] for c, f in TALL_FIELDS.items() if c in index}
    wide: dict[tuple[str, str], dict[str, int]] = {}
    for i, raw in enumerate(columns):
        parts = _PIPE.split(raw.strip())
        if (
            len(parts) == 4
            and parts[0].lower() == "standard_charge"
            and parts[3].lower() in WIDE_SUFFIX
        ):
            wide.setdefault((parts[1], parts[2]), {})[WIDE_SUFFIX[parts[3].lower()]] = i
        elif len(parts) == 3 and parts[0].lower() in WIDE_PREFIX:
            wide.setdefault((parts[1], parts[2]), {})[WIDE_PREFIX[parts[0].lower()]] = i
    if "additional_generic_notes" in index:
        item["generic_notes"] = index["additional_generic_notes"]
    return {
        "codes": codes,
        "item": item,
        "tall": tall if "payer_name" in tall else None,
        "wide": wide,
    }


def _cell(line: list[str], i: int | None) -> str | None:
    if i is None or i >= len(line):
        return None
    value = line[i].strip()
    return value or None


def _records(line: list[str], plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    codes = [(_cell(line, c), _cell(line, t)) for c, t in plan["codes"]]
    base: dict[str, Any] = {f: _cell(line, i) for f, i in plan["item"].items()}
    base["codes"] = [(c, t) for c, t in codes if c]
    if plan["tall"] is not None:
        yield {**base, **{f: _cell(line, i) for f, i in plan["tall"].items()}}
        return
    any_payer = False
    for (payer, plan_name), fields in plan["wide"].items():
        values = {f: _cell(line, i) for f, i in fields.items()}
        if not any(
            values.get(k) for k in ("dollar", "percentage", "algorithm", "median", "estimated")
        ):
            continue
        any_payer = True
        notes = (
            "; ".join(x for x in (values.pop("notes", None), base.get("generic_notes")) if x)
            or None
        )
        yield {
            **base,
            **values,
            "payer_name": payer.replace("_", " "),
            "plan_name": plan_name.replace("_", " "),
            "notes": notes,
        }
    if not any_payer:
        yield {**base, "notes": base.get("generic_notes")}
