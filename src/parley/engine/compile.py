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


_SEG_FIELDS = ("seg_start", "seg_end", "contract_id", "product_line", "segment", "mppr_schedule",
               "bilateral_milli", "assistant_milli", "npp_milli", "npp_npis", "lesser_of")
_RATE_FIELDS = ("kind", "term", "method", "unit_cents", "pct_milli", "reductions", "mppr", "reason")
_KEY_FIELDS = ("payer_id", "filing_indicator", "code", "pmod", "pos")


def _seg_values(seg: Segment) -> tuple[object, ...]:
    """The rate-table columns a segment fixes (the same for every key), in _SEG_FIELDS order."""
    prof = seg.terms.professional
    adj = prof.adjustments if prof else None
    mp = adj.multiple_procedure if adj else None
    return (
        seg.start, seg.end, seg.contract.contract_id, ", ".join(seg.contract.product_lines),
        f"{seg.contract.contract_id}#{seg.index} {seg.start}..{seg.end}",
        [to_milli(x) for x in mp.schedule] if mp else None,
        to_milli(adj.bilateral_percent) if adj else None,
        to_milli(adj.assistant_at_surgery_percent) if adj else None,
        to_milli(adj.npp_percent) if adj else None,
        list(adj.npp_npis) if adj else [],
        bool(prof and prof.lesser_of_billed),
    )


def _rate_values(rate: Rate) -> tuple[object, ...]:
    """The rate-table columns a resolved rate gives, in _RATE_FIELDS order."""
    return (rate.kind, rate.term, rate.method, to_cents(rate.unit_amount), to_milli(rate.percent), rate.reductions,
            rate.mppr and rate.reductions and rate.kind == "unit", rate.reason)


def compile_rates(
    contracts: list[Contract], keys: Iterable[Key], ctx: ReferenceContext, *, until: dt.date
) -> pa.Table:
    """The rate table for the keys present in the data, for every period up to ``until``.

    One :func:`resolve_rate` per (contract segment, code, pricing modifier, place of service);
    the columns are gathered per segment and per rate once, then assembled column-wise.
    """
    by_payer: dict[tuple[str, str], list[Key]] = defaultdict(list)
    for k in keys:
        by_payer[(k[0], k[1])].append(k)
    seg_cache: dict[str, list[tuple[Segment, tuple[object, ...]]]] = {}
    rate_cache: dict[tuple[str, int, str, str, str], tuple[object, ...]] = {}
    key_rows: list[Key] = []
    seg_rows: list[tuple[object, ...]] = []
    rate_rows: list[tuple[object, ...]] = []
    for (payer_id, filing), ks in by_payer.items():
        for c in candidates(contracts, payer_id, filing):
            segs = seg_cache.get(c.contract_id)
            if segs is None:
                segs = seg_cache[c.contract_id] = [(seg, _seg_values(seg)) for seg in c.segments(max(until, c.effective))]
            for seg, sv in segs:
                for k in ks:
                    ck = (c.contract_id, seg.index, k[2].strip().upper(), k[3], k[4])
                    rv = rate_cache.get(ck)
                    if rv is None:
                        rv = rate_cache[ck] = _rate_values(resolve_rate(seg, code=k[2], modifier=k[3], pos=k[4] or None, ctx=ctx))
                    key_rows.append(k)
                    seg_rows.append(sv)
                    rate_rows.append(rv)
    if not key_rows:
        return RATE_SCHEMA.empty_table()
    cols: dict[str, list[object]] = {}
    for fields, rows in ((_KEY_FIELDS, key_rows), (_SEG_FIELDS, seg_rows), (_RATE_FIELDS, rate_rows)):
        for name, col in zip(fields, zip(*rows, strict=True), strict=True):
            cols[name] = list(col)
    return pa.table([pa.array(cols[f.name], f.type) for f in RATE_SCHEMA], schema=RATE_SCHEMA)
