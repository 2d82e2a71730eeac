"""Commands: parley kpi denials / speed / burden / mix / operations / population / quality /
scorecard / load-appointments / load-quality / facts.  Thin faces over :mod:`parley.services.kpi`.

Every table is printed with its metric definitions (``--json`` puts them in ``metadata``);
``--csv FILE`` writes the rows (one file per table: FILE, FILE-2.csv...).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from parley.cli import output

WorkspaceOpt = Annotated[Path | None, typer.Option("--workspace", "-w", help="workspace folder (env PARLEY_WORKSPACE)", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout (rows + metadata with definitions)")]
CsvOpt = Annotated[Path | None, typer.Option("--csv", help="write the rows as CSV (one file per table)")]
ByOpt = Annotated[str, typer.Option("--by", help="payer, product_line, month, payer_product_line, all (denials also: code, category)")]
TopOpt = Annotated[int, typer.Option("--top", help="top N codes / reasons")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="end date of the data (YYYY-MM-DD); default the latest date in the data")]
DefsOpt = Annotated[bool, typer.Option("--definitions/--no-definitions", help="print each table's metric definitions")]


def register(app: typer.Typer) -> None:
    """Add 'parley kpi ...' to the parley app."""
    kpi_app = typer.Typer(help="Contract performance KPIs and the payer scorecard.", no_args_is_help=True)
    app.add_typer(kpi_app, name="kpi")
    for fam in ("denials", "speed", "burden", "mix", "operations", "population", "quality"):
        kpi_app.command(fam, help=f"{fam.capitalize()} KPIs (see docs/kpi.md).")(_family_command(fam))
    kpi_app.command("scorecard")(scorecard)
    kpi_app.command("load-appointments")(load_appointments)
    kpi_app.command("load-quality")(load_quality)
    kpi_app.command("facts")(facts)


def _family_command(fam: str) -> Any:
    def command(
        by: ByOpt = "payer", top: TopOpt = 20, as_of: AsOfOpt = None,
        auth_minutes: Annotated[float | None, typer.Option(help="staff minutes per prior auth (default 20, assumption)")] = None,
        staff_hourly_cost: Annotated[float | None, typer.Option(help="staff cost per hour (default 30, assumption)")] = None,
        rework_cost_professional: Annotated[float | None, typer.Option(help="rework cost per practice claim (default 25)")] = None,
        rework_cost_institutional: Annotated[float | None, typer.Option(help="cost per hospital appeal (default 118)")] = None,
        cost_of_money: Annotated[float | None, typer.Option(help="annual %% cost of money for delay cost (default 5)")] = None,
        workspace: WorkspaceOpt = None, json: JsonOpt = False, csv: CsvOpt = None, definitions: DefsOpt = True,
    ) -> int:
        _emit(fam, by=by, top=top, as_of=as_of, workspace=workspace, json=json, csv=csv, definitions=definitions,
              auth_minutes=auth_minutes, staff_hourly_cost=staff_hourly_cost, rework_cost_professional=rework_cost_professional,
              rework_cost_institutional=rework_cost_institutional, cost_of_money_annual_percent=cost_of_money)
        return 0

    command.__name__ = fam
    return command


def scorecard(as_of: AsOfOpt = None, workspace: WorkspaceOpt = None, json: JsonOpt = False, csv: CsvOpt = None,
              definitions: DefsOpt = True) -> int:
    """One row per payer: rate level, volume, accuracy, denials, speed, burden, hassle and value scores."""
    _emit("scorecard", by="payer", top=20, as_of=as_of, workspace=workspace, json=json, csv=csv, definitions=definitions)
    return 0


def _emit(family: str, *, by: str, top: int, as_of: str | None, workspace: Path | None, json: bool, csv: Path | None,
          definitions: bool, **settings: Any) -> None:
    from parley.errors import InputError
    from parley.services import kpi
    from parley.services.reprice import export_rows
    from parley.store.workspace import open_workspace

    try:
        day = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise InputError(f"--as-of {as_of!r}: expected YYYY-MM-DD") from None
    params = kpi.params_from(as_of=day, **settings)
    results = kpi.run(workspace=open_workspace(workspace), family=family, by=by, top=top, params=params)
    if csv:
        for i, r in enumerate(results):
            path = csv if i == 0 else csv.with_name(f"{csv.stem}-{r.name}{csv.suffix or '.csv'}")
            export_rows(r.rows, csv_path=path)
    if json:
        output.print_json(kpi.as_json(results))
        return
    for r in results:
        table = _transpose(r.rows) if family == "scorecard" else r.rows
        output.print_table(table, title=f"{r.family}: {r.name}")
        if definitions:
            output.print_pairs(r.definitions, title="definitions")


def _transpose(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Metrics as rows, payers as columns (a scorecard is read down each payer's column)."""
    if not rows:
        return rows
    return [{"metric": k, **{str(r["payer"]): r.get(k) for r in rows}} for k in rows[0] if k != "payer"]


def facts(workspace: WorkspaceOpt = None, json: JsonOpt = False) -> int:
    """Build the KPI fact tables for the workspace's current state now (persisted; later runs reuse them)."""
    from parley.services.kpi import prepare_facts
    from parley.store.workspace import open_workspace

    info = prepare_facts(workspace=open_workspace(workspace))
    if json:
        output.print_json(info)
    else:
        output.print_pairs({k: v for k, v in info.items() if k != "rows"}, title="KPI fact tables")
        output.print_pairs(info["rows"], title="rows")
    return 0


def load_appointments(file: Annotated[Path, typer.Argument(help="appointments CSV (columns: docs/kpi.md)")],
                      workspace: WorkspaceOpt = None, json: JsonOpt = False) -> int:
    """Ingest an appointment extract into the appointments table (same as 'parley ingest FILE')."""
    return _load(file, "appointments", workspace, json)


def load_quality(file: Annotated[Path, typer.Argument(help="quality measures CSV (docs/quality.md)")],
                 workspace: WorkspaceOpt = None, json: JsonOpt = False) -> int:
    """Ingest a quality-measure file into the quality_measures table (same as 'parley ingest FILE')."""
    return _load(file, "quality", workspace, json)


def _load(file: Path, kind: str, workspace: Path | None, json: bool) -> int:
    from parley.services.kpi import load_operations_file
    from parley.store.workspace import open_workspace

    info = load_operations_file(workspace=open_workspace(workspace), path=file, kind=kind)
    if json:
        output.print_json(info)
    else:
        output.print_pairs(info, title=f"{kind} loaded")
    return 0 if info["status"] in ("loaded", "duplicate") else 1
