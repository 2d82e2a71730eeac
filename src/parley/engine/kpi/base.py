"""Shared pieces of the KPI engine: parameters, the result shape and the helper tables.

:func:`prepare` builds, once per connection, the set-based helper tables every
family reads:

``kpi_contract_map``  (registered by the caller) one row per contract x payer id x
                      filing indicator: contract_id, payer_id, filing_indicator (NULL =
                      any), effective, expires, product_line, prompt_pay_days,
                      interest_percent_annual, timely_filing_days.
``kpi_carc``          (registered by the caller) refdata CARC list: code, category,
                      category_label, recoverable.
``kpi_remits``        non-reversal 835 claim adjudications, ranked per claim id by
                      payment date (``rn`` = 1 first, ``rn_desc`` = 1 last), with ``denied``.
``kpi_claims``        one row per claim id (837 first submission date, latest attributes,
                      else the remit's), with payer, product line, contract and the
                      first / last / paying adjudication.
``kpi_payer_ids``     every payer id seen (837 NM1*PR09 and 835 payer ids, which often
                      differ) -> the payer name used in every table (``payer``).
``kpi_lines``         remitted lines of the non-reversal adjudications with the claim's
                      payer, product line, first / last flags, denial flag, allowed
                      amount and primary CARC (largest non-PR adjustment).
``kpi_line_cube``     kpi_lines summed (lines, charge, allowed, paid, units) by payer,
                      product line, month, code, primary CARC (denied lines only), first /
                      last / denied flags, allowed > 0, sign of units, service year,
                      pricing modifier (26 / TC) and place of service: every line-level
                      roll-up (denial rates, mix, Medicare value) reads this small table.
``kpi_pa_claims``     per claim, the distinct 837 codes on its contract's prior-auth list.
``kpi_meta``          the latest 835 payment and 837 submission dates (default as-of).

The fact tables are persisted per workspace state (:func:`facts`), so a second
run over unchanged data only reads them.

Product line (documented mapping): the product line of the contract that
covers the claim (payer id + claim filing indicator, specific indicator beats
"any", service date within the contract dates); without a contract, the X12
claim filing indicator (SBR09 / CLP06) mapped by :data:`FILING_PRODUCT_LINE`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

#: X12 claim filing indicator -> product line, used when no contract covers the claim.
FILING_PRODUCT_LINE: dict[str, str] = {
    "12": "Commercial PPO", "13": "Commercial POS", "14": "Commercial EPO", "15": "Commercial Indemnity",
    "HM": "Commercial HMO", "BL": "Commercial (Blue)", "CI": "Commercial", "16": "Medicare Advantage HMO",
    "MA": "Medicare FFS (Part A)", "MB": "Medicare FFS (Part B)", "MC": "Medicaid", "CH": "Tricare",
    "VA": "Veterans Affairs", "WC": "Workers' compensation", "AM": "Automobile medical", "FI": "Federal employees",
    "11": "Other non-federal", "OF": "Other federal", "ZZ": "Other",
}


@dataclass(frozen=True)
class KpiParams:
    """The assumptions behind the burden and score metrics (all settings with defaults).

    * ``auth_minutes`` 20: staff minutes per prior authorisation (assumption; published
      surveys report 12-20+ minutes of staff time per request - replace with your own).
    * ``staff_hourly_cost`` 30: loaded staff cost per hour (assumption).
    * ``rework_cost_professional`` 25.00: cost to rework one denied practice claim
      (industry estimate, DOMAIN.md "Metrics": about $25 per practice claim).
    * ``rework_cost_institutional`` 118.00: cost of one hospital appeal (about $118).
    * ``cost_of_money_annual_percent`` 5: annual rate for the delay cost of money.
    * ``as_of``: end of the data (default: the latest 835 payment or 837 submission date).
    """

    auth_minutes: Decimal = Decimal("20")
    staff_hourly_cost: Decimal = Decimal("30")
    rework_cost_professional: Decimal = Decimal("25.00")
    rework_cost_institutional: Decimal = Decimal("118.00")
    cost_of_money_annual_percent: Decimal = Decimal("5")
    as_of: dt.date | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items()}


@dataclass
class KpiResult:
    """One metric table: rows, the definition of each metric column, assumptions and notes."""

    family: str
    name: str
    rows: list[dict[str, Any]]
    definitions: dict[str, str]
    assumptions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def metadata(self) -> dict[str, Any]:
        return {"family": self.family, "metric": self.name, "definitions": self.definitions,
                "assumptions": self.assumptions, "notes": self.notes}

    def as_dict(self) -> dict[str, Any]:
        return {"metadata": self.metadata(), "rows": self.rows}


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


#: dimensions every family can group by (SQL over kpi_claims / kpi_lines columns)
DIMENSIONS = {
    "payer": "payer",
    "product_line": "product_line",
    "month": "month",
    "payer_product_line": "payer || ' / ' || product_line",
    "all": "'all'",
}


def dimension(by: str, allowed: tuple[str, ...] = tuple(DIMENSIONS)) -> str:
    from parley.errors import InputError

    if by not in allowed:
        raise InputError(f"--by {by!r}: choose one of {', '.join(allowed)}")
    return DIMENSIONS.get(by, by)


_FILING_CASE = "CASE j.filing_indicator " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in FILING_PRODUCT_LINE.items()).replace(
    "Workers' compensation", "Workers'' compensation") + " ELSE 'Other / unknown' END"

_REMITS_SQL = """
CREATE OR REPLACE TEMP TABLE kpi_remits AS
SELECT rc.*,
    (status_code = '4' OR (paid_amount = 0 AND coalesce(patient_responsibility, 0) = 0)) AS denied,
    row_number() OVER (PARTITION BY claim_id ORDER BY payment_date, file_id, claim_seq) AS rn,
    row_number() OVER (PARTITION BY claim_id ORDER BY payment_date DESC, file_id DESC, claim_seq DESC) AS rn_desc
FROM remit_claims rc WHERE NOT coalesce(is_reversal, false) AND claim_id IS NOT NULL
"""

_CLAIMS_SQL = """
CREATE OR REPLACE TEMP TABLE kpi_claims AS
WITH billed AS (
    SELECT claim_id, min(submission_date) OVER (PARTITION BY claim_id) AS submission_date,
        count(*) OVER (PARTITION BY claim_id) AS submissions,
        claim_type, charge_amount, place_of_service, payer_id, payer_name, filing_indicator, patient_key,
        patient_birth_year, service_date_from, prior_authorization, frequency_code,
        coalesce(is_encounter, false) AS is_encounter
    FROM claims
    QUALIFY row_number() OVER (PARTITION BY claim_id ORDER BY submission_date DESC, file_id DESC, claim_seq DESC) = 1
),
adj AS (
    SELECT claim_id,
        count(*) AS adjudications,
        any_value(payer_id) FILTER (rn = 1) AS r_payer_id, any_value(payer_name) FILTER (rn = 1) AS r_payer_name,
        any_value(filing_indicator) FILTER (rn = 1) AS r_fi, any_value(charge_amount) FILTER (rn = 1) AS r_charge,
        any_value(patient_key) FILTER (rn = 1) AS r_patient, any_value(service_date_from) FILTER (rn = 1) AS r_service,
        any_value(payment_date) FILTER (rn = 1) AS first_adjudication_date,
        bool_or(denied) FILTER (rn = 1) AS initially_denied,
        bool_or(denied) FILTER (rn_desc = 1) AS finally_denied,
        min(payment_date) FILTER (paid_amount > 0) AS first_paid_date,
        min(received_date) FILTER (paid_amount > 0) AS paid_received_date,
        min(payment_date) FILTER (paid_amount > 0 OR NOT denied) AS closed_date,
        max(payment_date) AS last_adjudication_date,
        arg_min(paid_amount, payment_date) FILTER (paid_amount > 0) AS first_paid_amount,
        count(*) FILTER (rn > 1) AS readjudications
    FROM kpi_remits GROUP BY claim_id
),
net AS (SELECT claim_id, sum(paid_amount) AS net_paid FROM remit_claims WHERE claim_id IS NOT NULL GROUP BY claim_id),
j AS (
    SELECT coalesce(b.claim_id, a.claim_id) AS claim_id, b.claim_id IS NOT NULL AS billed,
        b.submission_date, coalesce(b.submissions, 0) AS submissions, coalesce(b.claim_type,
            CASE WHEN a.claim_id IS NOT NULL THEN 'professional' END) AS claim_type,
        coalesce(b.charge_amount, a.r_charge) AS charge_amount, b.place_of_service,
        coalesce(b.payer_id, a.r_payer_id) AS payer_id,
        coalesce(b.payer_name, a.r_payer_name, b.payer_id, a.r_payer_id, 'unknown') AS payer,
        coalesce(b.filing_indicator, a.r_fi) AS filing_indicator,
        coalesce(b.patient_key, a.r_patient) AS patient_key, b.patient_birth_year,
        coalesce(b.service_date_from, a.r_service) AS service_date, b.prior_authorization, b.frequency_code,
        coalesce(b.is_encounter, false) AS is_encounter,
        coalesce(a.adjudications, 0) AS adjudications, a.first_adjudication_date,
        coalesce(a.initially_denied, false) AS initially_denied, coalesce(a.finally_denied, false) AS finally_denied,
        a.first_paid_date, a.paid_received_date, a.closed_date, a.last_adjudication_date, a.first_paid_amount, coalesce(a.readjudications, 0) AS readjudications,
        coalesce(n.net_paid, 0) AS net_paid
    FROM billed b FULL JOIN adj a ON a.claim_id = b.claim_id
    LEFT JOIN net n ON n.claim_id = coalesce(b.claim_id, a.claim_id)
),
c AS (
    SELECT j.claim_id, m.contract_id, m.product_line, m.prompt_pay_days, m.interest_percent_annual, m.timely_filing_days
    FROM j JOIN kpi_contract_map m ON m.payer_id = j.payer_id
        AND (m.filing_indicator IS NULL OR m.filing_indicator = j.filing_indicator)
        AND (j.service_date IS NULL OR (j.service_date >= m.effective AND (m.expires IS NULL OR j.service_date <= m.expires)))
    QUALIFY row_number() OVER (PARTITION BY j.claim_id ORDER BY m.filing_indicator IS NULL, m.effective DESC, m.contract_id) = 1
)
SELECT j.*, c.contract_id, coalesce(c.product_line, {filing}) AS product_line,
    c.prompt_pay_days, c.interest_percent_annual, c.timely_filing_days,
    strftime(coalesce(j.first_adjudication_date, j.submission_date, j.service_date), '%Y-%m') AS month
FROM j LEFT JOIN c USING (claim_id)
"""

_LINES_SQL = """
CREATE OR REPLACE TEMP TABLE kpi_lines AS
WITH adj AS (
    SELECT a.file_id, a.line_seq, sum(a.amount) FILTER (a.group_code = 'PR') AS pr,
        arg_max(a.reason_code, a.amount) FILTER (a.group_code <> 'PR') AS primary_carc,
        arg_max(a.reason_code, a.amount) FILTER (a.group_code = 'PR') AS pr_carc,
        sum(a.amount) FILTER (a.group_code <> 'PR') AS non_pr_adjustment
    FROM adjustments a WHERE a.level = 'line' GROUP BY ALL
),
cadj AS (
    SELECT file_id, claim_seq, arg_max(reason_code, amount) FILTER (group_code <> 'PR') AS claim_carc
    FROM adjustments WHERE level = 'claim' GROUP BY ALL
)
SELECT rl.file_id, rl.line_seq, r.claim_id, r.rn, r.rn_desc, r.rn = 1 AS is_first, r.rn_desc = 1 AS is_last,
    r.payment_date, kc.payer, kc.payer_id, kc.place_of_service, kc.product_line, kc.contract_id, kc.claim_type, kc.patient_key,
    kc.month,
    coalesce(rl.submitted_procedure_code, rl.procedure_code) AS procedure_code, rl.modifier_1, rl.modifier_2,
    coalesce(rl.service_date_from, r.service_date_from) AS service_date,
    coalesce(rl.units, 1) AS units, rl.charge_amount, rl.paid_amount,
    CAST(coalesce(rl.allowed_amount, rl.paid_amount + coalesce(adj.pr, 0)) AS DECIMAL(14, 2)) AS allowed_amount,
    (r.status_code = '4' OR (rl.paid_amount = 0 AND coalesce(rl.allowed_amount, 0) = 0 AND coalesce(adj.pr, 0) = 0)) AS denied,
    coalesce(adj.primary_carc, cadj.claim_carc, adj.pr_carc) AS primary_carc,
    coalesce(adj.non_pr_adjustment, 0) AS non_pr_adjustment
FROM remit_lines rl
JOIN kpi_remits r ON r.file_id = rl.file_id AND r.claim_seq = rl.claim_seq
JOIN kpi_claims kc ON kc.claim_id = r.claim_id
LEFT JOIN adj ON adj.file_id = rl.file_id AND adj.line_seq = rl.line_seq
LEFT JOIN cadj ON cadj.file_id = rl.file_id AND cadj.claim_seq = rl.claim_seq
"""

_PAYER_IDS_SQL = """
CREATE OR REPLACE TEMP TABLE kpi_payer_ids AS
SELECT payer_id, arg_max(payer, n) AS payer FROM (
    SELECT payer_id, payer, count(*) AS n FROM (
        SELECT payer_id, payer FROM kpi_claims WHERE payer_id IS NOT NULL
        UNION ALL SELECT r.payer_id, kc.payer FROM kpi_remits r JOIN kpi_claims kc USING (claim_id) WHERE r.payer_id IS NOT NULL)
    GROUP BY 1, 2) GROUP BY 1
"""

CONTRACT_MAP_COLUMNS = ("contract_id", "payer_id", "filing_indicator", "effective", "expires", "product_line",
                        "prompt_pay_days", "interest_percent_annual", "timely_filing_days")


def empty_contract_map(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""CREATE OR REPLACE TEMP TABLE kpi_contract_map (contract_id VARCHAR, payer_id VARCHAR,
        filing_indicator VARCHAR, effective DATE, expires DATE, product_line VARCHAR, prompt_pay_days INTEGER,
        interest_percent_annual DECIMAL(9, 3), timely_filing_days INTEGER)""")


_PA_CLAIMS_SQL = """
CREATE OR REPLACE TEMP TABLE kpi_pa_claims AS
SELECT kc.payer, kc.claim_id, count(DISTINCT cl.procedure_code) AS prior_auths
FROM kpi_claims kc JOIN kpi_prior_auth a ON a.contract_id = kc.contract_id
JOIN claims c ON c.claim_id = kc.claim_id JOIN claim_lines cl ON cl.file_id = c.file_id AND cl.claim_seq = c.claim_seq
    AND cl.procedure_code = a.procedure_code
GROUP BY 1, 2
"""

_CUBE_SQL = """
CREATE OR REPLACE TEMP TABLE kpi_line_cube AS
SELECT payer, product_line, month, procedure_code, CASE WHEN denied THEN primary_carc END AS primary_carc,
    is_first, is_last, denied, allowed_amount > 0 AS has_allowed, sign(units) AS units_sign, year(service_date) AS year,
    CASE WHEN '26' IN (modifier_1, modifier_2) THEN '26' WHEN 'TC' IN (modifier_1, modifier_2) THEN 'TC' ELSE '' END AS pmod,
    place_of_service,
    count(*) AS lines, sum(charge_amount) AS charge_amount, sum(allowed_amount) AS allowed_amount,
    sum(paid_amount) AS paid_amount, sum(units) AS units
FROM kpi_lines GROUP BY ALL
"""

_META_SQL = """
CREATE OR REPLACE TEMP TABLE kpi_meta AS
SELECT (SELECT max(payment_date) FROM remit_claims) AS last_payment_date,
       (SELECT max(submission_date) FROM claims) AS last_submission_date
"""

#: the prepared fact tables, in build order (each is persisted by :func:`prepare` when given a cache)
FACT_TABLES = ("kpi_remits", "kpi_claims", "kpi_lines", "kpi_payer_ids", "kpi_pa_claims", "kpi_line_cube", "kpi_meta")
#: bump when a fact table's SQL changes, so persisted facts of older code are rebuilt
FACTS_VERSION = "4"
_READY = "READY"


def state_key(con: duckdb.DuckDBPyConnection) -> str:
    """Hash of what the fact tables depend on: committed files, contract map, prior-auth lists, SQL version."""
    import hashlib

    h = hashlib.sha256(FACTS_VERSION.encode())
    for sql in ("SELECT file_id, status FROM manifest ORDER BY ALL",
                "SELECT * FROM kpi_contract_map ORDER BY ALL", "SELECT * FROM kpi_prior_auth ORDER BY ALL"):
        h.update(repr(con.execute(sql).fetchall()).encode())
    return h.hexdigest()[:20]


def _build(con: duckdb.DuckDBPyConnection) -> None:
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'kpi_prior_auth'").fetchone()[0]:
        con.execute("CREATE TEMP TABLE kpi_prior_auth (contract_id VARCHAR, procedure_code VARCHAR)")
    con.execute(_REMITS_SQL)
    con.execute(_CLAIMS_SQL.format(filing=_FILING_CASE))
    con.execute(_LINES_SQL)
    con.execute(_PAYER_IDS_SQL)
    con.execute(_PA_CLAIMS_SQL)
    con.execute(_CUBE_SQL)
    con.execute(_META_SQL)


def _sql_path(path: Path) -> str:
    return path.as_posix().replace("'", "''")


def facts(con: duckdb.DuckDBPyConnection, cache: Path | None) -> str:
    """Build the fact tables, or reuse the ones persisted for the same workspace state.

    With ``cache`` (a folder), the facts are read from ``cache/<state key>/`` when a
    complete copy is there (views over Parquet); else they are built as temp tables
    and written there atomically (temp folder renamed, older states removed).
    Returns "built", "reused" or "built (not persisted)".
    """
    if cache is None:
        _build(con)
        return "built (not persisted)"
    import shutil
    import uuid

    key = state_key(con)
    folder = cache / key
    if (folder / _READY).is_file():
        for name in FACT_TABLES:
            con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_parquet('{_sql_path(folder / name)}.parquet')")
        return "reused"
    _build(con)
    try:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = cache / f".tmp-{key}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        for name in FACT_TABLES:
            con.execute(f"COPY {name} TO '{_sql_path(tmp / name)}.parquet' (FORMAT parquet, ROW_GROUP_SIZE 122880)")
        (tmp / _READY).write_text(key + "\n")
        try:
            tmp.rename(folder)
        except OSError:  # another process persisted the same state first
            shutil.rmtree(tmp, ignore_errors=True)
        for old in cache.iterdir():
            if old.name != key and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
    except OSError:
        return "built (not persisted)"
    return "built"


def prepare(con: duckdb.DuckDBPyConnection, params: KpiParams, *, cache: Path | None = None) -> dt.date:
    """Build (or reuse, see :func:`facts`) the fact tables; returns the as-of date (end of the data)."""
    facts(con, cache)
    return as_of_date(con, params)


def as_of_date(con: duckdb.DuckDBPyConnection, params: KpiParams) -> dt.date:
    """The as-of date (given, else the latest 835 payment or 837 submission date); sets table kpi_asof."""
    as_of = params.as_of
    if as_of is None:
        got = con.execute("SELECT greatest(last_payment_date, last_submission_date) FROM kpi_meta").fetchone()
        as_of = got[0] if got and got[0] else dt.date.today()
    con.execute(f"CREATE OR REPLACE TEMP TABLE kpi_asof AS SELECT DATE '{as_of.isoformat()}' AS as_of")
    return as_of


def ratio(num: str, den: str, digits: int = 4) -> str:
    """SQL: num / den rounded, NULL when the denominator is 0."""
    return f"round(CAST({num} AS DOUBLE) / nullif({den}, 0), {digits})"


CLAIM_DIMS_DEFAULT = ("payer", "product_line", "month", "payer_product_line", "all")
