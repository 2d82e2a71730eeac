"""Contract performance metrics: set-based DuckDB queries over a workspace connection.

Every family module exposes functions ``f(con, params) -> KpiResult``; the
connection carries the canonical views (:meth:`Workspace.connect`) plus the
helper tables built by :func:`parley.engine.kpi.base.prepare` (``kpi_claims``,
``kpi_remits``, ``kpi_lines``, ``kpi_contract_map``...).  Nothing loops over
rows in Python.  Every result carries the definition of each of its columns,
so a report can print them (docs/kpi.md lists them all).

Families: :mod:`.denials`, :mod:`.speed`, :mod:`.burden`, :mod:`.mix`,
:mod:`.operations`, :mod:`.population`, :mod:`.quality`, :mod:`.scorecard`.
"""

from parley.engine.kpi.base import KpiParams, KpiResult, prepare

__all__ = ["KpiParams", "KpiResult", "prepare"]
