"""Hospital standard charges -> ``market_rates`` rows (shared by the CSV and JSON readers).

A standard-charge record (one item x setting x payer/plan) becomes one row
per code it lists (``code|1``, ``code|2``...), so the CPT code of an item coded
``RC 611`` + ``CPT 70551`` is found by a CPT benchmark.  ``rate`` is the
negotiated dollar amount, else the negotiated percentage (``negotiated_type``
= percentage), else null with ``negotiated_type`` = algorithm (the algorithm
text goes to ``additional_information``).  Items with no payer-specific
charge give one row without a payer carrying the gross and cash prices.
A hospital listing several type-2 NPIs gets them all in ``provider_npi``
(comma separated): a hospital is one provider.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa

from parley.store.tables import schema as table_schema

_NUMBER = re.compile(r"[^0-9.\-]")
MONEY_FIELDS = (
    "rate",
    "billed_charge",
    "discounted_cash",
    "minimum",
    "maximum",
    "median_amount",
    "p10_amount",
    "p90_amount",
    "estimated_amount",
)


def money(value: Any) -> Decimal | None:
    """'$1,234.50' / 1234.5 / ' 80% ' -> Decimal('1234.50'); blanks and junk -> None."""
    if value is None:
        return None
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        text = str(value)
    else:
        text = _NUMBER.sub("", str(value))
    if not text or text in ("-", "."):
        return None
    try:
        amount = Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
    return amount if abs(amount) < Decimal("1e12") else None


def parse_date(value: Any) -> date | None:
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d"):
        try:
            return datetime.strptime(text[:10] if fmt == "%Y-%m-%d" else text, fmt).date()
        except ValueError:
            continue
    return None


def blank(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def rows_of(record: dict[str, Any], codes_filter: frozenset[str] | None) -> list[dict[str, Any]]:
    """One standard-charge record -> rows, one per (basket) code."""
    dollar = money(record.get("dollar"))
    percent = money(record.get("percentage"))
    algorithm = blank(record.get("algorithm"))
    payer = blank(record.get("payer_name"))
    if dollar is not None:
        kind, rate = "negotiated", dollar
    elif percent is not None:
        kind, rate = "percentage", percent
    elif algorithm is not None:
        kind, rate = "algorithm", None
    else:
        kind, rate = None, None
    notes = (
        "; ".join(
            x for x in (algorithm if kind == "algorithm" else None, blank(record.get("notes"))) if x
        )
        or None
    )
    base = {
        "payer_name": payer,
        "plan_name": blank(record.get("plan_name")),
        "negotiated_type": kind,
        "rate": rate,
        "setting": blank(record.get("setting")),
        "modifiers": blank(record.get("modifiers")),
        "billed_charge": money(record.get("gross")),
        "discounted_cash": money(record.get("cash")),
        "minimum": money(record.get("min")),
        "maximum": money(record.get("max")),
        "median_amount": money(record.get("median")),
        "p10_amount": money(record.get("p10")),
        "p90_amount": money(record.get("p90")),
        "claims_count": blank(record.get("count")),
        "estimated_amount": money(record.get("estimated")),
        "methodology": blank(record.get("methodology")),
        "additional_information": notes,
    }
    out = []
    for code, ctype in record.get("codes") or []:
        code = blank(code)
        if code is None or (codes_filter is not None and code.upper() not in codes_filter):
            continue
        out.append({**base, "billing_code": code, "billing_code_type": blank(ctype)})
    return out


def to_table(rows: Iterable[dict[str, Any]], header: dict[str, Any], seq0: int) -> pa.Table:
    """Rows + the file's header -> a market_rates table (file_id is added at commit)."""
    npis = header.get("type_2_npi")
    if isinstance(npis, str):
        npis = [n.strip() for n in re.split(r"[|,;]", npis) if n.strip()]
    consts = {
        "source": "hpt",
        "schema_version": blank(header.get("version")),
        "last_updated_on": parse_date(header.get("last_updated_on")),
        "hospital_name": blank(header.get("hospital_name")),
        "provider_npi": ",".join(str(n) for n in npis) if npis else None,
    }
    full = [{**r, **consts, "rate_seq": seq0 + i} for i, r in enumerate(rows)]
    schema = pa.schema([f for f in table_schema("market_rates") if f.name != "file_id"])
    return pa.Table.from_pylist(full, schema=schema)
