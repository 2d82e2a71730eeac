"""Use case: what is in a workspace (files, rows, payers, dollars, denials, problems)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from parley.store.workspace import Workspace

_SUMMARY_SQL = """
WITH first_remit AS (
    SELECT claim_id, status_code, paid_amount, charge_amount,
           row_number() OVER (PARTITION BY claim_id ORDER BY payment_date NULLS LAST, file_id, claim_seq) AS rn
    FROM remit_claims WHERE NOT is_reversal
)
SELECT
    (SELECT count(*) FROM manifest) AS files,
    (SELECT count(*) FROM manifest WHERE status = 'failed') AS files_failed,
    (SELECT count(*) FROM manifest WHERE status = 'partial') AS files_partial,
    (SELECT count(*) FROM claims) AS claims,
    (SELECT count(*) FROM claim_lines) AS claim_lines,
    (SELECT coalesce(sum(charge_amount), 0) FROM claims) AS billed_charges,
    (SELECT count(*) FROM remittances) AS remittances,
    (SELECT count(*) FROM remit_claims) AS remitted_claims,
    (SELECT count(*) FROM remit_lines) AS remitted_lines,
    (SELECT coalesce(sum(payment_amount), 0) FROM remittances) AS payments,
    (SELECT coalesce(sum(paid_amount), 0) FROM remit_claims) AS claim_paid,
    (SELECT count(DISTINCT coalesce(payer_id, payer_name)) FROM remittances) AS payers,
    (SELECT count(*) FROM first_remit WHERE rn = 1) AS adjudicated_claims,
    (SELECT count(*) FROM first_remit WHERE rn = 1 AND (status_code = '4' OR paid_amount = 0)) AS denied_claims,
    (SELECT count(*) FROM remit_claims WHERE NOT balanced) AS unbalanced_claims,
    (SELECT count(*) FROM problems WHERE severity = 'error') AS problem_errors,
    (SELECT count(*) FROM problems WHERE severity = 'warning') AS problem_warnings,
    (SELECT count(*) FROM problems WHERE quarantined) AS quarantined
"""

_PAYERS_SQL = """
SELECT coalesce(r.payer_name, '?') AS payer, coalesce(r.payer_id, '') AS payer_id,
       count(*) AS remitted_claims, sum(c.paid_amount) AS paid,
       sum(c.charge_amount) AS charged,
       avg(CASE WHEN c.status_code = '4' OR c.paid_amount = 0 THEN 1 ELSE 0 END) AS denial_share
FROM remit_claims c JOIN remittances r USING (file_id, remittance_seq)
GROUP BY 1, 2 ORDER BY paid DESC NULLS LAST
"""


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def workspace_summary(*, workspace: Workspace) -> dict[str, Any]:
    """Headline counts and a per-payer breakdown, as plain JSON-able values."""
    con = workspace.connect()
    try:
        cur = con.execute(_SUMMARY_SQL)
        names = [d[0] for d in cur.description]
        row = dict(zip(names, cur.fetchone() or [], strict=True))
        adjudicated = row["adjudicated_claims"] or 0
        row["denial_rate"] = round(row["denied_claims"] / adjudicated, 4) if adjudicated else None
        cur = con.execute(_PAYERS_SQL)
        names = [d[0] for d in cur.description]
        payers = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    for p in payers:
        p["denial_share"] = round(float(p["denial_share"] or 0), 4)
    return {
        "workspace": str(workspace.root),
        **{k: _plain(v) for k, v in row.items()},
        "by_payer": [{k: _plain(v) for k, v in p.items()} for p in payers],
    }


def list_problems(
    *, workspace: Workspace, severity: str | None = None, file: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Problems recorded at ingestion, newest files first."""
    where, params = [], []
    if severity:
        where.append("p.severity = ?")
        params.append(severity)
    if file:
        where.append("(p.file_id = ? OR p.source_path LIKE ?)")
        params += [file, f"%{file}%"]
    sql = (
        "SELECT p.source_path, p.severity, p.code, p.segment_number, p.segment_id, p.loop, p.element, "
        "p.row, p.\"column\", p.claim_id, p.quarantined, p.message FROM problems p "
        + ("WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY p.source_path, p.segment_number NULLS LAST, p.row NULLS LAST LIMIT ?"
    )
    con = workspace.connect()
    try:
        cur = con.execute(sql, [*params, limit])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
