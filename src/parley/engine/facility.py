"""Facility (institutional) claims: compile contracts to facility rate tables, price every
claim in one set-based DuckDB pass.

The arithmetic mirrors :mod:`parley.domain.pricing_facility` exactly (integer cents,
thousandths of a percent, rounding half up at the same steps); the per-period values
(escalated base rate, DRG case rates, per diems, carve-outs) come from
:func:`parley.domain.pricing_facility.resolve_facility`, so they are the scalar
reference's by construction.

Input relations:

* claims (:data:`CLAIM_COLUMNS`): one row per remitted facility claim, billed values;
* lines (:data:`LINE_COLUMNS`): its revenue-code lines (carve-outs, per-diem level).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from parley.domain.contracts import Contract
from parley.domain.pricing_facility import resolve_facility
from parley.engine.compile import candidates, to_cents, to_milli
from parley.engine.reprice import Tolerance, _rhu, classify_sql

CLAIM_COLUMNS = (
    "claim_key", "payer_id", "filing_indicator", "type_of_bill", "drg_code", "statement_from", "statement_to",
    "admission_date", "charge_amount", "patient_responsibility", "actual_allowed", "denied",
)
LINE_COLUMNS = ("claim_key", "revenue_code", "charge_amount", "units")

TERMS_SCHEMA = pa.schema([
    ("payer_id", pa.string()), ("filing_indicator", pa.string()), ("seg_start", pa.date32()), ("seg_end", pa.date32()),
    ("seg_id", pa.int64()), ("contract_id", pa.string()), ("product_line", pa.string()), ("segment", pa.string()),
    ("has_facility", pa.bool_()), ("has_drg", pa.bool_()), ("pct_milli", pa.int64()), ("ol_threshold_c", pa.int64()),
    ("ol_pct_milli", pa.int64()), ("ol_mode", pa.string()), ("ol_claims", pa.string()), ("lesser_of", pa.bool_()),
])
DRG_SCHEMA = pa.schema([("seg_id", pa.int64()), ("drg", pa.string()), ("case_c", pa.int64())])
PER_DIEM_SCHEMA = pa.schema([("seg_id", pa.int64()), ("priority", pa.int64()), ("rev_lo", pa.string()),
                             ("rev_hi", pa.string()), ("amount_c", pa.int64())])
CARVE_SCHEMA = pa.schema([("seg_id", pa.int64()), ("revenue_code", pa.string()), ("amount_c", pa.int64())])


def compile_facility(contracts: list[Contract], keys: Iterable[tuple[str, str]], *, until: dt.date) -> dict[str, pa.Table]:
    """Facility rate tables (terms, drg, per_diem, carve) for the (payer id, filing indicator) keys."""
    terms: list[dict[str, Any]] = []
    drg: list[dict[str, Any]] = []
    per_diem: list[dict[str, Any]] = []
    carve: list[dict[str, Any]] = []
    seg_ids: dict[tuple[str, int], int] = {}
    for payer_id, filing in sorted(set(keys)):
        for c in candidates(contracts, payer_id, filing):
            for seg in c.segments(max(until, c.effective)):
                sid = seg_ids.get((c.contract_id, seg.index))
                rate = resolve_facility(seg)
                if sid is None:
                    sid = seg_ids[(c.contract_id, seg.index)] = len(seg_ids)
                    if rate is not None:
                        _detail_rows(sid, rate, drg, per_diem, carve)
                terms.append({
                    "payer_id": payer_id, "filing_indicator": filing, "seg_start": seg.start, "seg_end": seg.end,
                    "seg_id": sid, "contract_id": c.contract_id, "product_line": ", ".join(c.product_lines),
                    "segment": f"{c.contract_id}#{seg.index} {seg.start}..{seg.end}",
                    "has_facility": rate is not None, "has_drg": bool(rate and rate.base_rate is not None),
                    "pct_milli": to_milli(rate.percent_of_charges) if rate else None,
                    "ol_threshold_c": to_cents(rate.outlier_threshold) if rate else None,
                    "ol_pct_milli": to_milli(rate.outlier_percent) if rate else None,
                    "ol_mode": rate.outlier_mode if rate else None, "ol_claims": rate.outlier_claims if rate else None,
                    "lesser_of": bool(rate and rate.lesser_of),
                })
    return {
        "fac_terms": pa.Table.from_pylist(terms, schema=TERMS_SCHEMA),
        "fac_drg": pa.Table.from_pylist(drg, schema=DRG_SCHEMA),
        "fac_per_diem": pa.Table.from_pylist(per_diem, schema=PER_DIEM_SCHEMA),
        "fac_carve": pa.Table.from_pylist(carve, schema=CARVE_SCHEMA),
    }


def _detail_rows(sid: int, rate: Any, drg: list[dict[str, Any]], per_diem: list[dict[str, Any]],
                 carve: list[dict[str, Any]]) -> None:
    for code in rate.weights:
        drg.append({"seg_id": sid, "drg": code, "case_c": to_cents(rate.case_rate(code))})
    for priority, (_level, codes, ranges, amount) in enumerate(rate.per_diems):
        for lo, hi in [*((c, c) for c in codes), *ranges]:
            per_diem.append({"seg_id": sid, "priority": priority, "rev_lo": lo, "rev_hi": hi, "amount_c": to_cents(amount)})
    for rev, amount in rate.carve_outs.items():
        carve.append({"seg_id": sid, "revenue_code": rev, "amount_c": to_cents(amount)})


def register(con: Any, tables: dict[str, pa.Table]) -> None:
    for name, table in tables.items():
        con.register(name, table)


def facility_sql(claims_rel: str, lines_rel: str, tol: Tolerance) -> str:
    """The query pricing every claim of ``claims_rel`` (the fac_* tables registered)."""
    tob = "ltrim(coalesce(trim(f.type_of_bill), ''), '0')"
    status = classify_sql("exp_c", "act_c", tol)
    ol_applies = ("ol_threshold_c IS NOT NULL AND (ol_claims = 'all' OR (ol_claims = 'inpatient') = inpatient) "
                  "AND charge_c > ol_threshold_c")
    return f"""
WITH f0 AS (
    SELECT f.*,
        nullif(lpad(trim(f.drg_code), 3, '0'), '000') AS drg,
        CASE WHEN length({tob}) >= 2 THEN substr({tob}, 2, 1) = '1'
             ELSE coalesce(trim(f.drg_code), '') <> '' END AS inpatient
    FROM {claims_rel} f
),
f1 AS (
    SELECT *,
        CASE WHEN inpatient THEN coalesce(statement_to, statement_from, admission_date)
             ELSE coalesce(statement_from, statement_to, admission_date) END AS pricing_date,
        CASE WHEN coalesce(statement_from, admission_date) IS NULL OR statement_to IS NULL THEN 1
             ELSE greatest(datediff('day', coalesce(statement_from, admission_date), statement_to), 1) END AS covered_days,
        CAST(charge_amount * 100 AS BIGINT) AS charge_c,
        CAST(coalesce(patient_responsibility, 0) * 100 AS BIGINT) AS pr_c,
        CAST(actual_allowed * 100 AS BIGINT) AS act_c
    FROM f0
),
c AS (
    SELECT f1.*, t.seg_id, t.contract_id, t.product_line, t.segment, t.has_facility, t.has_drg, t.pct_milli,
        t.ol_threshold_c, t.ol_pct_milli, t.ol_mode, t.ol_claims, t.lesser_of
    FROM f1 LEFT JOIN fac_terms t
      ON t.payer_id = f1.payer_id AND t.filing_indicator = coalesce(f1.filing_indicator, '')
     AND f1.pricing_date BETWEEN t.seg_start AND t.seg_end
),
lc AS (
    SELECT l.claim_key, c.seg_id, lpad(trim(l.revenue_code), 4, '0') AS rev,
        CAST(l.charge_amount * 100 AS BIGINT) AS lcharge_c, CAST(coalesce(l.units, 1) * 1000 AS BIGINT) AS lunits_m
    FROM {lines_rel} l JOIN c USING (claim_key)
    WHERE c.seg_id IS NOT NULL AND l.revenue_code IS NOT NULL
),
cv AS (
    SELECT lc.claim_key, sum({_rhu('v.amount_c * lc.lunits_m', 1000)}) AS carve_c, sum(lc.lcharge_c) AS carved_c
    FROM lc JOIN fac_carve v ON v.seg_id = lc.seg_id AND v.revenue_code = lc.rev GROUP BY 1
),
pd AS (
    SELECT lc.claim_key, arg_min(p.amount_c, p.priority) AS pd_c
    FROM lc JOIN fac_per_diem p ON p.seg_id = lc.seg_id AND lc.rev BETWEEN p.rev_lo AND p.rev_hi GROUP BY 1
),
m AS (
    SELECT c.*, coalesce(cv.carve_c, 0) AS carve_c, coalesce(cv.carved_c, 0) AS carved_c, pd.pd_c, d.case_c AS case_c,
        CASE WHEN pricing_date IS NULL OR charge_c < 0 OR c.seg_id IS NULL OR NOT has_facility THEN NULL
             WHEN inpatient AND has_drg AND c.drg IS NOT NULL THEN CASE WHEN d.case_c IS NOT NULL THEN 'drg_case_rate' END
             WHEN inpatient AND pd.pd_c IS NOT NULL THEN 'per_diem'
             WHEN pct_milli IS NOT NULL THEN 'percent_of_charges' END AS method
    FROM c LEFT JOIN cv USING (claim_key) LEFT JOIN pd USING (claim_key)
    LEFT JOIN (SELECT seg_id AS d_seg, drg AS d_drg, case_c FROM fac_drg) d ON d.d_seg = c.seg_id AND d.d_drg = c.drg
),
a AS (
    SELECT *,
        CAST(CASE method WHEN 'drg_case_rate' THEN case_c WHEN 'per_diem' THEN pd_c * covered_days
             WHEN 'percent_of_charges' THEN {_rhu('greatest(charge_c - carved_c, 0) * pct_milli', 100000)} END
             + carve_c AS BIGINT) AS a1
    FROM m
),
o AS (
    SELECT *,
        CASE WHEN a1 IS NULL THEN NULL
             WHEN {ol_applies} AND ol_mode = 'all_charges' THEN {_rhu('charge_c * ol_pct_milli', 100000)}
             WHEN {ol_applies} THEN a1 + {_rhu('(charge_c - ol_threshold_c) * ol_pct_milli', 100000)}
             ELSE a1 END AS a2
    FROM a
),
priced AS (SELECT *, CASE WHEN lesser_of AND a2 IS NOT NULL THEN least(a2, charge_c) ELSE a2 END AS exp_c FROM o)
SELECT claim_key, contract_id, product_line, segment, 'facility' AS term, method, 'facility' AS kind,
    inpatient, covered_days, pricing_date, drg,
    CAST(exp_c * CAST(0.01 AS DECIMAL(3, 2)) AS DECIMAL(14, 2)) AS expected_allowed,
    CAST(CASE WHEN exp_c IS NOT NULL THEN greatest(exp_c - pr_c, 0) END * CAST(0.01 AS DECIMAL(3, 2)) AS DECIMAL(14, 2)) AS expected_paid,
    CASE WHEN denied THEN 'denied' WHEN exp_c IS NULL THEN 'not_priceable' ELSE {status} END AS status,
    CASE WHEN denied THEN NULL
         WHEN pricing_date IS NULL THEN 'the claim has no statement or admission date'
         WHEN charge_c < 0 THEN 'negative claim charge (a reversal?)'
         WHEN seg_id IS NULL THEN 'no contract covers payer ' || coalesce(payer_id, '?') || ' / filing '
              || coalesce(filing_indicator, '?') || ' on ' || CAST(pricing_date AS VARCHAR)
         WHEN NOT has_facility THEN contract_id || ' has no facility terms'
         WHEN inpatient AND has_drg AND drg IS NOT NULL AND case_c IS NULL
              THEN 'MS-DRG ' || drg || ' has no relative weight in the contract''s weights'
         WHEN exp_c IS NULL THEN 'no facility term covers this ' || CASE WHEN inpatient THEN 'inpatient' ELSE 'outpatient' END
              || ' claim (type of bill ' || coalesce(type_of_bill, '?') || ')'
    END AS reason,
    CAST((exp_c - act_c) * CAST(0.01 AS DECIMAL(3, 2)) AS DECIMAL(14, 2)) AS difference
FROM priced
"""
