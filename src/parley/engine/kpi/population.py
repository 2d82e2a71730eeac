"""Population: age bands, top diagnoses and chronic-condition prevalence, per payer.

Age = year of the as-of date - patient_birth_year (837 DMG, year only).  Chronic
conditions are grouped by ICD-10-CM prefix (:data:`CHRONIC`); prevalence =
distinct patients with any diagnosis (any position, any claim) in the group /
distinct patients of the payer.
"""

from __future__ import annotations

import duckdb

from parley.engine.kpi.base import KpiResult, ratio, rows

CHRONIC: dict[str, tuple[str, ...]] = {
    "diabetes": ("E08", "E09", "E10", "E11", "E13"),
    "hypertension": ("I10", "I11", "I12", "I13", "I15", "I16"),
    "chronic_kidney_disease": ("N18",),
    "copd": ("J44",),
    "heart_failure": ("I50",),
    "asthma": ("J45",),
    "depression": ("F32", "F33"),
    "hyperlipidemia": ("E78",),
    "obesity": ("E66",),
}

_BANDS = """CASE WHEN age < 18 THEN '0-17' WHEN age < 35 THEN '18-34' WHEN age < 50 THEN '35-49'
     WHEN age < 65 THEN '50-64' WHEN age < 75 THEN '65-74' WHEN age IS NULL THEN 'unknown' ELSE '75+' END"""

_DX = """SELECT kc.payer, kc.patient_key, d.code FROM diagnoses d JOIN claims c USING (file_id, claim_seq)
         JOIN kpi_claims kc ON kc.claim_id = c.claim_id"""


def age_bands(con: duckdb.DuckDBPyConnection) -> KpiResult:
    sql = f"""
WITH p AS (SELECT payer, patient_key, year((SELECT as_of FROM kpi_asof)) - max(patient_birth_year) AS age
           FROM kpi_claims WHERE patient_key IS NOT NULL GROUP BY 1, 2)
SELECT payer, {_BANDS} AS age_band, count(*) AS patients,
    {ratio("count(*)", "sum(count(*)) OVER (PARTITION BY payer)")} AS share
FROM p GROUP BY 1, 2 ORDER BY 1, 2"""
    return KpiResult("population", "age_bands", rows(con, sql),
                     {"age_band": "as-of year - birth year, banded", "patients": "distinct patients",
                      "share": "patients / patients of the payer"})


def chronic_prevalence(con: duckdb.DuckDBPyConnection) -> KpiResult:
    groups = " UNION ALL ".join(f"SELECT '{g}' AS condition, '{p}' AS prefix" for g, ps in CHRONIC.items() for p in ps)
    sql = f"""
WITH dx AS ({_DX}), g AS ({groups}),
tot AS (SELECT payer, count(DISTINCT patient_key) AS patients FROM kpi_claims GROUP BY 1),
hit AS (SELECT dx.payer, g.condition, count(DISTINCT dx.patient_key) AS patients_with_condition
        FROM dx JOIN g ON starts_with(dx.code, g.prefix) GROUP BY 1, 2)
SELECT hit.payer, condition, patients_with_condition, tot.patients,
    {ratio("patients_with_condition", "tot.patients")} AS prevalence
FROM hit JOIN tot USING (payer) ORDER BY payer, prevalence DESC"""
    defs = {"condition": "chronic group: " + "; ".join(f"{g} {'/'.join(p)}" for g, p in CHRONIC.items()),
            "prevalence": "distinct patients with a diagnosis in the group / distinct patients of the payer"}
    return KpiResult("population", "chronic_prevalence", rows(con, sql), defs)


def top_diagnoses(con: duckdb.DuckDBPyConnection, *, top: int = 10) -> KpiResult:
    sql = f"""
WITH g AS (SELECT payer, code, count(*) AS claim_diagnoses, count(DISTINCT patient_key) AS patients FROM ({_DX}) GROUP BY 1, 2)
SELECT * FROM g QUALIFY row_number() OVER (PARTITION BY payer ORDER BY patients DESC, code) <= {int(top)}
ORDER BY payer, patients DESC, code"""
    return KpiResult("population", "top_diagnoses", rows(con, sql),
                     {"claim_diagnoses": "diagnosis rows on billed claims", "patients": "distinct patients with the code"})
