"""Operations from the appointment extract (canonical table ``appointments``) and the claims.

Appointment columns (docs/tables.md, docs/kpi.md): appointment_id, appointment_date,
provider_npi, specialty, payer, payer_name, product_line, patient_key (keyed hash),
status (completed / no-show / cancelled / scheduled), patient_type (new / established),
visit_type, place_of_service, referral_source.

* no-show rate = no-shows / (completed + no-shows), cancellations and future
  scheduled slots excluded;
* billed visits = distinct (patient, service date) of billed claims at a place of
  service that is scheduled (:data:`SCHEDULED_POS`: office, telehealth, ASC), by
  service month and payer name - compared with completed visits (appointment
  patient keys come from the practice system and need not match claim keys, so
  the comparison is by counts);
* E/M level distribution: share of each level among 99202-99205 (new) and
  99211-99215 (established) lines, beside the benchmark table ``kpi_em_benchmark``
  (an ILLUSTRATIVE default, NOT a published statistic: no national distribution by
  specialty ships with Parley; the output metadata says so);
* referral rate = completed new-patient visits whose referral_source is a provider
  referral / completed new-patient visits with a known referral source (the 837
  readers do not capture the referring provider, NM1*DN, so claims cannot tell).
"""

from __future__ import annotations

import duckdb

from parley.engine.kpi.base import KpiResult, ratio, rows

#: places of service whose visits are booked as appointments
SCHEDULED_POS = ("02", "10", "11", "24")
SCHEDULED_POS_SQL = ", ".join(f"'{p}'" for p in SCHEDULED_POS)

#: Illustrative E/M level shares (NOT an official or published statistic).
EM_BENCHMARK_SOURCE = ("ILLUSTRATIVE placeholder shares, not a published national distribution for any specialty; "
                       "compare with your specialty's distribution from CMS Part B utilisation data before drawing conclusions")
EM_BENCHMARK = {
    "99202": 0.05, "99203": 0.40, "99204": 0.45, "99205": 0.10,
    "99211": 0.03, "99212": 0.07, "99213": 0.45, "99214": 0.40, "99215": 0.05,
}


def visits(con: duckdb.DuckDBPyConnection) -> KpiResult:
    sql = f"""
WITH a AS (SELECT strftime(CAST(appointment_date AS DATE), '%Y-%m') AS month, payer_name AS payer, status, patient_type FROM appointments),
g AS (SELECT month, payer, count(*) FILTER (status = 'completed') AS completed_visits,
        count(*) FILTER (status = 'no-show') AS no_shows, count(*) FILTER (status = 'cancelled') AS cancellations,
        {ratio("count(*) FILTER (status = 'no-show')", "count(*) FILTER (status IN ('completed', 'no-show'))")} AS no_show_rate,
        {ratio("count(*) FILTER (status = 'completed' AND patient_type = 'new')", "count(*) FILTER (status = 'completed')")} AS new_patient_share
      FROM a GROUP BY 1, 2),
b AS (SELECT strftime(kc.service_date, '%Y-%m') AS month, kc.payer,
             count(DISTINCT (kc.patient_key, kc.service_date)) AS billed_visits
      FROM kpi_claims kc WHERE kc.billed AND kc.place_of_service IN ({SCHEDULED_POS_SQL}) GROUP BY 1, 2)
SELECT g.*, coalesce(b.billed_visits, 0) AS billed_visits, {ratio("coalesce(b.billed_visits, 0)", "g.completed_visits")} AS billed_to_completed
FROM g LEFT JOIN b USING (month, payer) ORDER BY month, payer"""
    defs = {"completed_visits": "appointments with status completed", "no_shows": "status no-show",
            "no_show_rate": "no_shows / (completed + no_shows)", "new_patient_share": "completed visits of new patients / completed",
            "billed_visits": "distinct (patient, service date) of billed claims at a scheduled place of service (office 11, telehealth 02 / 10, ASC 24)",
            "billed_to_completed": "billed_visits / completed_visits (scheduled vs billed)"}
    return KpiResult("operations", "visits", rows(con, sql), defs)


REFERRAL_DEFS = {
    "new_patient_visits": "completed appointments of new patients",
    "with_referral_source": "those with a referral_source in the extract",
    "provider_referrals": "those whose referral_source is a provider referral ('provider referral', 'physician', 'referral')",
    "referral_rate": "provider_referrals / with_referral_source",
}

#: referral_source values (lower case) that mean "referred by another provider"
PROVIDER_REFERRAL = ("provider referral", "provider", "physician referral", "physician", "referral", "referred")


def referrals(con: duckdb.DuckDBPyConnection) -> KpiResult:
    known = ", ".join(f"'{v}'" for v in PROVIDER_REFERRAL)
    sql = f"""
WITH a AS (SELECT payer_name AS payer, lower(trim(CAST(referral_source AS VARCHAR))) AS src FROM appointments
           WHERE status = 'completed' AND patient_type = 'new')
SELECT payer, count(*) AS new_patient_visits, count(*) FILTER (src <> '') AS with_referral_source,
    count(*) FILTER (src IN ({known})) AS provider_referrals,
    {ratio(f"count(*) FILTER (src IN ({known}))", "count(*) FILTER (src <> '')")} AS referral_rate
FROM a GROUP BY 1 ORDER BY new_patient_visits DESC, 1"""
    return KpiResult("operations", "referrals", rows(con, sql), REFERRAL_DEFS,
                     notes=["from the appointment extract's referral_source; the claims carry no referring provider here"])


def em_levels(con: duckdb.DuckDBPyConnection) -> KpiResult:
    sql = f"""
WITH l AS (SELECT kc.payer, cl.procedure_code AS code, CASE WHEN cl.procedure_code <= '99205' THEN 'new' ELSE 'established' END AS kind
           FROM claim_lines cl JOIN claims c USING (file_id, claim_seq) JOIN kpi_claims kc ON kc.claim_id = c.claim_id
           WHERE cl.procedure_code BETWEEN '99202' AND '99205' OR cl.procedure_code BETWEEN '99211' AND '99215')
SELECT payer, kind, code, count(*) AS lines, {ratio("count(*)", "sum(count(*)) OVER (PARTITION BY payer, kind)")} AS share,
    any_value(b.benchmark_share) AS benchmark_share
FROM l LEFT JOIN kpi_em_benchmark b USING (code) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
    return KpiResult("operations", "em_levels", rows(con, sql),
                     {"share": "lines of the level / E/M lines of the same kind (new or established) for the payer",
                      "benchmark_share": "ILLUSTRATIVE share of the level (not a published national distribution)"},
                     assumptions={"em_benchmark": EM_BENCHMARK_SOURCE},
                     notes=["benchmark_share is illustrative, not a national statistic for the specialty"])
