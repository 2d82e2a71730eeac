"""Administrative burden: prior authorisations, denial rework, appeals, recoupments, cost to collect.

Needs the table ``kpi_prior_auth`` (contract_id, procedure_code): the contract's
prior-authorisation list, registered by the service.  Costs come from
:class:`~parley.engine.kpi.base.KpiParams` (settings with documented defaults).
"""

from __future__ import annotations

import duckdb

from parley.engine.kpi.base import KpiParams, KpiResult, ratio, rows

DEFINITIONS = {
    "claims": "billed or adjudicated claims of the payer",
    "prior_auths_required": "distinct (claim, code) pairs billed on 837 lines whose code is on the covering contract's prior-authorisation list",
    "prior_auths_per_100_claims": "prior_auths_required / claims x 100",
    "auth_staff_hours": "prior_auths_required x auth_minutes / 60",
    "auth_cost": "auth_staff_hours x staff_hourly_cost",
    "reworked_claims": "initially denied claims (each needs rework)",
    "rework_cost": "reworked professional claims x rework_cost_professional + institutional x rework_cost_institutional",
    "appeals": "initially denied claims adjudicated again later (resubmission or appeal), plus 837 replacement claims (CLM05-3 = 7) not counted there",
    "recoupments": "PLB WO (overpayment recovery) + 72 (authorized return) amounts taken back, positive = money taken",
    "forward_balance": "PLB FB amounts (forward balance offsets), positive = money held back",
    "collected": "net paid by the payer (sum of CLP04 over all adjudications, reversals included)",
    "delay_cost": "sum over paid claims of first paid amount x cost_of_money_annual_percent / 100 / 365 x days to pay",
    "cost_to_collect": "(rework_cost + auth_cost + delay_cost) / collected",
}


def burden(con: duckdb.DuckDBPyConnection, params: KpiParams) -> KpiResult:
    p = params
    sql = f"""
WITH pa AS (SELECT payer, sum(prior_auths) AS prior_auths_required FROM kpi_pa_claims GROUP BY 1),
plb AS (
    SELECT coalesce(pid.payer, r.payer_name, r.payer_id) AS payer,
        coalesce(sum(p.amount) FILTER (p.reason_code IN ('WO', '72')), 0) AS recoupments,
        coalesce(sum(p.amount) FILTER (p.reason_code = 'FB'), 0) AS forward_balance
    FROM provider_adjustments p JOIN remittances r USING (file_id, remittance_seq)
    LEFT JOIN kpi_payer_ids pid ON pid.payer_id = r.payer_id GROUP BY 1),
cl AS (
    SELECT payer, count(*) AS claims,
        count(*) FILTER (initially_denied) AS reworked_claims,
        count(*) FILTER (initially_denied AND claim_type = 'institutional') AS reworked_institutional,
        count(*) FILTER (initially_denied AND readjudications > 0)
          + count(*) FILTER (frequency_code = '7' AND NOT (initially_denied AND readjudications > 0)) AS appeals,
        sum(net_paid) AS collected,
        coalesce(sum(first_paid_amount * {p.cost_of_money_annual_percent} / 100 / 365
            * date_diff('day', submission_date, first_paid_date)) FILTER (first_paid_date IS NOT NULL AND submission_date IS NOT NULL), 0) AS delay_raw
    FROM kpi_claims GROUP BY 1)
SELECT cl.payer, cl.claims, coalesce(pa.prior_auths_required, 0) AS prior_auths_required,
    round(100.0 * coalesce(pa.prior_auths_required, 0) / cl.claims, 2) AS prior_auths_per_100_claims,
    round(coalesce(pa.prior_auths_required, 0) * {p.auth_minutes} / 60, 1) AS auth_staff_hours,
    CAST(round(coalesce(pa.prior_auths_required, 0) * {p.auth_minutes} / 60 * {p.staff_hourly_cost}, 2) AS DECIMAL(14, 2)) AS auth_cost,
    cl.reworked_claims,
    CAST((cl.reworked_claims - cl.reworked_institutional) * {p.rework_cost_professional}
         + cl.reworked_institutional * {p.rework_cost_institutional} AS DECIMAL(14, 2)) AS rework_cost,
    cl.appeals,
    CAST(coalesce(plb.recoupments, 0) AS DECIMAL(14, 2)) AS recoupments,
    CAST(coalesce(plb.forward_balance, 0) AS DECIMAL(14, 2)) AS forward_balance,
    cl.collected, CAST(round(cl.delay_raw, 2) AS DECIMAL(14, 2)) AS delay_cost
FROM cl LEFT JOIN pa USING (payer) LEFT JOIN plb USING (payer)"""
    final = f"""SELECT *, {ratio("auth_cost + rework_cost + delay_cost", "collected")} AS cost_to_collect
                FROM ({sql}) ORDER BY claims DESC, payer"""
    return KpiResult("burden", "administrative_burden", rows(con, final), DEFINITIONS, assumptions=p.as_dict(),
                     notes=["auth_minutes and staff_hourly_cost are assumptions; rework costs are industry estimates "
                            "(about $25 per practice claim, $118 per hospital appeal); change them with the kpi options"])
