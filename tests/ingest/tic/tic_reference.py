"""A plain-Python reference flattener of TiC JSON (json.load + loops), for golden tests.

It states what "the rates a file contains" means, independently of the
vectorised reader: one row per negotiated price x provider (NPI, TIN).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

CENT = Decimal("0.01")


def _tin(tin: dict[str, Any]) -> tuple[str, str]:
    return re.sub(r"\D", "", str(tin.get("value"))), tin.get("type")


def _providers(groups: list[dict[str, Any]]) -> list[tuple[str | None, str, str]]:
    out = []
    for g in groups:
        tin, kind = _tin(g.get("tin") or {})
        npis = g.get("npi") or [None]
        out += [(str(n) if n is not None else None, tin, kind) for n in npis]
    return out


def _join(values: list[str] | None) -> str | None:
    return ",".join(values) if values else None


def in_network_rows(doc: dict[str, Any], codes: set[str] | None = None) -> Counter[tuple[Any, ...]]:
    refs: dict[float, list[tuple[str | None, str, str]]] = {}
    for pr in doc.get("provider_references") or []:
        refs[float(pr["provider_group_id"])] = _providers(pr.get("provider_groups") or [])
    rows: Counter[tuple[Any, ...]] = Counter()
    for item in doc.get("in_network") or []:
        if codes is not None and item["billing_code"] not in codes:
            continue
        for rate in item.get("negotiated_rates") or []:
            provs = [
                p for r in rate.get("provider_references") or [] for p in refs.get(float(r), [])
            ]
            provs += _providers(rate.get("provider_groups") or [])
            for price in rate.get("negotiated_prices") or []:
                for npi, tin, kind in provs:
                    rows[
                        (
                            item["billing_code_type"],
                            item["billing_code"],
                            price["negotiated_type"],
                            Decimal(str(price["negotiated_rate"])).quantize(CENT),
                            price.get("billing_class"),
                            price.get("setting"),
                            _join(price.get("billing_code_modifier")),
                            _join(price.get("service_code")),
                            price.get("expiration_date"),
                            npi,
                            tin,
                            kind,
                        )
                    ] += 1
    return rows


def allowed_rows(doc: dict[str, Any]) -> Counter[tuple[Any, ...]]:
    rows: Counter[tuple[Any, ...]] = Counter()
    for item in doc.get("out_of_network") or []:
        for aa in item.get("allowed_amounts") or []:
            tin, kind = _tin(aa.get("tin") or {})
            for pay in aa.get("payments") or []:
                for prov in pay.get("providers") or []:
                    for npi in prov.get("npi") or [None]:
                        rows[
                            (
                                item["billing_code"],
                                Decimal(str(pay["allowed_amount"])).quantize(CENT),
                                Decimal(str(prov["billed_charge"])).quantize(CENT),
                                aa.get("billing_class"),
                                aa.get("setting"),
                                _join(pay.get("billing_code_modifier")),
                                _join(aa.get("service_code")),
                                str(npi) if npi is not None else None,
                                tin,
                                kind,
                            )
                        ] += 1
    return rows


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def reader_in_network_rows(frame: Any) -> Counter[tuple[Any, ...]]:
    rows: Counter[tuple[Any, ...]] = Counter()
    for r in frame.to_dicts():
        exp = r["expiration_date"].isoformat() if r["expiration_date"] else None
        rows[
            (
                r["billing_code_type"],
                r["billing_code"],
                r["negotiated_type"],
                r["rate"],
                r["billing_class"],
                r["setting"],
                r["modifiers"],
                r["service_codes"],
                exp,
                r["provider_npi"],
                r["provider_tin"],
                r["tin_type"],
            )
        ] += 1
    return rows


def reader_allowed_rows(frame: Any) -> Counter[tuple[Any, ...]]:
    rows: Counter[tuple[Any, ...]] = Counter()
    for r in frame.to_dicts():
        rows[
            (
                r["billing_code"],
                r["rate"],
                r["billed_charge"],
                r["billing_class"],
                r["setting"],
                r["modifiers"],
                r["service_codes"],
                r["provider_npi"],
                r["provider_tin"],
                r["tin_type"],
            )
        ] += 1
    return rows
