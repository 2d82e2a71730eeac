"""Value a rate proposal with the repricing engine (no second pricing path).

The organisation's own history is the volume: the payer's lines in the base
period (12 months ending on the last date of service, by default), one
remit per claim (``is_final``).  For each contract year ``k`` those lines are
moved forward in time so that the base period falls in year ``k`` (service
date + the days between the base start and the year's start), and priced
twice by :func:`parley.engine.reprice.prepare` over rate tables compiled by
:func:`parley.engine.compile.compile_rates`:

* current terms: the terms in force at the year's start, with the current
  escalator folded in (:func:`parley.domain.scenarios.bake_escalation`) - the
  status quo continuing;
* proposal: the proposal applied to those terms (see
  :mod:`parley.domain.scenarios`).

Revenue for us = expected allowed; cost to the payer = expected paid
(allowed - patient responsibility), both summed over lines the payer did not
deny, then x volume factor ``(1 + trend)^k``, rounded to cents.  NPV
discounts year ``k`` by ``(1 + rate)^k``.  Money is ``Decimal``.

Per code (``Valuation.by_code``): the same priced lines, grouped by procedure
code within each contract year: units and expected allowed before the volume
factor (exact cents, summing to the year's pre-volume totals), and the revenue
after the volume factor allocated to cents by largest remainder so that each
year's rows sum exactly to ``YearValue.revenue_current`` / ``revenue_proposal``.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb
from pydantic import BaseModel, Field

from parley.domain.contracts import Contract, Terms
from parley.domain.pricing import ReferenceContext
from parley.domain.scenarios import (
    Proposal,
    apply_proposal,
    bake_escalation,
    contract_for,
    escalate_year,
    factor,
)
from parley.engine.compile import compile_rates
from parley.engine.reprice import Tolerance, prepare
from parley.errors import InputError

CENT = Decimal("0.01")

_KEYS_SQL = """
SELECT DISTINCT payer_id, coalesce(filing_indicator, '') AS fi, procedure_code,
    CASE WHEN modifier_1 IN ('26','TC') THEN modifier_1 WHEN modifier_2 IN ('26','TC') THEN modifier_2
         WHEN modifier_3 IN ('26','TC') THEN modifier_3 WHEN modifier_4 IN ('26','TC') THEN modifier_4 ELSE '' END,
    coalesce(place_of_service, '')
FROM {src} WHERE payer_id IS NOT NULL AND procedure_code IS NOT NULL
"""


def _c(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


class YearValue(BaseModel):
    year: int
    start: dt.date
    end: dt.date
    volume_factor: Decimal
    lines: int
    not_priceable_lines: int
    revenue_current: Decimal
    revenue_proposal: Decimal
    revenue_change: Decimal
    payer_cost_current: Decimal
    payer_cost_proposal: Decimal
    payer_cost_change: Decimal


class CodeYear(BaseModel):
    """One procedure code in one contract year of a valuation (non-denied lines of the base volume)."""

    year: int
    code: str
    lines: int
    units: Decimal = Field(description="base-period units, before the volume factor")
    allowed_current: Decimal = Field(description="expected allowed under current terms, before the volume factor")
    allowed_proposal: Decimal = Field(description="expected allowed under the proposal, before the volume factor")
    revenue_current: Decimal = Field(description="allowed_current x volume factor, allocated to cents (rows sum to the year)")
    revenue_proposal: Decimal = Field(description="allowed_proposal x volume factor, allocated to cents (rows sum to the year)")


class Valuation(BaseModel):
    """A proposal's value, every contract year, with how it was computed."""

    proposal: str
    payer: str
    contracts: list[str]
    base_period: tuple[dt.date, dt.date]
    years: list[YearValue]
    revenue_current_total: Decimal
    revenue_proposal_total: Decimal
    revenue_change_total: Decimal
    payer_cost_change_total: Decimal
    npv_revenue_change: Decimal
    npv_revenue_proposal: Decimal
    discount_rate_percent: Decimal
    volume_trend_percent: Decimal
    top_codes: list[list[str]] = Field(default_factory=list)
    derivation: list[str] = Field(default_factory=list)
    by_code: list[CodeYear] = Field(default_factory=list, description="per contract year and procedure code")


# --------------------------------------------------------------------------- pricing through the engine


def price_table(con: duckdb.DuckDBPyConnection, input_rel: str, contract: Contract, ctx: ReferenceContext,
                *, until: dt.date, out: str) -> None:
    """Price ``input_rel`` with the repricing engine under one contract into temp table ``out``
    (line_key, denied, expected_allowed, expected_paid, procedure_code, units)."""
    keys = {tuple(k) for k in con.execute(_KEYS_SQL.format(src=input_rel)).fetchall()}
    rates = compile_rates([contract], keys, ctx, until=until)
    con.register("sc_rates", rates)
    try:
        sql = prepare(con, input_rel, "sc_rates", Tolerance(), ranks_table="sc_mppr_ranks")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {out} AS SELECT line_key, denied, expected_allowed, expected_paid,
                        procedure_code, units FROM ({sql})""")
    finally:
        con.unregister("sc_rates")


def price_lines(con: duckdb.DuckDBPyConnection, input_rel: str, contract: Contract, ctx: ReferenceContext,
                *, until: dt.date) -> dict[str, Any]:
    """Totals of ``input_rel`` priced by the repricing engine under one contract (non-denied lines)."""
    price_table(con, input_rel, contract, ctx, until=until, out="sc_priced")
    row = con.execute("""SELECT count(*), count(*) FILTER (expected_allowed IS NULL),
            coalesce(sum(expected_allowed), 0), coalesce(sum(expected_paid), 0)
            FROM sc_priced WHERE NOT denied""").fetchall()[0]
    codes = {r[0]: (int(r[1]), Decimal(r[2]), Decimal(r[3]))
             for r in con.execute("""SELECT upper(coalesce(procedure_code, '')), count(*), coalesce(sum(units), 0),
                                            coalesce(sum(expected_allowed), 0)
                                     FROM sc_priced WHERE NOT denied GROUP BY 1""").fetchall()}
    return {"lines": row[0], "not_priceable": row[1], "allowed": Decimal(row[2]), "paid": Decimal(row[3]),
            "codes": codes}


def _shifted(con: duckdb.DuckDBPyConnection, base_rel: str, contract_id: str, days: int) -> str:
    con.execute(f"""CREATE OR REPLACE TEMP VIEW sc_year AS SELECT * REPLACE (CAST(service_date + INTERVAL ({int(days)}) DAY AS DATE) AS service_date)
                    FROM {base_rel} WHERE contract_id = {_lit(contract_id)}""")
    return "sc_year"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def year_starts(start: dt.date, years: int) -> list[tuple[dt.date, dt.date]]:
    out = []
    for k in range(years):
        s = _add_years(start, k)
        out.append((s, _add_years(start, k + 1) - dt.timedelta(days=1)))
    return out


def _add_years(d: dt.date, n: int) -> dt.date:
    try:
        return d.replace(year=d.year + n)
    except ValueError:
        return d.replace(year=d.year + n, day=28)


def top_codes_by_revenue(con: duckdb.DuckDBPyConnection, base_rel: str, n: int) -> list[str]:
    rows = con.execute(f"""SELECT procedure_code FROM {base_rel} WHERE NOT denied GROUP BY 1
                           ORDER BY sum(actual_allowed) DESC, 1 LIMIT {int(n)}""").fetchall()
    return [r[0].upper() for r in rows]


def value_proposal(con: duckdb.DuckDBPyConnection, *, base_rel: str, contracts: list[Contract], proposal: Proposal,
                   ctx: ReferenceContext, base_period: tuple[dt.date, dt.date],
                   cache: dict[tuple[str, int, dt.date], dict[str, Any]] | None = None) -> Valuation:
    """Value ``proposal`` on the lines of ``base_rel`` (repriced lines of ``contracts`` in the base period)."""
    if not contracts:
        raise InputError(f"proposal {proposal.name!r}: no contract of payer {proposal.payer!r} matches its product lines")
    start = proposal.effective or base_period[1] + dt.timedelta(days=1)
    periods = year_starts(start, proposal.years)
    tops = [top_codes_by_revenue(con, base_rel, t.top_n_by_revenue) for t in proposal.targeted if t.top_n_by_revenue]
    cache = {} if cache is None else cache
    vt, dr = factor(proposal.volume_trend_percent), factor(proposal.discount_rate_percent)
    years: list[YearValue] = []
    by_code: list[CodeYear] = []
    for k, (s, e) in enumerate(periods, start=1):
        sums = {"cur": [Decimal(0)] * 2, "new": [Decimal(0)] * 2}
        codes: dict[str, list[Any]] = {}
        lines = npr = 0
        for c in contracts:
            rel = _shifted(con, base_rel, c.contract_id, (s - base_period[0]).days)
            cur_terms = bake_escalation(c, s)
            ck = (c.contract_id, k, s)
            if ck not in cache:
                cache[ck] = price_lines(con, rel, contract_for(cur_terms, c, start=s, end=e, suffix=f"current-y{k}"), ctx, until=e)
            cur = cache[ck]
            new = _proposal_year(con, rel, c, proposal, cur_terms, tops, k, s, e, ctx)
            for key, r in (("cur", cur), ("new", new)):
                sums[key][0] += r["allowed"]
                sums[key][1] += r["paid"]
            lines += new["lines"]
            npr += new["not_priceable"]
            _add_codes(codes, cur["codes"], new["codes"])
        vf = vt ** k
        rc, rp = _c(sums["cur"][0] * vf), _c(sums["new"][0] * vf)
        pc, pp = _c(sums["cur"][1] * vf), _c(sums["new"][1] * vf)
        years.append(YearValue(year=k, start=s, end=e, volume_factor=vf.quantize(Decimal("0.000001")), lines=lines,
                               not_priceable_lines=npr, revenue_current=rc, revenue_proposal=rp, revenue_change=rp - rc,
                               payer_cost_current=pc, payer_cost_proposal=pp, payer_cost_change=pp - pc))
        by_code.extend(_code_rows(k, codes, vf, rc, rp))
    v = _valuation(proposal, contracts, base_period, years, tops, dr)
    return v.model_copy(update={"by_code": by_code})


def _add_codes(acc: dict[str, list[Any]], cur: dict[str, tuple[int, Decimal, Decimal]],
               new: dict[str, tuple[int, Decimal, Decimal]]) -> None:
    """Accumulate one contract's per-code sums (lines, units, allowed current, allowed proposal)."""
    for code in cur.keys() | new.keys():
        n, units, a_cur = cur.get(code, (0, Decimal(0), Decimal(0)))
        n2, units2, a_new = new.get(code, (0, Decimal(0), Decimal(0)))
        row = acc.setdefault(code, [0, Decimal(0), Decimal(0), Decimal(0)])
        row[0] += max(n, n2)
        row[1] += units if n else units2
        row[2] += a_cur
        row[3] += a_new


def _code_rows(k: int, codes: dict[str, list[Any]], vf: Decimal, rc: Decimal, rp: Decimal) -> list[CodeYear]:
    order = sorted(codes, key=lambda c: (-codes[c][2], c))
    cur = allocate([codes[c][2] * vf for c in order], rc)
    new = allocate([codes[c][3] * vf for c in order], rp)
    return [CodeYear(year=k, code=c, lines=codes[c][0], units=codes[c][1], allowed_current=codes[c][2],
                     allowed_proposal=codes[c][3], revenue_current=cur[i], revenue_proposal=new[i])
            for i, c in enumerate(order)]


def allocate(amounts: list[Decimal], total: Decimal) -> list[Decimal]:
    """Round ``amounts`` to cents so that they sum exactly to ``total`` (largest remainder; ties by position).

    ``total`` must be within half a cent per amount of ``sum(amounts)`` (true when it is the rounded sum)."""
    out = [x.quantize(CENT, rounding=ROUND_HALF_UP) for x in amounts]
    diff = int(((total - sum(out, Decimal(0))) / CENT).to_integral_value())
    if diff:
        step = CENT if diff > 0 else -CENT
        # the amounts whose rounding moved them furthest in the opposite direction go first
        order = sorted(range(len(out)), key=lambda i: ((amounts[i] - out[i]) * (1 if diff > 0 else -1), -i), reverse=True)
        for i in order[: abs(diff)]:
            out[i] += step
    return out


def _proposal_year(con: duckdb.DuckDBPyConnection, rel: str, c: Contract, p: Proposal, cur_terms: Terms,
                   tops: list[list[str]], k: int, s: dt.date, e: dt.date, ctx: ReferenceContext) -> dict[str, Any]:
    if p.escalators_percent is None:
        terms = apply_proposal(cur_terms, p, top_codes=tops)
    else:
        y1 = apply_proposal(bake_escalation(c, _add_years(s, 1 - k)), p, top_codes=tops)
        terms = escalate_year(y1, p, k)
    return price_lines(con, rel, contract_for(terms, c, start=s, end=e, suffix=f"proposal-y{k}"), ctx, until=e)


def _valuation(p: Proposal, contracts: list[Contract], base: tuple[dt.date, dt.date], years: list[YearValue],
               tops: list[list[str]], dr: Decimal) -> Valuation:
    npv_change = sum((y.revenue_change / dr ** y.year for y in years), Decimal(0))
    npv_new = sum((y.revenue_proposal / dr ** y.year for y in years), Decimal(0))
    return Valuation(
        proposal=p.name, payer=p.payer, contracts=[c.contract_id for c in contracts], base_period=base, years=years,
        revenue_current_total=sum((y.revenue_current for y in years), Decimal(0)),
        revenue_proposal_total=sum((y.revenue_proposal for y in years), Decimal(0)),
        revenue_change_total=sum((y.revenue_change for y in years), Decimal(0)),
        payer_cost_change_total=sum((y.payer_cost_change for y in years), Decimal(0)),
        npv_revenue_change=_c(npv_change), npv_revenue_proposal=_c(npv_new),
        discount_rate_percent=p.discount_rate_percent, volume_trend_percent=p.volume_trend_percent, top_codes=tops,
        derivation=[
            f"volume: the payer's non-denied lines from {base[0]} to {base[1]} (final remit per claim), "
            f"moved into each contract year and x (1 + {p.volume_trend_percent}%)^year",
            "each year priced by the repricing engine twice: current terms (escalation to the year's start folded in) "
            "and the proposal applied to them",
            "revenue = expected allowed; payer cost = expected paid (allowed - patient responsibility)",
            f"NPV: year k discounted by (1 + {p.discount_rate_percent}%)^k",
        ],
    )

