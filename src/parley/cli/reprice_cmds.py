"""Commands: contracts check / show, reprice, explain, accuracy, appeals, medicare.

Thin faces over :mod:`parley.services.contracts` and :mod:`parley.services.reprice`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from parley.cli import output

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="workspace folder (env PARLEY_WORKSPACE)", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout")]
CsvOpt = Annotated[Path | None, typer.Option("--csv", help="also write the rows as CSV")]
XlsxOpt = Annotated[Path | None, typer.Option("--xlsx", help="also write the rows as Excel")]


def _ws(workspace: Path | None) -> Any:
    from parley.store.workspace import open_workspace

    return open_workspace(workspace)


def register(app: typer.Typer) -> None:
    """Add the repricing and contract commands to the parley app."""
    contracts_app = typer.Typer(help="Contract terms: validate and show.", no_args_is_help=True)
    app.add_typer(contracts_app, name="contracts")
    contracts_app.command("check")(contracts_check)
    contracts_app.command("show")(contracts_show)
    contracts_app.command("schema")(contracts_schema)
    app.command("reprice")(reprice)
    app.command("explain")(explain)
    app.command("accuracy")(accuracy)
    app.command("appeals")(appeals)
    app.command("medicare")(medicare)


def contracts_check(
    files: Annotated[list[Path], typer.Argument(help="contract YAML files (or folders)")],
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> int:
    """Validate contract files: schema, CSVs they refer to, reference data, overlaps."""
    from parley.domain.contracts_load import ContractError, contract_files, load_contracts
    from parley.services.contracts import RefdataContext, reference_problems, summary

    paths = [p for f in files for p in (contract_files(f) if f.is_dir() else [f])]
    ws = None
    if workspace is not None:
        ws = _ws(workspace)
    contracts = load_contracts(paths)
    ctx = RefdataContext(ws.refdata_dir if ws else None)
    problems = [p for f, c in zip(paths, contracts, strict=True) for p in reference_problems(c, f, ctx)]
    if problems:
        raise ContractError(problems)
    rows = [summary(c, path=p) for p, c in zip(paths, contracts, strict=True)]
    if json:
        output.print_json({"ok": True, "contracts": rows})
    else:
        output.print_table(rows, title="Contracts OK", columns=["contract_id", "file", "payer", "product_lines", "effective", "expires", "amendments"])
    return 0


def contracts_show(
    payer: Annotated[str, typer.Argument(help="contract id, payer name or payer id (part of it)")],
    on: Annotated[str | None, typer.Option("--on", help="date (YYYY-MM-DD); default today")] = None,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> int:
    """The terms in force on a date (base terms with amendments applied)."""
    from parley.errors import InputError
    from parley.services.contracts import show_contract

    try:
        day = dt.date.fromisoformat(on) if on else None
    except ValueError:
        raise InputError(f"--on {on!r}: expected a date like 2025-07-01") from None
    rows = show_contract(workspace=_ws(workspace), payer=payer, on=day)
    if json:
        output.print_json(rows)
        return 0
    import yaml

    for r in rows:
        head = {k: v for k, v in r.items() if k != "terms"}
        output.print_pairs(head, title=f"{r['contract_id']} on {r['on']}")
        output.console.print(yaml.safe_dump(r["terms"], sort_keys=False), markup=False, highlight=False)
    return 0


def contracts_schema(
    out: Annotated[Path | None, typer.Option("--out", help="write to this file")] = None,
) -> int:
    """Print (or write) the contract JSON Schema."""
    import json as _json

    from parley.domain.contracts import json_schema

    text = _json.dumps(json_schema(), indent=2) + "\n"
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        output.console.print(text, markup=False, highlight=False)
    return 0


def reprice(
    tolerance_dollars: Annotated[str | None, typer.Option(help="override the workspace's tolerance in dollars")] = None,
    tolerance_percent: Annotated[str | None, typer.Option(help="override the workspace's tolerance in percent")] = None,
    memory_limit: Annotated[str | None, typer.Option(
        help="cap the memory used (e.g. 2GB): slower, what does not fit spills to the workspace")] = None,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> int:
    """Price every remitted line against the contracts; classify it; store expected vs actual."""
    from parley.services.reprice import reprice as run

    result = run(workspace=_ws(workspace), tolerance_dollars=tolerance_dollars, tolerance_percent=tolerance_percent,
                 memory_limit=memory_limit)
    if json:
        output.print_json(result)
        return 0
    head = {k: v for k, v in result.items() if k not in ("by_payer", "by_status", "not_priceable_reasons")}
    output.print_pairs(head, title="Repriced")
    output.print_pairs(result["by_status"], title="Lines by status")
    output.print_table(result["by_payer"], title="By payer",
                       columns=["payer", "lines", "share_lines_correct", "share_dollars_correct", "underpaid_lines",
                                "underpayment_dollars", "recoded_lines", "recode_dollars", "denied_lines", "not_priceable_lines"])
    if result["not_priceable_reasons"]:
        output.print_table(result["not_priceable_reasons"], title="Not priceable: why")
    return 0


def explain(
    claim_id: Annotated[str, typer.Argument(help="the claim id (CLP01 / CLM01)")],
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> int:
    """The derivation of the expected amount of every line of a claim."""
    from parley.services.reprice import explain as run

    rows = run(workspace=_ws(workspace), claim_id=claim_id)
    if json:
        output.print_json(rows)
        return 0
    for r in rows:
        if r.get("level") == "claim":
            output.console.print(
                f"[bold]{r['claim_id']} (facility claim, priced per claim)[/bold] {r['code']}"
                f"{' (paid as MS-DRG ' + r['paid_code'] + ')' if r['paid_code'] and r['code'] != 'MS-DRG ' + r['paid_code'] else ''}"
                f" - {r['status']}: expected ${r['expected_allowed']} vs claim allowed ${r['actual_allowed']} "
                f"(paid ${r['paid']}), difference ${r['difference']}, remit {r['remit_file']}"
            )
        elif r["status"] == "claim-level":
            output.console.print(f"  line {r['line_number']} {r['code']} charge ${r['charge']}: "
                                 f"allocated expected ${r['expected_allowed']}", markup=False, highlight=False)
            continue
        else:
            output.console.print(
                f"[bold]{r['claim_id']} line {r['line_number']}[/bold] {r['code']}"
                f"{' (paid as ' + r['paid_code'] + ')' if r['paid_code'] != r['code'] else ''} - {r['status']}: "
                f"expected ${r['expected_allowed']} vs allowed ${r['actual_allowed']} (paid ${r['paid']}), remit {r['remit_file']}"
            )
        for step in r["derivation"]:
            output.console.print(f"    {step}", markup=False, highlight=False)
    return 0


def accuracy(
    by: Annotated[str, typer.Option("--by", help="payer, product_line, code, month, contract or claim")] = "payer",
    csv: CsvOpt = None,
    xlsx: XlsxOpt = None,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> int:
    """Payment accuracy: share of lines and dollars paid correctly, underpayments, by group."""
    from parley.services.reprice import accuracy as run
    from parley.services.reprice import export_rows

    rows = run(workspace=_ws(workspace), by=by)
    written = export_rows(rows, csv_path=csv, xlsx_path=xlsx, sheet=f"Accuracy by {by}")
    if json:
        output.print_json(rows)
    else:
        output.print_table(rows[:100], title=f"Payment accuracy by {by}",
                           columns=[by, "lines", "share_lines_correct", "share_dollars_correct", "underpaid_lines",
                                    "underpayment_dollars", "overpaid_lines", "recoded_lines", "recode_dollars",
                                    "denied_lines", "not_priceable_lines"])
        for w in written:
            output.console.print(f"wrote {w}")
    return 0


def appeals(
    top: Annotated[int, typer.Option("--top", help="at most this many claims (0 = all)")] = 50,
    csv: CsvOpt = None,
    xlsx: XlsxOpt = None,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> int:
    """Claims to appeal, ranked by recoverable dollars (underpayment + recode differences)."""
    from parley.services.reprice import appeals as run
    from parley.services.reprice import export_rows

    rows = run(workspace=_ws(workspace), top=top or None)
    written = export_rows(rows, csv_path=csv, xlsx_path=xlsx, sheet="Appeals")
    if json:
        output.print_json(rows)
    else:
        output.print_table(rows, title="Claims to appeal",
                           columns=["claim_id", "payer", "product_line", "service_date", "underpaid_lines", "recoded_lines",
                                    "underpayment_dollars", "recode_dollars", "recoverable_dollars", "codes", "pricing_level"])
        total = sum((r["recoverable_dollars"] for r in rows), Decimal(0))
        output.console.print(f"{len(rows)} claims, ${total:,.2f} recoverable")
        for w in written:
            output.console.print(f"wrote {w}")
    return 0


def medicare(
    code: Annotated[str, typer.Argument(help="CPT / HCPCS code")],
    year: Annotated[int, typer.Option("--year", help="PFS year")],
    modifier: Annotated[str | None, typer.Option("--modifier", help="26, TC, 53 ...")] = None,
    locality: Annotated[str | None, typer.Option("--locality", help="carrier-locality, e.g. 13202-01")] = None,
    zip_code: Annotated[str | None, typer.Option("--zip", help="practice ZIP")] = None,
    facility: Annotated[bool, typer.Option("--facility", help="facility setting (facility PE RVU)")] = False,
    quarter: Annotated[int | None, typer.Option("--quarter", help="PFS quarterly release 1-4")] = None,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> int:
    """Medicare PFS allowed amount and its derivation (the code path the repricing engine uses)."""
    from parley.domain.pricing import MissingReference
    from parley.errors import InputError, ReferenceDataError
    from parley.services.contracts import RefdataContext

    if not locality and not zip_code:
        raise InputError("give --locality CARRIER-LOCALITY or --zip ZIP (national: --locality national is not a locality)")
    ws_dir = None
    if workspace is not None:
        ws_dir = _ws(workspace).refdata_dir
    ctx = RefdataContext(ws_dir)
    try:
        quote = ctx.medicare(code.strip().upper(), (modifier or "").strip().upper(), year=year, quarter=quarter,
                             locality=locality, zip=zip_code, facility=facility)
    except MissingReference as exc:
        raise ReferenceDataError(str(exc), hint="see 'parley refdata list'; load a release with 'parley refdata load'") from None
    if quote is None:
        raise InputError(f"{code}{'-' + modifier if modifier else ''} is not paid from RVUs under the {year} Medicare PFS",
                         hint="carrier-priced, bundled or not payable by Medicare (see its status code)")
    if json:
        output.print_json({"code": code.upper(), "modifier": modifier or "", "year": year, "locality": locality, "zip": zip_code,
                           "facility": facility, "amount": quote.amount, "conversion_factor": quote.conversion_factor,
                           "adjusted_rvu": quote.adjusted_rvu, "explanation": list(quote.explanation)})
    else:
        for line in quote.explanation:
            output.console.print(line, markup=False, highlight=False)
    return 0
