"""Mix and value: payer mix, top codes, revenue per RVU, percent of Medicare, actual vs modeled.

Revenue is the *allowed* amount (AMT*B6, else paid + PR adjustments) of lines
in each claim's latest adjudication, denied lines excluded.  Medicare prices
come from the table ``kpi_mfs`` (registered by the service): the PFS of the
service year (nearest packaged year when absent) for the practice's locality,
facility rate when the claim's place of service is a CMS facility POS
(``kpi_pos``), with the 26 / TC row when the line carries that modifier.
"""

from __future__ import annotations

import duckdb

from parley.engine.kpi.base import KpiResult, ratio, rows

MIX_DEFS = {
    "claims": "claims (billed or adjudicated) of the payer",
    "share_of_claims": "claims / all claims",
    "billed_charges": "837 billed charges (835 CLP03 when there is no 837)",
    "collected": "net paid (sum of CLP04 over all adjudications, reversals included)",
    "share_of_collected": "collected / all collected",
    "distinct_patients": "distinct patient keys",
}


def payer_mix(con: duckdb.DuckDBPyConnection) -> KpiResult:
    sql = f"""
SELECT payer, count(*) AS claims, {ratio("count(*)", "sum(count(*)) OVER ()")} AS share_of_claims,
    sum(charge_amount) AS billed_charges, sum(net_paid) AS collected,
    {ratio("sum(net_paid)", "sum(sum(net_paid)) OVER ()")} AS share_of_collected,
    count(DISTINCT patient_key) AS distinct_patients
FROM kpi_claims GROUP BY payer ORDER BY claims DESC, payer"""
    return KpiResult("mix", "payer_mix", rows(con, sql), MIX_DEFS)


# groups of paid lines (kpi_line_cube: lines of the latest adjudication, not denied, allowed > 0);
# every group shares year, code, pricing modifier and place of service, so one Medicare price
_PRICED_LINES = """
SELECT l.*, coalesce(p.facility, false) AS facility
FROM kpi_line_cube l LEFT JOIN kpi_pos p ON p.pos = l.place_of_service
WHERE l.is_last AND NOT l.denied AND l.has_allowed
"""

_MEDICARE = f"""
SELECT x.*, m.amount * x.units AS medicare_allowed, m.total_rvu * x.units AS rvus,
    m.amount > 0 AND x.units_sign > 0 AS medicare_priced
FROM ({_PRICED_LINES}) x
LEFT JOIN kpi_mfs m ON m.year = x.year AND m.hcpcs = x.procedure_code AND m.modifier = x.pmod
    AND m.facility = x.facility
"""

TOP_DEFS = {
    "rank_by_volume": "rank of the code within the payer by units (1 = most)",
    "rank_by_revenue": "rank of the code within the payer by allowed dollars",
    "lines": "paid lines (latest adjudication, not denied)",
    "units": "units paid",
    "allowed": "allowed dollars (AMT*B6, else paid + PR)",
    "paid": "payer paid dollars (SVC03)",
}


def top_codes(con: duckdb.DuckDBPyConnection, *, top: int = 20) -> KpiResult:
    sql = f"""
WITH g AS (SELECT payer, procedure_code, sum(lines) AS lines, sum(units) AS units, sum(allowed_amount) AS allowed,
                  sum(paid_amount) AS paid FROM ({_PRICED_LINES}) GROUP BY ALL),
r AS (SELECT *, row_number() OVER (PARTITION BY payer ORDER BY units DESC, procedure_code) AS rank_by_volume,
             row_number() OVER (PARTITION BY payer ORDER BY allowed DESC, procedure_code) AS rank_by_revenue FROM g)
SELECT payer, procedure_code, rank_by_volume, rank_by_revenue, lines, units, allowed, paid FROM r
WHERE rank_by_volume <= {int(top)} OR rank_by_revenue <= {int(top)} ORDER BY payer, rank_by_revenue"""
    return KpiResult("mix", f"top_{int(top)}_codes", rows(con, sql), TOP_DEFS)


VALUE_DEFS = {
    "allowed": "allowed dollars of paid lines",
    "medicare_priced_allowed": "allowed dollars of the paid lines that have a Medicare PFS price",
    "medicare_allowed": "Medicare PFS allowed (locality, service year, facility by POS) x units for those lines",
    "percent_of_medicare": "medicare_priced_allowed / medicare_allowed x 100",
    "rvus": "total RVUs (work + PE + MP; facility or non-facility PE by POS) x units of lines with RVUs",
    "revenue_per_rvu": "medicare_priced_allowed / rvus",
    "medicare_coverage": "medicare_priced_allowed / allowed (share of revenue the Medicare comparison covers)",
}


def medicare_value(con: duckdb.DuckDBPyConnection, *, by_code: bool = False) -> KpiResult:
    keys = "payer, procedure_code" if by_code else "payer"
    sql = f"""
SELECT {keys}, sum(lines) AS lines, sum(allowed_amount) AS allowed,
    coalesce(sum(allowed_amount) FILTER (medicare_priced), 0) AS medicare_priced_allowed,
    CAST(coalesce(sum(medicare_allowed) FILTER (medicare_priced), 0) AS DECIMAL(14, 2)) AS medicare_allowed,
    round(100 * CAST(sum(allowed_amount) FILTER (medicare_priced) AS DOUBLE) / nullif(sum(medicare_allowed) FILTER (medicare_priced), 0), 1) AS percent_of_medicare,
    round(sum(rvus) FILTER (medicare_priced), 2) AS rvus,
    round(CAST(sum(allowed_amount) FILTER (medicare_priced) AS DOUBLE) / nullif(sum(rvus) FILTER (medicare_priced), 0), 2) AS revenue_per_rvu,
    {ratio("sum(allowed_amount) FILTER (medicare_priced)", "sum(allowed_amount)")} AS medicare_coverage
FROM ({_MEDICARE}) GROUP BY ALL ORDER BY allowed DESC"""
    return KpiResult("mix", "percent_of_medicare_by_code" if by_code else "percent_of_medicare", rows(con, sql), VALUE_DEFS)


MODELED_DEFS = {
    "priced_lines": "repriced lines of each claim's final adjudication with an expected allowed (not denied, not unpriceable)",
    "modeled_allowed": "expected allowed from the contract (parley reprice)",
    "actual_allowed": "allowed actually paid on those lines",
    "actual_vs_modeled": "actual_allowed / modeled_allowed",
    "shortfall": "modeled_allowed - actual_allowed",
}


def actual_vs_modeled(con: duckdb.DuckDBPyConnection) -> KpiResult:
    sql = f"""
SELECT coalesce(pm.payer, r.payer_name, r.payer_id) AS payer, count(*) AS priced_lines, sum(expected_allowed) AS modeled_allowed,
    sum(actual_allowed) AS actual_allowed, {ratio("sum(actual_allowed)", "sum(expected_allowed)")} AS actual_vs_modeled,
    sum(expected_allowed) - sum(actual_allowed) AS shortfall
FROM repriced r LEFT JOIN kpi_payer_ids pm USING (payer_id)
WHERE is_final AND expected_allowed IS NOT NULL AND final_status NOT IN ('denied', 'not_priceable')
GROUP BY 1 ORDER BY modeled_allowed DESC"""
    return KpiResult("mix", "actual_vs_modeled", rows(con, sql), MODELED_DEFS,
                     notes=["needs 'parley reprice'"])


VISIT_DEFS = {
    "visits": "distinct (patient, service date) among adjudicated claims",
    "paid_per_visit": "net paid / visits",
    "allowed_per_visit": "allowed dollars of paid lines / visits",
}


def payments_per_visit(con: duckdb.DuckDBPyConnection) -> KpiResult:
    sql = f"""
WITH v AS (SELECT payer, count(DISTINCT (patient_key, service_date)) AS visits, sum(net_paid) AS paid
           FROM kpi_claims WHERE adjudications > 0 GROUP BY 1),
a AS (SELECT payer, sum(allowed_amount) AS allowed FROM kpi_line_cube WHERE is_last AND NOT denied GROUP BY 1)
SELECT v.payer, v.visits, v.paid, {ratio("v.paid", "v.visits", 2)} AS paid_per_visit,
    {ratio("a.allowed", "v.visits", 2)} AS allowed_per_visit
FROM v LEFT JOIN a USING (payer) ORDER BY visits DESC"""
    return KpiResult("mix", "payments_per_visit", rows(con, sql), VISIT_DEFS)
