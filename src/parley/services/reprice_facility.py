"""Facility (institutional) claims in ``parley reprice``: the inputs, the claim-level pass, the
claim-level rows of the repriced dataset and their explanation (see docs/contracts.md,
"Facility terms").
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import duckdb

from parley.domain.contracts import Contract
from parley.domain.pricing_facility import FacilityClaim, FacilityLine, allocate, expected_facility
from parley.engine.facility import compile_facility, facility_sql
from parley.engine.facility import register as register_facility
from parley.engine.reprice import Tolerance

# Facility (institutional) claims are priced per claim (parley.domain.pricing_facility): a remitted
# claim is institutional when its 837 says so (837I), else when the 835 carries a DRG (CLP11) or
# revenue codes (SVC04, or SVC01 qualifier NU).  Billed (837) values are the truth, the 835 fills gaps.
_FAC_REMIT_SQL = """
CREATE OR REPLACE TEMP TABLE fac_remit AS
WITH bc AS ({latest}),
rl AS (  -- remitted claims with a revenue-code line (filtered first: a scan, not a group of every line)
    SELECT DISTINCT file_id, claim_seq, true AS has_rev
    FROM remit_lines WHERE revenue_code IS NOT NULL OR procedure_qualifier = 'NU'
)
SELECT rc.file_id || ':' || rc.claim_seq AS claim_key, rc.file_id, rc.claim_seq, rc.claim_id,
    coalesce(b_payer_id, rc.payer_id) AS payer_id, rc.payer_name, coalesce(b_filing, rc.filing_indicator) AS filing_indicator,
    rc.payment_date, rc.status_code AS claim_status,
    coalesce(type_of_bill, rc.facility_code || coalesce(rc.frequency_code, '')) AS type_of_bill,
    coalesce(nullif(trim(b_drg), ''), nullif(trim(rc.drg_code), '')) AS drg_code,
    nullif(trim(rc.drg_code), '') AS paid_drg_code,
    coalesce(b_from, rc.service_date_from) AS statement_from, coalesce(b_to, rc.service_date_to) AS statement_to,
    admission_date,
    CAST(coalesce(b_charge, rc.charge_amount) AS DECIMAL(14, 2)) AS charge_amount,
    CAST(coalesce(rc.patient_responsibility, 0) AS DECIMAL(14, 2)) AS patient_responsibility,
    CAST(coalesce(rc.paid_amount, 0) + coalesce(rc.patient_responsibility, 0) AS DECIMAL(14, 2)) AS actual_allowed,
    rc.paid_amount,
    (rc.status_code = '4' OR (coalesce(rc.paid_amount, 0) = 0 AND coalesce(rc.patient_responsibility, 0) = 0)) AS denied,
    b_file_id, b_claim_seq, b_file_id IS NOT NULL AS has_837,
    (nullif(trim(b_drg), '') IS NOT NULL AND nullif(trim(rc.drg_code), '') IS NOT NULL
     AND lpad(trim(b_drg), 3, '0') <> lpad(trim(rc.drg_code), 3, '0')) AS recoded
FROM {source}
LEFT JOIN rl ON rl.file_id = rc.file_id AND rl.claim_seq = rc.claim_seq
WHERE NOT coalesce(rc.is_reversal, false) {remit_filter}
  AND CASE WHEN claim_type IS NOT NULL THEN claim_type = 'institutional'
           ELSE nullif(trim(rc.drg_code), '') IS NOT NULL OR coalesce(rl.has_rev, false) END
"""

# The 837 claim's columns are named apart from the remit's (b_*, claim_type, type_of_bill,
# admission_date), so the query reads them unqualified from either source: the remitted claims
# joined here with the latest 837 per claim id, or a table already holding both (parley reprice).
_JOIN_LATEST = "remit_claims rc LEFT JOIN bc ON bc.claim_id = rc.claim_id"

# The latest 837 submission of each claim id (the billed truth), shared with the professional inputs.
LATEST_837_SQL = """
SELECT file_id AS b_file_id, claim_seq AS b_claim_seq, claim_id, claim_type, type_of_bill, drg_code AS b_drg,
       service_date_from AS b_from, service_date_to AS b_to, admission_date, charge_amount AS b_charge,
       payer_id AS b_payer_id, filing_indicator AS b_filing, place_of_service AS claim_pos
FROM claims {claim_filter}
QUALIFY row_number() OVER (PARTITION BY claim_id ORDER BY submission_date DESC, file_id DESC, claim_seq DESC) = 1
"""

_FAC_LINES_SQL = """
CREATE OR REPLACE TEMP TABLE fac_lines AS
SELECT f.claim_key, cl.line_number, cl.revenue_code, cl.procedure_code, CAST(cl.charge_amount AS DECIMAL(14, 2)) AS charge_amount,
    CAST(coalesce(cl.units, 1) AS DECIMAL(12, 3)) AS units
FROM fac_remit f JOIN claim_lines cl ON cl.file_id = f.b_file_id AND cl.claim_seq = f.b_claim_seq
UNION ALL
SELECT f.claim_key, rl.line_number,
    coalesce(rl.revenue_code, CASE WHEN rl.procedure_qualifier = 'NU' THEN rl.procedure_code END) AS revenue_code,
    CASE WHEN rl.procedure_qualifier <> 'NU' THEN rl.procedure_code END AS procedure_code,
    CAST(rl.charge_amount AS DECIMAL(14, 2)), CAST(coalesce(rl.units, 1) AS DECIMAL(12, 3))
FROM fac_remit f JOIN remit_lines rl ON rl.file_id = f.file_id AND rl.claim_seq = f.claim_seq
WHERE f.b_file_id IS NULL
"""

FAC_FINAL_SQL = """
SELECT f.claim_key || ':claim' AS line_key, f.claim_key, 0 AS line_number, f.payer_id, f.filing_indicator,
    p.pricing_date AS service_date, f.charge_amount, f.patient_responsibility, f.actual_allowed, f.paid_amount, f.denied,
    p.contract_id, p.product_line, p.segment, p.term, p.method, p.kind, p.expected_allowed, p.expected_paid, p.status,
    p.reason, p.difference, f.file_id, f.claim_seq, f.claim_id, f.payer_name, f.payment_date, f.claim_status,
    f.paid_drg_code AS paid_code, f.recoded, f.has_837, m.source_path AS remit_file,
    q.expected_allowed AS expected_allowed_paid_code, q.status AS status_paid_code,
    CASE WHEN f.recoded AND p.status NOT IN ('denied') THEN
            CASE WHEN q.status = 'underpaid' THEN 'underpaid' WHEN q.status = 'overpaid' THEN 'overpaid'
                 WHEN p.status = 'not_priceable' THEN 'not_priceable' ELSE 'recoded' END
         ELSE p.status END AS final_status,
    CASE WHEN f.recoded THEN greatest(coalesce(p.expected_allowed - q.expected_allowed, 0), 0) ELSE 0 END AS recode_amount,
    CASE WHEN f.recoded AND q.status = 'underpaid' THEN q.difference
         WHEN NOT f.recoded AND p.status = 'underpaid' THEN p.difference ELSE 0 END AS underpaid_amount,
    CASE WHEN f.recoded AND q.status = 'overpaid' THEN -q.difference
         WHEN NOT f.recoded AND p.status = 'overpaid' THEN -p.difference ELSE 0 END AS overpaid_amount,
    NOT EXISTS (SELECT 1 FROM remit_claims later WHERE later.claim_id = f.claim_id
                AND (later.payment_date > f.payment_date
                     OR (later.payment_date = f.payment_date AND later.is_reversal))) AS is_final,
    'claim' AS pricing_level, f.type_of_bill, f.drg_code, f.paid_drg_code, p.covered_days, p.inpatient,
    f.statement_from, f.statement_to, f.admission_date
FROM fac_remit f
JOIN priced_facility p USING (claim_key)
LEFT JOIN priced_facility_paid_code q USING (claim_key)
LEFT JOIN manifest m ON m.file_id = f.file_id
"""


def facility_inputs(con: duckdb.DuckDBPyConnection, claim_id: str | None = None, *, joined: str | None = None) -> int:
    """Create fac_remit / fac_lines (optionally for one claim id); returns the number of facility claims.

    ``joined``: a relation of the remitted claims already joined with their latest 837 claim
    (the columns of :data:`LATEST_837_SQL`; parley reprice builds it once for both the facility
    and the professional inputs)."""
    cf, rf = ("WHERE claim_id = $claim", "AND rc.claim_id = $claim") if claim_id is not None else ("", "")
    source = f"{joined} rc" if joined else _JOIN_LATEST
    sql = _FAC_REMIT_SQL.format(latest=LATEST_837_SQL.format(claim_filter=cf), remit_filter=rf, source=source)
    con.execute(sql, {"claim": claim_id}) if claim_id is not None else con.execute(sql)
    con.execute(_FAC_LINES_SQL)
    row = con.execute("SELECT count(*) FROM fac_remit").fetchone()
    return int(row[0]) if row else 0


def price_facility(con: duckdb.DuckDBPyConnection, contracts: list[Contract], tol: Tolerance, until: dt.date) -> None:
    """Price every facility claim (billed DRG) and, for DRG recodes, again at the payer's DRG."""
    keys = con.execute("SELECT DISTINCT payer_id, coalesce(filing_indicator, '') FROM fac_remit WHERE payer_id IS NOT NULL").fetchall()
    register_facility(con, compile_facility(contracts, {(k[0], k[1]) for k in keys}, until=until))
    con.execute(f"CREATE OR REPLACE TEMP TABLE priced_facility AS {facility_sql('fac_remit', 'fac_lines', tol)}")
    con.execute("CREATE OR REPLACE TEMP VIEW fac_remit_paid AS SELECT * EXCLUDE (drg_code), paid_drg_code AS drg_code "
                "FROM fac_remit WHERE recoded")
    con.execute(f"CREATE OR REPLACE TEMP TABLE priced_facility_paid_code AS {facility_sql('fac_remit_paid', 'fac_lines', tol)}")


def facility_claim(r: dict[str, Any], lines: list[dict[str, Any]], *, drg: str | None = None) -> FacilityClaim:
    return FacilityClaim(
        claim_key=r["claim_key"], charge_amount=r["charge_amount"], type_of_bill=r["type_of_bill"],
        drg_code=drg if drg is not None else r["drg_code"], statement_from=r["statement_from"],
        statement_to=r["statement_to"], admission_date=r["admission_date"],
        patient_responsibility=r["patient_responsibility"] or Decimal(0),
        lines=tuple(FacilityLine(ln["revenue_code"], ln["charge_amount"] or Decimal(0), ln["units"] or Decimal(1),
                                 ln["line_number"] or 0) for ln in lines),
    )


def explain_facility(r: dict[str, Any], lines: list[dict[str, Any]], contract: Contract | None) -> list[dict[str, Any]]:
    """The claim-level derivation, then each line with its allocation of the claim's expected allowed."""
    from parley.services.reprice import explain_row

    e = expected_facility(facility_claim(r, lines), contract) if contract else None
    steps = e.steps if e else [r["reason"] or "no contract covers this claim"]
    if r["recoded"] and contract:
        q = expected_facility(facility_claim(r, lines, drg=r["paid_drg_code"]), contract)
        steps = [*steps, f"the payer paid MS-DRG {r['paid_drg_code']} (billed {r['drg_code']}): "
                         f"expected ${q.expected_allowed} at the payer's DRG"]
    label = f"MS-DRG {r['drg_code']}" if r["drg_code"] else f"TOB {r['type_of_bill'] or '?'}"
    out = [{**explain_row(r), "code": label, "level": "claim", "scalar_expected_allowed": e.expected_allowed if e else None,
            "derivation": steps}]
    shares = allocate(r["expected_allowed"], [ln["charge_amount"] or Decimal(0) for ln in lines]) \
        if r["expected_allowed"] is not None and lines else [None] * len(lines)
    for ln, share in zip(lines, shares, strict=True):
        out.append({
            "claim_id": r["claim_id"], "remit_file": r["remit_file"], "payment_date": r["payment_date"],
            "line_number": ln["line_number"], "code": ln["procedure_code"] or f"rev {ln['revenue_code']}",
            "paid_code": None, "status": "claim-level", "expected_allowed": share, "actual_allowed": None,
            "expected_paid": None, "paid": None, "difference": None, "recode_amount": None, "reason": None,
            "level": "line", "scalar_expected_allowed": share, "revenue_code": ln["revenue_code"],
            "charge": ln["charge_amount"],
            "derivation": [f"allocation of the claim's expected allowed ${r['expected_allowed']} by line charge "
                           f"${ln['charge_amount']}: ${share}"] if share is not None else ["the claim is not priced"],
        })
    return out
