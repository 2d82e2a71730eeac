"""Payment speed: days to pay, days in A/R and aging, prompt-pay compliance and interest.

Days to pay (per claim) = payment date (BPR16) of the first 835 adjudication paying
more than 0 - the 837 submission date (BHT04) of the claim's first submission,
joined on claim id.  Claims without an 837 or never paid are left out.

A/R as of the data's end date (latest 835 payment or 837 submission date, or
--as-of): a billed claim submitted on or before the as-of date is *open* unless,
on or before that date, an adjudication paid it (CLP04 > 0) or settled it without
a denial (payer paid 0, the balance is patient responsibility), and unless it is a
*final denial*: denied in its first adjudication (on or before the as-of date) and
never paid by any later adjudication in the data.  Final denials are written off
from A/R (reported apart as ``final_denied_balance``); a denial later overturned
stays open until the overturning payment.  Outstanding balance = billed charges
of open claims; days in A/R = outstanding balance / (billed charges submitted in
the 90 days ending on the as-of date / 90).  Encounters (837 BHT06 RP: care under
capitation reported to the plan, no payment expected) are never open A/R.

Prompt pay: the contract's prompt-pay days are counted from the payer's receipt
date (DTM*050 of the paying adjudication), else the 837 submission date, to the
first payment date.  Interest due on a late claim = first paid amount x contract
annual interest % / 100 / 365 x days late (simple daily).  Interest paid = PLB L6
amounts (negated: L6 is negative because it increases the payment).
"""

from __future__ import annotations

import duckdb

from parley.engine.kpi.base import CLAIM_DIMS_DEFAULT, KpiResult, dimension, ratio, rows

DIMS = CLAIM_DIMS_DEFAULT

DAYS_DEFS = {
    "paid_claims": "billed claims (837) paid in some adjudication",
    "mean_days_to_pay": "mean of days to pay",
    "median_days_to_pay": "median of days to pay (discrete: an observed value)",
    "p90_days_to_pay": "90th percentile of days to pay (discrete)",
    "max_days_to_pay": "longest days to pay",
    "share_paid_within_30_days": "paid claims with days to pay <= 30 / paid_claims",
    "days_to_pay": "first paying 835 payment date - first 837 submission date, per claim",
}


def days_to_pay(con: duckdb.DuckDBPyConnection, *, by: str = "payer") -> KpiResult:
    dim = dimension(by, DIMS)
    sql = f"""
WITH d AS (SELECT *, date_diff('day', submission_date, first_paid_date) AS days FROM kpi_claims
           WHERE billed AND first_paid_date IS NOT NULL AND submission_date IS NOT NULL)
SELECT {dim} AS "{by}", count(*) AS paid_claims, round(avg(days), 1) AS mean_days_to_pay,
    quantile_disc(days, 0.5) AS median_days_to_pay, quantile_disc(days, 0.9) AS p90_days_to_pay,
    max(days) AS max_days_to_pay, {ratio("count(*) FILTER (days <= 30)", "count(*)")} AS share_paid_within_30_days
FROM d GROUP BY 1 ORDER BY paid_claims DESC, 1"""
    return KpiResult("speed", f"days_to_pay_by_{by}", rows(con, sql), DAYS_DEFS)


def days_to_pay_distribution(con: duckdb.DuckDBPyConnection, *, by: str = "payer") -> KpiResult:
    dim = dimension(by, DIMS)
    sql = f"""
WITH d AS (SELECT *, date_diff('day', submission_date, first_paid_date) AS days FROM kpi_claims
           WHERE billed AND first_paid_date IS NOT NULL AND submission_date IS NOT NULL)
SELECT {dim} AS "{by}",
    CASE WHEN days <= 14 THEN '0-14' WHEN days <= 30 THEN '15-30' WHEN days <= 45 THEN '31-45'
         WHEN days <= 60 THEN '46-60' WHEN days <= 90 THEN '61-90' ELSE '90+' END AS days_bucket,
    count(*) AS paid_claims, {ratio("count(*)", f"sum(count(*)) OVER (PARTITION BY {dim})")} AS share
FROM d GROUP BY 1, 2 ORDER BY 1, min(days)"""
    defs = {"days_bucket": "days to pay band", "paid_claims": "paid billed claims in the band",
            "share": "paid_claims / paid claims of the group"}
    return KpiResult("speed", f"days_to_pay_distribution_by_{by}", rows(con, sql), defs)


AR_DEFS = {
    "as_of": "end date of the data (latest 835 payment or 837 submission date) unless given",
    "unpaid_claims": "open claims: billed on or before as_of, neither paid (CLP04 > 0) nor settled without denial "
                     "(paid 0, patient responsibility) by as_of, and not a final denial",
    "outstanding_balance": "billed charges of unpaid_claims (open A/R)",
    "awaiting_adjudication_balance": "part of outstanding_balance never adjudicated yet (no 835 by as_of)",
    "denied_unpaid_balance": "part of outstanding_balance denied by as_of but overturned (paid) later: denials being worked",
    "final_denied_claims": "claims denied by as_of and never paid in the data (final, unoverturned denials): NOT open A/R",
    "final_denied_balance": "billed charges of final_denied_claims (excluded from outstanding_balance)",
    "average_daily_charges": "billed charges of claims submitted in the 90 days ending on as_of / 90",
    "days_in_ar": "outstanding_balance / average_daily_charges",
    "ar_0_30": "outstanding balance aged 0-30 days since submission (likewise 31-60, 61-90, 91-120, over 120)",
    "share_ar_over_90": "balance aged over 90 days / outstanding_balance",
    "share_ar_over_120": "balance aged over 120 days / outstanding_balance",
}


def accounts_receivable(con: duckdb.DuckDBPyConnection, *, by: str = "payer") -> KpiResult:
    dim = dimension(by, ("payer", "product_line", "payer_product_line", "all"))
    sql = f"""
WITH s AS (SELECT *, date_diff('day', submission_date, (SELECT as_of FROM kpi_asof)) AS age,
                  initially_denied AND first_paid_date IS NULL
                      AND first_adjudication_date <= (SELECT as_of FROM kpi_asof) AS final_denied,
                  coalesce(closed_date <= (SELECT as_of FROM kpi_asof), false) AS closed
           FROM kpi_claims WHERE billed AND NOT is_encounter AND submission_date <= (SELECT as_of FROM kpi_asof)),
b AS (SELECT *, NOT closed AND NOT final_denied AS unpaid FROM s),
g AS (
    SELECT {dim} AS "{by}", any_value((SELECT as_of FROM kpi_asof)) AS as_of,
        count(*) FILTER (unpaid) AS unpaid_claims,
        coalesce(sum(charge_amount) FILTER (unpaid), 0) AS outstanding_balance,
        coalesce(sum(charge_amount) FILTER (unpaid AND (first_adjudication_date IS NULL
                 OR first_adjudication_date > (SELECT as_of FROM kpi_asof))), 0) AS awaiting_adjudication_balance,
        count(*) FILTER (final_denied) AS final_denied_claims,
        coalesce(sum(charge_amount) FILTER (final_denied), 0) AS final_denied_balance,
        round(CAST(coalesce(sum(charge_amount) FILTER (age < 90), 0) AS DOUBLE) / 90, 2) AS average_daily_charges,
        coalesce(sum(charge_amount) FILTER (unpaid AND age <= 30), 0) AS ar_0_30,
        coalesce(sum(charge_amount) FILTER (unpaid AND age BETWEEN 31 AND 60), 0) AS ar_31_60,
        coalesce(sum(charge_amount) FILTER (unpaid AND age BETWEEN 61 AND 90), 0) AS ar_61_90,
        coalesce(sum(charge_amount) FILTER (unpaid AND age BETWEEN 91 AND 120), 0) AS ar_91_120,
        coalesce(sum(charge_amount) FILTER (unpaid AND age > 120), 0) AS ar_over_120
    FROM b GROUP BY 1)
SELECT "{by}", as_of, unpaid_claims, outstanding_balance, awaiting_adjudication_balance,
    outstanding_balance - awaiting_adjudication_balance AS denied_unpaid_balance, final_denied_claims, final_denied_balance,
    average_daily_charges,
    round(CAST(outstanding_balance AS DOUBLE) / nullif(average_daily_charges, 0), 1) AS days_in_ar,
    ar_0_30, ar_31_60, ar_61_90, ar_91_120, ar_over_120,
    {ratio("ar_91_120 + ar_over_120", "outstanding_balance")} AS share_ar_over_90,
    {ratio("ar_over_120", "outstanding_balance")} AS share_ar_over_120
FROM g ORDER BY outstanding_balance DESC, 1"""
    return KpiResult("speed", f"accounts_receivable_by_{by}", rows(con, sql), AR_DEFS,
                     notes=["days in A/R is over billed charges (gross A/R); 'age' = as_of - 837 submission date",
                            "encounters (837 BHT06 RP: capitated care reported, not billed for payment) are not A/R",
                            "final (never overturned) denials are written off, not open A/R"])


PROMPT_DEFS = {
    "contract_id": "the contract covering the claims (payer id + filing indicator + service date)",
    "prompt_pay_days": "contract prompt-pay days",
    "paid_claims_with_terms": "paid claims under a contract with prompt-pay terms",
    "late_claims": "claims paid after prompt_pay_days (from payer receipt DTM*050, else 837 submission)",
    "prompt_pay_compliance": "1 - late_claims / paid_claims_with_terms",
    "interest_due": "sum over late claims of first paid amount x contract annual interest % / 100 / 365 x days late",
    "interest_paid": "PLB L6 interest paid (sign flipped so a payment is positive), attributed to a contract through the PLB reference "
                     "(= claim id or payer claim number); unattributed interest of a payer with one contract goes to it, "
                     "else to a row with no contract",
    "interest_shortfall": "interest_due - interest_paid (positive = owed to us)",
}


def prompt_pay(con: duckdb.DuckDBPyConnection) -> KpiResult:
    sql = """
WITH c AS (
    SELECT payer, contract_id, prompt_pay_days, interest_percent_annual, first_paid_amount,
        date_diff('day', coalesce(paid_received_date, submission_date), first_paid_date) - prompt_pay_days AS days_late
    FROM kpi_claims WHERE prompt_pay_days IS NOT NULL AND first_paid_date IS NOT NULL
        AND coalesce(paid_received_date, submission_date) IS NOT NULL),
g AS (
    SELECT payer, contract_id, any_value(prompt_pay_days) AS prompt_pay_days,
        any_value(interest_percent_annual) AS interest_percent_annual,
        count(*) AS paid_claims_with_terms, count(*) FILTER (days_late > 0) AS late_claims,
        round(1 - CAST(count(*) FILTER (days_late > 0) AS DOUBLE) / count(*), 4) AS prompt_pay_compliance,
        CAST(coalesce(sum(round(first_paid_amount * coalesce(interest_percent_annual, 0) / 100 / 365 * days_late, 2))
                      FILTER (days_late > 0), 0) AS DECIMAL(14, 2)) AS interest_due
    FROM c GROUP BY payer, contract_id),
l6 AS (SELECT p.file_id, p.remittance_seq, p.reference, p.amount FROM provider_adjustments p WHERE p.reason_code = 'L6'),
refs AS (
    SELECT ref, claim_id FROM (SELECT claim_id AS ref, claim_id FROM kpi_claims WHERE claim_id IN (SELECT reference FROM l6)
                               UNION ALL SELECT payer_claim_number, claim_id FROM kpi_remits
                               WHERE payer_claim_number IN (SELECT reference FROM l6))
    QUALIFY row_number() OVER (PARTITION BY ref ORDER BY ref = claim_id DESC, claim_id) = 1),
i AS (
    SELECT coalesce(pid.payer, r.payer_name, r.payer_id) AS payer, kc.contract_id, CAST(-sum(p.amount) AS DECIMAL(14, 2)) AS paid
    FROM l6 p JOIN remittances r USING (file_id, remittance_seq)
    LEFT JOIN kpi_payer_ids pid ON pid.payer_id = r.payer_id
    LEFT JOIN refs x ON x.ref = p.reference LEFT JOIN kpi_claims kc ON kc.claim_id = x.claim_id
    GROUP BY 1, 2),
nc AS (SELECT payer, count(*) AS contracts FROM g GROUP BY 1),
rows_ AS (
    SELECT g.payer, g.contract_id, g.prompt_pay_days, g.interest_percent_annual, g.paid_claims_with_terms, g.late_claims,
        g.prompt_pay_compliance, g.interest_due,
        coalesce((SELECT sum(paid) FROM i WHERE i.payer = g.payer
                  AND (i.contract_id = g.contract_id OR (i.contract_id IS NULL AND nc.contracts = 1))), 0) AS interest_paid
    FROM g JOIN nc USING (payer)
    UNION ALL
    SELECT i.payer, NULL, NULL, NULL, 0, 0, NULL, 0, i.paid
    FROM i JOIN nc USING (payer) WHERE i.contract_id IS NULL AND nc.contracts > 1)
SELECT *, CAST(interest_due - interest_paid AS DECIMAL(14, 2)) AS interest_shortfall
FROM rows_ ORDER BY late_claims DESC, payer, contract_id NULLS LAST"""
    return KpiResult("speed", "prompt_pay", rows(con, sql), PROMPT_DEFS,
                     notes=["interest per claim is rounded to the cent before summing"])
