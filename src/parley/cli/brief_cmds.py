"""`parley brief PAYER`: the negotiation brief in HTML, PDF, Excel and PowerPoint (a thin face over
:mod:`parley.services.brief`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from parley.cli import output
from parley.errors import InputError

WorkspaceOpt = Annotated[
    Path | None, typer.Option("--workspace", "-w", help="workspace folder (env PARLEY_WORKSPACE)", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout: paths and headline figures")]


def register(app: typer.Typer) -> None:
    app.command("brief")(brief)


def brief(
    payer: Annotated[str, typer.Argument(help="payer name, payer id or contract id")],
    format: Annotated[str, typer.Option("--format", help="comma-separated: html,pdf,xlsx,pptx")] = "html,pdf,xlsx,pptx",
    out: Annotated[Path | None, typer.Option("--out", help="output folder (default <workspace>/reports/brief-<payer>-<date>/)",
                                             show_default=False)] = None,
    product_line: Annotated[list[str] | None, typer.Option("--product-line", help="limit to product lines (repeatable)")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="end of the data for KPIs, YYYY-MM-DD (default: latest)")] = None,
    inputs: Annotated[Path | None, typer.Option("--inputs", help="strategy inputs YAML (default <workspace>/strategy/<payer>.yaml "
                                                "when present)")] = None,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> None:
    """Board-ready negotiation brief for one payer: executive summary, contracts, performance, value story,
    scenarios, playbook and method notes, the same content in every format."""
    from parley.services.brief import parse_formats, write_brief
    from parley.store.workspace import open_workspace

    formats = parse_formats(format)
    date = _date(as_of)
    res = write_brief(workspace=open_workspace(workspace), payer=payer, formats=formats, out=out,
                      product_lines=product_line or None, as_of=date, inputs_path=inputs)
    if json:
        output.print_json(res)
    else:
        print_result(res)


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--as-of {text!r}: expected a date YYYY-MM-DD") from None


def print_result(res: dict[str, Any]) -> None:
    output.console.print(f"[bold]{res['payer']}[/bold] ({', '.join(res['contracts'])}): {res['headline']}")
    output.print_table([{"figure": f["label"], "value": f["display"]} for f in res["figures"].values()], title="headline figures")
    for fmt, path in res["files"].items():
        output.console.print(f"  {fmt:<5} {path}  [dim]{res['seconds'].get(fmt, 0):.1f}s[/dim]")
    for section, notes in res["missing"].items():
        for n in notes:
            output.console.print(f"  [yellow]missing ({section}):[/yellow] {n}")
    output.console.print(f"[dim]built in {res['seconds']['total']:.1f}s (model {res['seconds']['model']:.1f}s, "
                         f"charts {res['seconds'].get('charts', 0):.1f}s)[/dim]")
