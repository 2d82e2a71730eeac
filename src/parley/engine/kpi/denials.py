"""Denials: initial and final denial rates, top reasons, overturns, recoverable vs final.

A claim adjudication (835 CLP, reversals excluded) is *denied* when CLP02 = 4 or
it pays nothing with no patient responsibility.  A line is denied when its
claim's CLP02 = 4 or it pays nothing with no allowed amount and no PR
adjustment.  *Initial* = the claim's first adjudication (earliest payment
date); *final* = its latest.  A denied line's reason is its primary CARC (the
non-PR line adjustment with the largest amount, else the claim-level one, else
the largest PR one - e.g. PR-27 coverage terminated),
classified by the refdata CARC list (root-cause category, recoverable flag).
"""

from __future__ import annotations

import duckdb

from parley.engine.kpi.base import KpiResult, dimension, ratio, rows

CLAIM_DIMS = ("payer", "product_line", "month", "payer_product_line", "all")
LINE_DIMS = (*CLAIM_DIMS, "code", "category")

DEFINITIONS = {
    "adjudicated_claims": "claims with at least one non-reversal 835 adjudication",
    "initially_denied_claims": "claims whose first adjudication is denied (CLP02 = 4, or nothing paid and no patient responsibility)",
    "initial_denial_rate": "initially_denied_claims / adjudicated_claims",
    "finally_denied_claims": "claims whose latest adjudication is denied",
    "final_denial_rate": "finally_denied_claims / adjudicated_claims",
    "overturned_claims": "initially denied claims paid (CLP04 > 0) in a later adjudication (resubmission or appeal)",
    "overturn_rate": "overturned_claims / initially_denied_claims",
    "initial_lines": "lines of first adjudications",
    "initial_denied_lines": "denied lines of first adjudications (CLP02 = 4, or paid 0 with no allowed and no PR)",
    "initial_line_denial_rate": "initial_denied_lines / initial_lines",
    "final_line_denial_rate": "denied lines of latest adjudications / lines of latest adjudications",
    "initial_denied_dollars": "billed charge of initial_denied_lines",
    "initial_dollar_denial_rate": "initial_denied_dollars / billed charge of initial_lines",
    "final_denied_dollars": "billed charge of lines denied in the latest adjudication",
    "final_dollar_denial_rate": "final_denied_dollars / billed charge of lines of latest adjudications",
    "recoverable_final_denied_dollars": "final_denied_dollars whose primary CARC is flagged recoverable (worth reworking)",
    "unrecoverable_final_denied_dollars": "final_denied_dollars whose primary CARC is not recoverable (or unknown)",
}

_CLAIM_SQL = """
SELECT {dim} AS "{by}",
    count(*) AS adjudicated_claims,
    count(*) FILTER (initially_denied) AS initially_denied_claims,
    {r_init} AS initial_denial_rate,
    count(*) FILTER (finally_denied) AS finally_denied_claims,
    {r_final} AS final_denial_rate,
    count(*) FILTER (initially_denied AND first_paid_date IS NOT NULL) AS overturned_claims,
    {r_over} AS overturn_rate
FROM kpi_claims WHERE adjudications > 0 GROUP BY 1
"""

_LINE_SQL = """
SELECT {dim} AS "{by}",
    coalesce(sum(lines) FILTER (is_first), 0) AS initial_lines,
    coalesce(sum(lines) FILTER (is_first AND denied), 0) AS initial_denied_lines,
    {r_l_init} AS initial_line_denial_rate,
    {r_l_final} AS final_line_denial_rate,
    coalesce(sum(charge_amount) FILTER (is_first AND denied), 0) AS initial_denied_dollars,
    {r_d_init} AS initial_dollar_denial_rate,
    coalesce(sum(charge_amount) FILTER (is_last AND denied), 0) AS final_denied_dollars,
    {r_d_final} AS final_dollar_denial_rate,
    coalesce(sum(charge_amount) FILTER (is_last AND denied AND coalesce(recoverable, false)), 0) AS recoverable_final_denied_dollars,
    coalesce(sum(charge_amount) FILTER (is_last AND denied AND NOT coalesce(recoverable, false)), 0) AS unrecoverable_final_denied_dollars
FROM (SELECT l.*, l.procedure_code AS code, coalesce(c.category, 'other') AS category, c.recoverable
      FROM kpi_line_cube l LEFT JOIN kpi_carc c ON c.code = l.primary_carc) GROUP BY 1
"""


def _line_sql(dim: str, by: str) -> str:
    return _LINE_SQL.format(
        dim=dim, by=by,
        r_l_init=ratio("coalesce(sum(lines) FILTER (is_first AND denied), 0)", "sum(lines) FILTER (is_first)"),
        r_l_final=ratio("coalesce(sum(lines) FILTER (is_last AND denied), 0)", "sum(lines) FILTER (is_last)"),
        r_d_init=ratio("sum(charge_amount) FILTER (is_first AND denied)", "sum(charge_amount) FILTER (is_first)"),
        r_d_final=ratio("sum(charge_amount) FILTER (is_last AND denied)", "sum(charge_amount) FILTER (is_last)"),
    )


def _claim_sql(dim: str, by: str) -> str:
    return _CLAIM_SQL.format(
        dim=dim, by=by,
        r_init=ratio("count(*) FILTER (initially_denied)", "count(*)"),
        r_final=ratio("count(*) FILTER (finally_denied)", "count(*)"),
        r_over=ratio("count(*) FILTER (initially_denied AND first_paid_date IS NOT NULL)",
                     "count(*) FILTER (initially_denied)"),
    )


def denial_rates(con: duckdb.DuckDBPyConnection, *, by: str = "payer") -> KpiResult:
    """Initial / final denial rates by claims, lines and dollars, overturns, recoverable dollars."""
    dim = dimension(by, LINE_DIMS) if by in ("code", "category") else dimension(by, CLAIM_DIMS)
    line = _line_sql(dim if by not in ("code", "category") else by, by)
    if by in ("code", "category"):
        sql = f"SELECT * FROM ({line}) ORDER BY initial_denied_dollars DESC, 1"
        defs = {k: v for k, v in DEFINITIONS.items() if "claims" not in k and "overturn" not in k}
    else:
        sql = (f'SELECT * FROM ({_claim_sql(dim, by)}) c FULL JOIN ({line}) l USING ("{by}") '
               f"ORDER BY adjudicated_claims DESC NULLS LAST, 1")
        defs = DEFINITIONS
    notes = ["month = month of the claim's first adjudication (835 payment date)"] if by == "month" else []
    return KpiResult("denials", f"denial_rates_by_{by}", rows(con, sql), defs, notes=notes)


def top_reasons(con: duckdb.DuckDBPyConnection, *, top: int = 10, payer: str | None = None) -> KpiResult:
    """The CARCs behind the most initially denied dollars."""
    where = "AND l.payer = ?" if payer else ""
    sql = f"""
SELECT l.primary_carc AS carc, coalesce(c.category, 'other') AS category, c.category_label,
    coalesce(c.recoverable, false) AS recoverable,
    count(*) AS denied_lines, count(DISTINCT l.claim_id) AS denied_claims,
    sum(l.charge_amount) AS denied_dollars,
    round(CAST(sum(l.charge_amount) AS DOUBLE) / nullif(sum(sum(l.charge_amount)) OVER (), 0), 4) AS share_of_denied_dollars
FROM kpi_lines l LEFT JOIN kpi_carc c ON c.code = l.primary_carc
WHERE l.is_first AND l.denied {where}
GROUP BY ALL ORDER BY denied_dollars DESC, carc LIMIT {int(top)}"""
    defs = {
        "carc": "primary CARC of the denied line (largest non-PR line adjustment, else claim-level, else largest PR)",
        "category": "root-cause category of the CARC (refdata carc)",
        "recoverable": "refdata flag: a denial of this kind can usually be reworked and paid",
        "denied_lines": "lines denied in their claim's first adjudication with this CARC",
        "denied_claims": "distinct claims among them",
        "denied_dollars": "billed charge of those lines",
        "share_of_denied_dollars": "denied_dollars / all initially denied dollars in the selection",
    }
    return KpiResult("denials", "top_denial_reasons", rows(con, sql, [payer] if payer else None), defs)
