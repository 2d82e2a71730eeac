"""`parley market ingest` and `parley benchmark`: thin faces over services.market."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from parley.cli import output

market_app = typer.Typer(
    help="Market rates from price-transparency files (TiC, hospitals).", no_args_is_help=True
)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace", "-w", help="workspace folder (env PARLEY_WORKSPACE)", show_default=False
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout")]
ListOpt = Annotated[list[str] | None, typer.Option(show_default=False)]


def register(app: typer.Typer) -> None:
    app.add_typer(market_app, name="market")
    app.command("benchmark")(benchmark)


@market_app.command("ingest")
def market_ingest(
    paths: Annotated[
        list[str], typer.Argument(help="TiC / hospital files, folders or globs (.gz too)")
    ],
    basket: Annotated[
        str, typer.Option(help="code basket: billed (our codes), shoppable (CMS list), all")
    ] = "billed",
    code: ListOpt = None,
    registry: Annotated[
        Path | None, typer.Option(help="NPI registry extract CSV (npi, state, zip, taxonomy)")
    ] = None,
    state: ListOpt = None,
    zip_code: Annotated[list[str] | None, typer.Option("--zip", show_default=False)] = None,
    taxonomy: ListOpt = None,
    npi: ListOpt = None,
    tin: ListOpt = None,
    workers: Annotated[int | None, typer.Option(help="processes (default: one per core)")] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler, e.g. tcp://host:8786")
    ] = None,
    fetch: Annotated[
        bool, typer.Option(help="follow URLs (table of contents, provider references)")
    ] = False,
    spool_dir: Annotated[
        Path | None, typer.Option(help="decompress .gz here first, then read in parallel")
    ] = None,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> None:
    """Read price-transparency files for your market and code basket into market_rates."""
    from parley.ingest.forkserver import prestart

    prestart(workers, scheduler)  # the pool's forkserver imports while this process does
    from parley.cli.progress import byte_progress
    from parley.services.market import MarketCriteria, ingest_market, market_options
    from parley.store.workspace import open_workspace

    ws = open_workspace(workspace)
    criteria = MarketCriteria(
        registry=registry,
        states=tuple(state or ()),
        zips=tuple(zip_code or ()),
        taxonomies=tuple(taxonomy or ()),
        npis=tuple(npi or ()),
        tins=tuple(tin or ()),
    )
    options, note = market_options(
        ws,
        basket=basket,
        codes=code or (),
        criteria=criteria,
        workers=workers,
        scheduler=scheduler,
        fetch=fetch,
        spool_dir=spool_dir,
    )
    with byte_progress(enabled=not json) as progress:
        report = ingest_market(workspace=ws, paths=paths, options=options, progress=progress)
    if json:
        output.print_json({**report.as_dict(), "basket": note})
    else:
        output.console.print(f"Code basket: {note}")
        _print_report(report)
    raise typer.Exit(0 if report.ok else 1)


def _print_report(report: Any) -> None:
    rows = [
        {
            "file": Path(f.source.split("!")[0]).name,
            "format": f.format or "",
            "status": f.status,
            "rates": f.counts.get("market_rates", 0),
            "errors": f.errors,
            "warnings": f.warnings,
            "MB/s": round(f.bytes / f.seconds / 1e6, 1) if f.seconds else None,
        }
        for f in report.files
    ]
    output.print_table(rows[:60], title="Market ingestion")
    for f in report.files:
        for line in f.first_problems if f.status in ("failed", "partial") else []:
            output.err_console.print(f"[red]{line}[/red]")


@market_app.command("payers")
def market_payers(
    names: Annotated[
        list[str] | None, typer.Argument(help="names to resolve (default: every name seen)")
    ] = None,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> None:
    """How payer names resolve to canonical payers (the payer-alias table)."""
    from parley.services.market import payer_names
    from parley.store.workspace import open_workspace

    result = payer_names(workspace=open_workspace(workspace), names=tuple(names or ()))
    if json:
        output.print_json(result)
        return
    output.print_table(result["names"], title="Payer names -> canonical payer")
    state = (
        "found" if result["workspace_file_exists"] else "not present; create it to add spellings"
    )
    output.console.print(
        f"Workspace alias file (payer,alias[,generic]): {result['workspace_file']} ({state})"
    )


def benchmark(
    payer: Annotated[
        str, typer.Argument(help="payer name or alias (UHC...); unknown names match as a substring")
    ],
    percentile: Annotated[float, typer.Option(help="target percentile for the opportunity")] = 75.0,
    code: ListOpt = None,
    year: Annotated[int, typer.Option(help="Medicare PFS year for percent of Medicare")] = 2025,
    registry: Annotated[
        Path | None, typer.Option(help="NPI registry extract: provider taxonomies")
    ] = None,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> None:
    """The payer's market rates for our codes, our position, and the opportunity."""
    from parley.services.market import benchmark as run
    from parley.store.workspace import open_workspace

    result = run(
        workspace=open_workspace(workspace),
        payer=payer,
        percentile=percentile,
        codes=code or (),
        year=year,
        registry=registry,
    )
    if json:
        output.print_json(result)
        return
    short = {
        "billing_code": "code",
        "providers": "n",
        "p25": "p25",
        "p50": "median",
        "p75": "p75",
        "p50_pct_medicare": "median %MCR",
        "own_rate": "ours",
        "own_percentile": "our pctl",
        "target_rate": f"p{percentile:g}",
        "own_units": "units",
        "opportunity": "opportunity",
    }
    rows = [{label: r.get(key) for key, label in short.items()} for r in result["codes"]]
    name = result.get("payer_canonical") or payer
    output.print_table(rows, title=f"{name}: market vs our rates (target p{percentile:g})")
    if result.get("payer_names_matched"):
        output.console.print(
            "Market names matched: " + "; ".join(result["payer_names_matched"][:8])
        )
    output.print_pairs(
        {"total opportunity": result["total_opportunity"], **result["plausibility"]},
        title="Opportunity and plausibility (rows)",
    )
