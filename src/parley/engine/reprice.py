"""Price every line in one set-based DuckDB pass over a compiled rate table.

Input: a relation with the columns of :data:`INPUT_COLUMNS` (one row per
remitted line) and the rate table from :func:`parley.engine.compile.compile_rates`.
Output (:func:`reprice_sql`): the input columns plus the contract, term,
expected allowed and paid, the status and the reason.

The arithmetic mirrors :mod:`parley.domain.pricing` exactly, in integer cents
and thousandths of a percent, rounding half up at the same steps:

* amount0 = round(unit_cents x units) or round(charge x pct)
* multiple procedure (CMS): every unit is a procedure, ranked within the claim
  by unit rate (desc, then line number, line key); a line earns its unit rate x
  the schedule's percentages summed over its units' ranks
* bilateral, assistant at surgery, non-physician practitioner
* lesser of billed charge
* expected paid = max(allowed - patient responsibility, 0)

Status: ``denied`` (the payer denied the line), ``not_priceable`` (reason),
``underpaid`` / ``overpaid`` when actual allowed differs from expected by
more than BOTH the dollar and the percent tolerance, else ``paid_correctly``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

INPUT_COLUMNS = (
    "line_key", "claim_key", "line_number", "payer_id", "filing_indicator", "service_date",
    "procedure_code", "modifier_1", "modifier_2", "modifier_3", "modifier_4", "units",
    "charge_amount", "place_of_service", "rendering_npi", "patient_responsibility",
    "actual_allowed", "paid_amount", "denied",
)


@dataclass(frozen=True)
class Tolerance:
    """A deviation counts only when it exceeds both the dollars and the percent of expected."""

    dollars: Decimal = Decimal("1.00")
    percent: Decimal = Decimal("1.0")

    @property
    def cents(self) -> int:
        return int(self.dollars * 100)

    @property
    def pct_milli(self) -> int:
        return int(self.percent * 1000)


def _rhu(x: str, d: int) -> str:
    """Integer division rounding half up, as SQL, for x >= 0 (lines with a negative charge or
    units are not priced).  ``x`` appears once, so nested steps stay linear in size."""
    return f"((({x}) + {d // 2}) // {d})"


def _mppr_cum(x_milli: str) -> str:
    """Sum of the MPPR schedule (thousandths of a percent) over the first x procedure units, x in
    thousandths of a unit, scaled by 1000 (the last percentage repeats; a fraction earns its share
    of the next percentage) - :func:`parley.domain.pricing.mppr_share` in integers."""
    whole = f"(({x_milli}) // 1000)"
    frac = f"(({x_milli}) % 1000)"
    n = "len(mppr_schedule)"
    return (f"(1000 * (coalesce(list_sum(list_slice(mppr_schedule, 1, least({whole}, {n}))), 0) "
            f"+ greatest({whole} - {n}, 0) * mppr_schedule[{n}]) "
            f"+ {frac} * mppr_schedule[least({whole} + 1, {n})])")


def _share_sql() -> str:
    """A line's MPPR share (sum of the schedule over its units' ranks, x1000), computed once per
    MPPR line in the ranks pre-pass so the streaming pass only multiplies."""
    return f"({_mppr_cum('rk_before + units_m')} - {_mppr_cum('rk_before')})"


def _pmod() -> str:
    parts = " ".join(f"WHEN modifier_{i} IN ('26','TC') THEN modifier_{i}" for i in range(1, 5))
    return f"CASE {parts} ELSE '' END"


def _has(mods: tuple[str, ...]) -> str:
    lst = ", ".join(f"'{m}'" for m in mods)
    return "(" + " OR ".join(f"coalesce(modifier_{i}, '') IN ({lst})" for i in range(1, 5)) + ")"


def classify_sql(expected: str, actual: str, tol: Tolerance) -> str:
    diff = f"({expected} - {actual})"
    return (
        f"CASE WHEN {diff} > {tol.cents} AND {diff} * 100000 > {tol.pct_milli} * {expected} THEN 'underpaid' "
        f"WHEN -{diff} > {tol.cents} AND -{diff} * 100000 > {tol.pct_milli} * {expected} THEN 'overpaid' "
        "ELSE 'paid_correctly' END"
    )


def _base_ctes(input_rel: str, rates_rel: str, *, mppr_only: bool = False) -> str:
    amt0 = (
        f"CASE WHEN r.kind = 'charges' THEN {_rhu('l.charge_c * r.pct_milli', 100000)} "
        f"WHEN r.kind = 'unit' THEN {_rhu('r.unit_cents * l.units_m', 1000)} END"
    )
    join = "JOIN" if mppr_only else "LEFT JOIN"
    guard = "AND l.charge_c >= 0 AND l.units_m >= 0"
    where = "WHERE r.mppr" if mppr_only else ""
    return f"""
WITH l AS (
    SELECT i.*,
        {_pmod()} AS pmod,
        coalesce(i.place_of_service, '') AS pos_key,
        coalesce(i.filing_indicator, '') AS fi_key,
        CAST(i.charge_amount * 100 AS BIGINT) AS charge_c,
        CAST(i.units * 1000 AS BIGINT) AS units_m,
        CAST(coalesce(i.patient_responsibility, 0) * 100 AS BIGINT) AS pr_c,
        CAST(i.actual_allowed * 100 AS BIGINT) AS act_c
    FROM {input_rel} i
),
j AS (
    SELECT l.*, r.contract_id, r.product_line, r.segment, r.kind, r.term, r.method, r.reductions, r.mppr,
        r.mppr_schedule, r.bilateral_milli, r.assistant_milli, r.npp_milli, r.npp_npis, r.lesser_of,
        r.reason AS rate_reason, r.unit_cents, {amt0} AS amt0
    FROM l {join} {rates_rel} r
      ON r.payer_id = l.payer_id AND r.filing_indicator = l.fi_key AND r.code = l.procedure_code
     AND r.pmod = l.pmod AND r.pos = l.pos_key
     AND l.service_date BETWEEN r.seg_start AND r.seg_end {guard}
    {where}
)"""


def mppr_ranks_sql(input_rel: str, rates_rel: str) -> str:
    """Pre-pass over the multiple-procedure lines only: their rank within the claim."""
    return _base_ctes(input_rel, rates_rel, mppr_only=True) + """
SELECT rk_key, rk_rank, """ + _share_sql() + """ AS rk_share FROM (
SELECT line_key AS rk_key, units_m, mppr_schedule,
    row_number() OVER (PARTITION BY claim_key ORDER BY unit_cents DESC, line_number, line_key) AS rk_rank,
    CAST(coalesce(sum(units_m) OVER (PARTITION BY claim_key ORDER BY unit_cents DESC, line_number, line_key
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS BIGINT) AS rk_before
FROM j)
"""


def prepare(con: object, input_rel: str, rates_rel: str, tol: Tolerance, *, ranks_table: str = "mppr_ranks",
            carry: tuple[str, ...] = ()) -> str:
    """Compute the MPPR ranks (small temp table), return the streaming pricing query.

    Keeping the ranks in a table lets the main pass stream: memory stays bounded by the
    rate table and the ranks, not by the number of lines.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE {ranks_table} AS {mppr_ranks_sql(input_rel, rates_rel)}")  # type: ignore[attr-defined]
    return reprice_sql(input_rel, rates_rel, tol, ranks_rel=ranks_table, carry=carry)


def reprice_sql(input_rel: str, rates_rel: str, tol: Tolerance, *, ranks_rel: str | None = None,
                carry: tuple[str, ...] = ()) -> str:
    """The query that prices every line of ``input_rel`` with ``rates_rel``.

    ``carry``: further columns of ``input_rel`` passed through to the output unchanged (so a
    caller persisting the result needs no join back to the input).

    With ``ranks_rel`` (see :func:`prepare`) the query streams; without, the MPPR ranks
    are computed inline (simpler, but the joined lines are materialised once).
    """
    # each step is round(amount x factor), factor 100000 (= 100%) when the step does not apply
    share = "pshare"
    a_mppr = f"CASE WHEN mppr THEN {_rhu(f'CAST(unit_cents AS HUGEINT) * {share}', 100_000_000)} ELSE amt0 END"
    f_bil = f"CASE WHEN reductions AND bilateral_milli IS NOT NULL AND {_has(('50',))} THEN bilateral_milli ELSE 100000 END"
    f_ast = f"CASE WHEN reductions AND assistant_milli IS NOT NULL AND {_has(('80', '81', '82', 'AS'))} THEN assistant_milli ELSE 100000 END"
    f_npp = ("CASE WHEN reductions AND npp_milli IS NOT NULL AND rendering_npi IS NOT NULL "
             "AND list_contains(npp_npis, rendering_npi) THEN npp_milli ELSE 100000 END")
    a_bil = _rhu(f"a1 * ({f_bil})", 100000)
    a_ast = _rhu(f"a2 * ({f_ast})", 100000)
    a_npp = _rhu(f"a3 * ({f_npp})", 100000)
    a_les = "least(a4, CASE WHEN lesser_of AND kind = 'unit' THEN charge_c END)"
    status = classify_sql("exp_c", "act_c", tol)
    if ranks_rel is None:
        ranks = """,
rk AS (
    SELECT rk_key, rk_rank, """ + _share_sql() + """ AS rk_share FROM (
    SELECT line_key AS rk_key, units_m, mppr_schedule,
        row_number() OVER (PARTITION BY claim_key ORDER BY unit_cents DESC, line_number, line_key) AS rk_rank,
    CAST(coalesce(sum(units_m) OVER (PARTITION BY claim_key ORDER BY unit_cents DESC, line_number, line_key
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS BIGINT) AS rk_before
    FROM j WHERE mppr)
)"""
        ranks_rel = "rk"
    else:
        ranks = ""
    return _base_ctes(input_rel, rates_rel) + ranks + f""",
ranked AS (SELECT j.*, coalesce(rk.rk_rank, 1) AS prank, coalesce(rk.rk_share, 0) AS pshare
           FROM j LEFT JOIN {ranks_rel} rk ON rk.rk_key = j.line_key),
p1 AS (SELECT *, {a_mppr} AS a1 FROM ranked),
p2 AS (SELECT *, {a_bil} AS a2 FROM p1),
p3 AS (SELECT *, {a_ast} AS a3 FROM p2),
p4 AS (SELECT *, {a_npp} AS a4 FROM p3),
priced AS (SELECT *, {a_les} AS exp_c FROM p4)
SELECT {', '.join((*INPUT_COLUMNS, *carry))}, contract_id, product_line, segment, term, method, kind,
    CAST(exp_c * CAST(0.01 AS DECIMAL(3, 2)) AS DECIMAL(14, 2)) AS expected_allowed,
    CAST(CASE WHEN exp_c IS NOT NULL THEN greatest(exp_c - pr_c, 0) END * CAST(0.01 AS DECIMAL(3, 2)) AS DECIMAL(14, 2)) AS expected_paid,
    CASE WHEN denied THEN 'denied'
         WHEN kind IS NULL OR exp_c IS NULL THEN 'not_priceable'
         ELSE {status} END AS status,
    CASE WHEN denied THEN NULL
         WHEN charge_c < 0 OR units_m < 0 THEN 'negative charge or units (a reversal?)'
         WHEN kind IS NULL THEN 'no contract covers payer ' || coalesce(payer_id, '?') || ' / filing '
              || coalesce(filing_indicator, '?') || ' on ' || coalesce(CAST(service_date AS VARCHAR), 'an unknown date')
         WHEN kind = 'anesthesia' THEN 'anesthesia: priced by the scalar path'
         ELSE rate_reason END AS reason,
    CAST((exp_c - act_c) * CAST(0.01 AS DECIMAL(3, 2)) AS DECIMAL(14, 2)) AS difference,
    prank AS procedure_rank
FROM priced
"""
