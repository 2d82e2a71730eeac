"""Compile contracts into a rate table: one row per (payer, filing indicator, code, pricing
modifier, place of service, contract period).

Rates come from :func:`parley.domain.pricing.resolve_rate` (the scalar rules), so the
engine's unit rates are the scalar reference's by construction; the engine adds only
the line arithmetic (units, reductions, lesser-of), in integer cents.

Money is integer cents; percentages are integer thousandths of a percent
(``pct_milli``: 125% -> 125000), so every multiplication is exact and the one
rounding (half up) happens where the scalar reference rounds.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

import pyarrow as pa

from parley.domain.contracts import Contract, Segment
from parley.domain.pricing import Rate, ReferenceContext, resolve_rate

Key = tuple[str, str, str, str, str]  # payer_id, filing_indicator, code, pricing modifier, pos

RATE_SCHEMA = pa.schema(
    [
        ("payer_id", pa.string()),
        ("filing_indicator", pa.string()),
        ("code", pa.string()),
        ("pmod", pa.string()),
        ("pos", pa.string()),
        ("seg_start", pa.date32()),
        ("seg_end", pa.date32()),
        ("contract_id", pa.string()),
        ("product_line", pa.string()),
        ("segment", pa.string()),
        ("kind", pa.string()),
        ("term", pa.string()),
        ("method", pa.string()),
        ("unit_cents", pa.int64()),
        ("pct_milli", pa.int64()),
        ("reductions", pa.bool_()),
        ("mppr", pa.bool_()),
        ("mppr_schedule", pa.list_(pa.int64())),
        ("bilateral_milli", pa.int64()),
        ("assistant_milli", pa.int64()),
        ("npp_milli", pa.int64()),
        ("npp_npis", pa.list_(pa.string())),
        ("lesser_of", pa.bool_()),
        ("reason", pa.string()),
    ]
)


def to_cents(d: Decimal | None) -> int | None:
    return None if d is None else int(d * 100)


def to_milli(pct: Decimal | None) -> int | None:
    """Percent -> thousandths of a percent; refuses more than three decimals (not exact)."""
    if pct is None:
        return None
    m = pct * 1000
    if m != m.to_integral_value():
        raise ValueError(f"percentage {pct} has more than three decimals")
    return int(m)


def candidates(contracts: list[Contract], payer_id: str, filing: str) -> list[Contract]:
    """Contracts that can cover claims of this payer id and filing indicator."""
    out = []
    for c in contracts:
        if payer_id in c.payer.payer_ids and (not c.claim_filing_indicators or filing in c.claim_filing_indicators):
            out.append(c)
    return out


def _row(key: Key, seg: Segment, rate: Rate) -> dict[str, object]:
    prof = seg.terms.professional
    adj = prof.adjustments if prof else None
    mp = adj.multiple_procedure if adj else None
    payer_id, filing, code, pmod, pos = key
    return {
        "payer_id": payer_id, "filing_indicator": filing, "code": code, "pmod": pmod, "pos": pos,
        "seg_start": seg.start, "seg_end": seg.end, "contract_id": seg.contract.contract_id,
        "product_line": ", ".join(seg.contract.product_lines),
        "segment": f"{seg.contract.contract_id}#{seg.index} {seg.start}..{seg.end}",
        "kind": rate.kind, "term": rate.term, "method": rate.method,
        "unit_cents": to_cents(rate.unit_amount), "pct_milli": to_milli(rate.percent),
        "reductions": rate.reductions, "mppr": rate.mppr and rate.reductions and rate.kind == "unit",
        "mppr_schedule": [to_milli(x) for x in mp.schedule] if mp else None,
        "bilateral_milli": to_milli(adj.bilateral_percent) if adj else None,
        "assistant_milli": to_milli(adj.assistant_at_surgery_percent) if adj else None,
        "npp_milli": to_milli(adj.npp_percent) if adj else None,
        "npp_npis": list(adj.npp_npis) if adj else [],
        "lesser_of": bool(prof and prof.lesser_of_billed),
        "reason": rate.reason,
    }


def compile_rates(
    contracts: list[Contract], keys: Iterable[Key], ctx: ReferenceContext, *, until: dt.date
) -> pa.Table:
    """The rate table for the keys present in the data, for every period up to ``until``."""
    by_payer: dict[tuple[str, str], list[Key]] = defaultdict(list)
    for k in keys:
        by_payer[(k[0], k[1])].append(k)
    seg_cache: dict[str, list[Segment]] = {}
    rate_cache: dict[tuple[str, int, str, str, str], Rate] = {}
    rows: list[dict[str, object]] = []
    for (payer_id, filing), ks in by_payer.items():
        for c in candidates(contracts, payer_id, filing):
            segs = seg_cache.setdefault(c.contract_id, c.segments(max(until, c.effective)))
            for seg in segs:
                for k in ks:
                    ck = (c.contract_id, seg.index, k[2].strip().upper(), k[3], k[4])
                    rate = rate_cache.get(ck)
                    if rate is None:
                        rate = resolve_rate(seg, code=k[2], modifier=k[3], pos=k[4] or None, ctx=ctx)
                        rate_cache[ck] = rate
                    rows.append(_row(k, seg, rate))
    return pa.Table.from_pylist(rows, schema=RATE_SCHEMA) if rows else RATE_SCHEMA.empty_table()
