"""Quality measures from the documented CSV (view ``quality_measures``, docs/quality.md).

Per measure and scope: the first and latest period's rate, the trend (latest -
first), and the gap to baseline, peer benchmark and payer target, signed so that
a positive gap is better (higher_is_better decides the direction).
"""

from __future__ import annotations

import duckdb

from parley.engine.kpi.base import KpiResult, rows

DEFS = {
    "latest_rate": "rate of the latest period",
    "trend": "latest_rate - first period's rate",
    "gap_to_baseline": "latest_rate - baseline, sign flipped when lower is better (positive = better)",
    "gap_to_peer": "latest_rate - peer_benchmark, same sign rule",
    "gap_to_target": "latest_rate - payer_target, same sign rule",
    "meets_target": "gap_to_target >= 0",
}


def measures(con: duckdb.DuckDBPyConnection) -> KpiResult:
    sql = """
WITH q AS (SELECT *, CASE WHEN lower(CAST(higher_is_better AS VARCHAR)) IN ('true', '1', 'yes') THEN 1 ELSE -1 END AS dir
           FROM quality_measures),
g AS (SELECT measure_id, any_value(measure_name) AS measure_name, scope, count(*) AS periods,
        arg_max(period, period) AS latest_period, CAST(arg_max(rate, period) AS DOUBLE) AS latest_rate,
        CAST(arg_min(rate, period) AS DOUBLE) AS first_rate, CAST(arg_max(baseline, period) AS DOUBLE) AS baseline,
        CAST(arg_max(peer_benchmark, period) AS DOUBLE) AS peer_benchmark,
        CAST(arg_max(payer_target, period) AS DOUBLE) AS payer_target, any_value(dir) AS dir
      FROM q GROUP BY measure_id, scope)
SELECT measure_id, measure_name, scope, periods, latest_period, latest_rate, baseline, peer_benchmark, payer_target,
    round(latest_rate - first_rate, 4) AS trend,
    round(dir * (latest_rate - baseline), 4) AS gap_to_baseline, round(dir * (latest_rate - peer_benchmark), 4) AS gap_to_peer,
    round(dir * (latest_rate - payer_target), 4) AS gap_to_target, dir * (latest_rate - payer_target) >= 0 AS meets_target
FROM g ORDER BY measure_id, scope"""
    return KpiResult("quality", "quality_measures", rows(con, sql), DEFS)
