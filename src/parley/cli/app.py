"""`parley`: the command line.  Thin commands over services, one error boundary.

Every command takes ``--workspace DIR`` (or ``PARLEY_WORKSPACE``) and ``--json``.
Errors print one short red message and exit non-zero; ``--debug`` (or
``PARLEY_DEBUG=1``) shows the traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from parley.cli import output
from parley.errors import ParleyError

app = typer.Typer(
    name="parley",
    help="Parley: payer-contract negotiation workbench. Ingest claims and remittances, "
    "reprice, benchmark, model and brief.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
refdata_app = typer.Typer(help="Reference data: CMS fee schedules and code lists.", no_args_is_help=True)
db_app = typer.Typer(help="The system of record (SQLite or PostgreSQL).", no_args_is_help=True)
app.add_typer(refdata_app, name="refdata")
app.add_typer(db_app, name="db")


def _register_command_modules() -> None:
    """Capability modules add their commands here (each exposes register(app))."""
    from parley.cli import brief_cmds, kpi_cmds, market_cmds, reprice_cmds, strategy_cmds

    for module in (reprice_cmds, kpi_cmds, strategy_cmds, market_cmds, brief_cmds):
        module.register(app)


_register_command_modules()

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="workspace folder (env PARLEY_WORKSPACE)", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout")]


def _ws(workspace: Path | None, *, create: bool = False) -> Any:
    from parley.store.workspace import open_workspace

    return open_workspace(workspace, create=create)


@app.command()
def init(
    directory: Annotated[Path | None, typer.Argument(help="folder to create (default: ./parley-workspace)")] = None,
    organization: Annotated[str, typer.Option(help="organisation name shown on reports")] = "My organisation",
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> int:
    """Create a workspace: config file, datasets folder, system of record."""
    from parley.config import resolve_workspace
    from parley.services.workspace import create_workspace

    folder = resolve_workspace(directory or workspace)
    info = create_workspace(folder=folder, organization=organization)
    if json:
        output.print_json(info)
    else:
        output.console.print(f"[green]Workspace ready[/green] at {info['workspace']}")
        output.print_pairs({k: v for k, v in info.items() if k != "workspace"})
    return 0


@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="files, folders or globs (.gz and .zip too)")],
    mapping: Annotated[Path | None, typer.Option(help="column mapping for CSV / Excel extracts")] = None,
    workers: Annotated[int | None, typer.Option(help="parallel processes (default: one per core)")] = None,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> int:
    """Load X12 835 / 837 files and tabular extracts into the workspace."""
    from parley.cli.progress import byte_progress
    from parley.services.ingest import ingest_paths

    ws = _ws(workspace)
    with byte_progress(enabled=not json) as progress:
        report = ingest_paths(workspace=ws, paths=paths, mapping_path=mapping, workers=workers, progress=progress)
    if json:
        output.print_json(report.as_dict())
    else:
        _print_ingest(report)
    return 0 if report.ok else 1


def _short(source: str, width: int = 36) -> str:
    name = Path(source.split("!")[0]).name + ("!" + source.split("!", 1)[1] if "!" in source else "")
    return name if len(name) <= width else "..." + name[-(width - 3):]


def _print_ingest(report: Any) -> None:
    rows = [
        {
            "file": _short(f.source),
            "format": f.format or "",
            "status": f.status,
            "claims": f.counts.get("remit_claims", 0) + f.counts.get("claims", 0),
            "lines": f.counts.get("remit_lines", 0) + f.counts.get("claim_lines", 0),
            "errors": f.errors,
            "warnings": f.warnings,
            "MB/s": round(f.bytes / f.seconds / 1e6, 1) if f.seconds else None,
        }
        for f in report.files
    ]
    output.print_table(rows[:60], title="Ingestion")
    if len(rows) > 60:
        output.console.print(f"... and {len(rows) - 60} more files (use --json for all)")
    for f in report.files:
        for line in f.first_problems if f.status in ("failed", "partial") else []:
            output.err_console.print(f"[red]{line}[/red]")
        for line in f.first_problems if f.status == "duplicate" else []:  # same payments, other bytes
            output.console.print(f"{f.source}: {line}")
    by = report.as_dict()["by_status"]
    output.console.print(", ".join(f"{v} {k}" for k, v in by.items()))
    if not report.ok:
        output.err_console.print("[red]Some files failed or were partly quarantined:[/red] 'parley problems' lists why.")


@app.command()
def status(workspace: WorkspaceOpt = None, json: JsonOpt = False) -> int:
    """What the workspace holds: files, claims, remittances, payers, dollars, denials, problems."""
    from parley.services.summary import workspace_summary

    summary = workspace_summary(workspace=_ws(workspace))
    if json:
        output.print_json(summary)
    else:
        _print_summary(summary)
    return 0


def _print_summary(summary: dict[str, Any]) -> None:
    from decimal import Decimal

    head = {k: v for k, v in summary.items() if k not in ("by_payer", "workspace")}
    for key in ("billed_charges", "payments", "claim_paid"):
        head[key] = Decimal(str(head[key]))
    if head.get("denial_rate") is not None:
        head["denial_rate"] = f"{head['denial_rate']:.1%}"
    output.print_pairs(head, title=f"Workspace {summary['workspace']}")
    payers = [
        {**p, "paid": Decimal(str(p["paid"] or 0)), "charged": Decimal(str(p["charged"] or 0)),
         "denial_share": f"{p['denial_share']:.1%}"}
        for p in summary["by_payer"]
    ]
    if payers:
        output.print_table(payers, title="By payer")


@app.command()
def problems(
    severity: Annotated[str | None, typer.Option(help="error or warning")] = None,
    file: Annotated[str | None, typer.Option(help="file id or part of its path")] = None,
    limit: Annotated[int, typer.Option(help="at most this many rows")] = 50,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> int:
    """Problems found at ingestion: where (file, segment / row) and why."""
    from parley.services.summary import list_problems

    rows = list_problems(workspace=_ws(workspace), severity=severity, file=file, limit=limit)
    if json:
        output.print_json(rows)
    else:
        output.print_table(
            rows, title="Problems",
            columns=["source_path", "severity", "code", "segment_number", "loop", "element", "row", "column", "message"],
        )
    return 0


@app.command()
def tables(
    markdown: Annotated[bool, typer.Option(help="print docs/tables.md")] = False,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> int:
    """The canonical tables and their columns."""
    from parley.store.tables import ALL_TABLES
    from parley.store.tables import markdown as as_markdown

    if markdown:
        sys.stdout.write(as_markdown() + "\n")
        return 0
    rows = [
        {"table": t.name, "column": f.name, "type": str(f.type), "meaning": (f.metadata or {}).get(b"doc", b"").decode()}
        for t in ALL_TABLES.values()
        for f in t.schema
    ]
    if json:
        output.print_json(rows)
    else:
        output.print_table(rows, title="Canonical tables")
    return 0


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="SQL over the canonical tables (DuckDB dialect)")],
    limit: Annotated[int, typer.Option(help="rows to print")] = 100,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> int:
    """Run a read-only SQL query over the workspace's tables."""
    from parley.services.query import run_query

    rows = run_query(workspace=_ws(workspace), query=query, limit=limit)
    if json:
        output.print_json(rows)
    else:
        output.print_table(rows)
    return 0


@app.command()
def demo(
    lines: Annotated[int, typer.Option(help="claim lines to generate")] = 200_000,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same files)")] = 20261123,
    months: Annotated[int, typer.Option(help="months of activity")] = 24,
    fresh: Annotated[bool, typer.Option(help="wipe the workspace's datasets first")] = False,
    briefs: Annotated[bool, typer.Option(help="end by writing the negotiation brief of every payer")] = True,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> int:
    """Generate a synthetic medical group (X12 837P / 835, appointments, quality), ingest it, summarise."""
    from parley.cli.progress import byte_progress
    from parley.services.demo import run_demo

    folder = workspace or (Path(os.environ["PARLEY_WORKSPACE"]) if os.environ.get("PARLEY_WORKSPACE") else Path("parley-demo"))
    with byte_progress(enabled=not json) as progress:
        result = run_demo(folder=folder, lines=lines, seed=seed, months=months, fresh=fresh, progress=progress, briefs=briefs)
    if json:
        output.print_json(result)
    else:
        _print_demo(result)
    return 0 if result["ingest"]["ok"] else 1


def _print_demo(result: dict[str, Any]) -> None:
    from decimal import Decimal

    gen = result["generated"]
    output.console.print(
        f"[bold]Demo organisation[/bold] generated in {result['seconds']['generate']:.1f}s: "
        f"{gen.get('claims', 0):,} claims, {gen.get('lines', 0):,} lines, {gen.get('payers', 0)} payers, "
        f"files in {result['inputs']}"
    )
    ing = result["ingest"]
    wait = result["seconds"].get("compile_wait", 0)
    output.console.print(
        f"Ingested {len(ing['files'])} files in {result['seconds']['ingest']:.1f}s "
        f"({', '.join(f'{v} {k}' for k, v in ing['by_status'].items())})"
        + (f", after {wait:.1f}s compiling the X12 readers (first run only)" if wait >= 1 else "")
    )
    _print_summary(result["summary"])
    rep = result["reprice"]
    output.console.print(
        f"Repriced {rep['lines_priced']:,} lines against the demo contracts in {result['seconds']['reprice']:.1f}s: "
        f"{rep['underpaid_lines']:,} underpaid lines, ${Decimal(str(rep['underpayment_dollars'])):,.2f} underpaid; "
        f"planted underpayments found with precision {rep['underpayment_precision']:.3f} "
        f"and recall {rep['underpayment_recall']:.3f}"
    )
    mk = result.get("market")
    if mk:
        output.console.print(
            f"Market: {mk['files']} price-transparency files ({mk['rates']:,} rates, the group and {mk['peers']} peer groups) "
            f"ingested in {result['seconds'].get('market', 0):.1f}s from {mk['folder']} (next: parley benchmark PAYER)"
        )
    for b in result.get("briefs", []):
        output.console.print(f"Brief [bold]{b['payer']}[/bold] ({b['decision'] or 'no score'}): {b['out']}")
    if result.get("briefs"):
        output.console.print(f"Briefs written in {result['seconds']['briefs']:.1f}s (HTML, PDF, Excel, PowerPoint per payer)")
    output.console.print(
        f"Workspace: {result['workspace']}  (next: .venv/bin/parley appeals -w {result['workspace']}, "
        f"or .venv/bin/parley serve -w {result['workspace']})"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8765,
    workspace: WorkspaceOpt = None,
) -> int:
    """Serve the workspace's pages and their JSON twins on localhost."""
    import uvicorn

    from parley.web.app import create_app

    ws = _ws(workspace)
    output.err_console.print(f"Parley at http://{host}:{port}/  (workspace {ws.root}; Ctrl-C stops)")
    uvicorn.run(create_app(ws), host=host, port=port, log_level="warning")
    return 0


@refdata_app.command("load")
def refdata_load(
    file: Annotated[Path, typer.Argument(help="a CMS release file (PPRRVU, GPCI, LOCCO, ANES, ZIP5) or its .zip")],
    year: Annotated[int | None, typer.Option(help="the release's year (detected when possible)")] = None,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> int:
    """Load a newer CMS Physician Fee Schedule release into the workspace."""
    from parley.services.refdata import load_release

    report = load_release(workspace=_ws(workspace), path=file, year=year)
    if json:
        output.print_json(report)
    else:
        output.print_pairs(report, title="Reference data loaded")
    return 0


@refdata_app.command("list")
def refdata_list(workspace: WorkspaceOpt = None, json: JsonOpt = False) -> int:
    """Reference data available: packaged and loaded into the workspace."""
    from parley.services.refdata import list_refdata

    rows = list_refdata(workspace=_ws(workspace, create=False) if workspace else None)
    if json:
        output.print_json(rows)
    else:
        output.print_table(rows, title="Reference data")
    return 0


@db_app.command("upgrade")
def db_upgrade(workspace: WorkspaceOpt = None, json: JsonOpt = False) -> int:
    """Apply the system-of-record migrations (Alembic) up to the newest."""
    from parley.services.workspace import upgrade_database

    info = upgrade_database(workspace=_ws(workspace))
    if json:
        output.print_json(info)
    else:
        output.print_pairs(info, title="System of record")
    return 0


def main(argv: list[str] | None = None) -> None:
    """Entry point with the error boundary.

    A command that fails before giving its result says why on stderr; with ``--json`` it
    also prints ``{"ok": false, "error": {...}}`` on stdout, so that a script always reads
    one JSON document whatever happened.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("PARLEY_DEBUG") == "1" or "--debug" in args
    args = [a for a in args if a != "--debug"]
    as_json = "--json" in args
    try:
        code = app(args=args, prog_name="parley", standalone_mode=False)
    except ParleyError as exc:
        if debug:
            raise
        output.err_console.print(f"[red]error:[/red] {exc}")
        _json_error(as_json, type(exc).__name__, exc.args[0] if exc.args else str(exc), exc.hint)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        output.err_console.print("[yellow]interrupted[/yellow]: nothing half-written was kept")
        _json_error(as_json, "Interrupted", "interrupted: nothing half-written was kept", None)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            output.err_console.print(f"[red]error:[/red] {exc.format_message()}")
        _json_error(as_json, "UsageError", exc.format_message(), "see 'parley --help' or 'parley COMMAND --help'")
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


def _json_error(as_json: bool, kind: str, message: str, hint: str | None) -> None:
    if as_json:
        error = {"type": kind, "message": message, "hint": hint}
        sys.stdout.write(json.dumps({"ok": False, "error": error}) + "\n")


if __name__ == "__main__":  # pragma: no cover
    main()
