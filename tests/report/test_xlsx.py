"""The Excel brief: sheets per section, formatted tables, and a scenario sheet of live formulas that
reproduce Parley's valuation to the cent (recomputed with pycel)."""

from __future__ import annotations

import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import office_brief as ob  # noqa: E402

from parley.report.charts import ChartSet, draw_charts  # noqa: E402


@pytest.fixture(scope="module")
def valuations(tmp_path_factory: pytest.TempPathFactory):
    from parley.store.workspace import init_workspace

    ws = init_workspace(tmp_path_factory.mktemp("office") / "ws", organization="Office Test")
    return ob.office_valuations(ob.office_workspace(ws))


@pytest.fixture(scope="module")
def book(valuations, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    from parley.report.render_xlsx import write

    brief = ob.full_brief(valuations)
    path = tmp_path_factory.mktemp("xlsx") / "brief.xlsx"
    assert write(brief, draw_charts(brief), path) == path
    return path, brief


def _recompute(path: Path, valuations) -> int:
    """Recompute the results table with pycel; assert every year, term total and NPV equals Parley's."""
    from openpyxl import load_workbook
    from pycel import ExcelCompiler

    ws = load_workbook(path)["Scenarios"]
    rows = _results(ws)
    xl = ExcelCompiler(filename=str(path))
    checked = 0
    for v in valuations:
        r = rows[v.proposal]
        assert len(r) == len(v.years) + 2
        for k, y in enumerate(v.years):
            for col in "CDEF":
                assert str(ws[f"{col}{r[k]}"].value).startswith("=")
            got = [D(str(xl.evaluate(f"Scenarios!{c}{r[k]}"))).quantize(D("0.01")) for c in "CDE"]
            assert got == [y.revenue_current, y.revenue_proposal, y.revenue_change], (v.proposal, y.year)
            checked += 3
        assert D(str(xl.evaluate(f"Scenarios!E{r[-2]}"))).quantize(D("0.01")) == v.revenue_change_total
        assert D(str(xl.evaluate(f"Scenarios!E{r[-1]}"))).quantize(D("0.01")) == v.npv_revenue_change
        assert D(str(xl.evaluate(f"Scenarios!H{r[-2]}"))) == 0
        checked += 2
    return checked


def _results(ws) -> dict[str, list[int]]:
    """Rows of the results table per proposal: year rows, then the term total and NPV rows."""
    out: dict[str, list[int]] = {}
    current = None
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=5):
        a, e = row[0].value, row[4].value
        if isinstance(a, str) and a.startswith("Results"):
            current = ""
        elif current is not None and isinstance(a, str) and a.startswith("Parley's figures"):
            break
        elif current is not None and isinstance(a, str) and e is None and not a.startswith("Proposal /"):
            current = a
            out[current] = []
        elif current and isinstance(e, str) and e.startswith("="):
            out[current].append(row[0].row)
    return out


def test_workbook_structure(book) -> None:
    from openpyxl import load_workbook

    path, brief = book
    wb = load_workbook(path)
    assert wb.sheetnames == ["Contents", "Summary", "Contracts", "Performance", "Value story", "Scenarios",
                             "Playbook", "Method notes"]
    contents = wb["Contents"]
    links = {c.value: c.hyperlink.location for row in contents.iter_rows() for c in row if c.hyperlink}
    assert links["Scenarios"] == "'Scenarios'!A1" and links["Value story"] == "'Value story'!A1" and len(links) == 7
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
        assert ws.sheet_properties.pageSetUpPr.fitToPage
    summary = wb["Summary"]
    assert summary["A2"].value == brief.summary.headline
    assert summary.freeze_panes == "A4"
    # figures are numbers with formats, not strings
    cells = {r[0].value: r[1] for r in summary.iter_rows(min_col=1, max_col=2)}
    assert cells["Annual revenue"].value == pytest.approx(4812345.67) and "$" in cells["Annual revenue"].number_format
    assert cells["Rate level"].number_format == '0"% of Medicare"'
    assert len(wb["Performance"]._images) == 2 and len(wb["Scenarios"]._images) == 2
    names = set(wb.defined_names)
    assert {"VolumeChange", "RateAdjustment", "Trend_1", "Discount_1", "Units_1"} <= names


def test_scenario_formulas_reproduce_parley_to_the_cent(book, valuations) -> None:
    from openpyxl import load_workbook

    path, _ = book
    assert list(_results(load_workbook(path)["Scenarios"])) == [v.proposal for v in valuations]
    assert _recompute(path, valuations) == sum(3 * len(v.years) + 2 for v in valuations)


def test_inputs_drive_the_results(book, valuations) -> None:
    from openpyxl import load_workbook
    from pycel import ExcelCompiler

    from parley.report.render_xlsx import expected_totals

    path, _ = book
    wb = load_workbook(path)
    ws = wb["Scenarios"]
    volume = wb.defined_names["VolumeChange"].attr_text.split("!")[1].replace("$", "")
    rate = wb.defined_names["RateAdjustment"].attr_text.split("!")[1].replace("$", "")
    assert ws[volume].font.color.rgb.endswith("0000FF")
    rows = _results(ws)
    xl = ExcelCompiler(filename=str(path))
    for v in valuations:  # place every result cell (and its inputs) in pycel's cell map
        for r in rows[v.proposal]:
            xl.evaluate(f"Scenarios!E{r}")
    xl.set_value(f"Scenarios!{volume}", 0.10)
    xl.set_value(f"Scenarios!{rate}", 0.02)
    for v in valuations:
        want = expected_totals(v, volume_change=D("0.10"), rate_adjustment=D("0.02"))
        for k, (cur, new) in enumerate(want):
            r = rows[v.proposal][k]
            assert D(str(xl.evaluate(f"Scenarios!C{r}"))).quantize(D("0.01")) == cur
            assert D(str(xl.evaluate(f"Scenarios!D{r}"))).quantize(D("0.01")) == new
            assert D(str(xl.evaluate(f"Scenarios!E{r}"))).quantize(D("0.01")) == new - cur
        # the term total follows the years
        total = sum((n - c for c, n in want), D(0))
        assert D(str(xl.evaluate(f"Scenarios!E{rows[v.proposal][-2]}"))).quantize(D("0.01")) == total
    # and the defaults give Parley's numbers back
    xl.set_value(f"Scenarios!{volume}", 0)
    xl.set_value(f"Scenarios!{rate}", 0)
    v = valuations[0]
    assert D(str(xl.evaluate(f"Scenarios!C{rows[v.proposal][0]}"))).quantize(D("0.01")) == v.years[0].revenue_current


def test_missing_sections_say_so(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from parley.report.render_xlsx import write

    path = write(ob.bare_brief(), ChartSet(charts={}), tmp_path / "bare.xlsx")
    wb = load_workbook(path)
    text = {ws.title: " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
            for ws in wb.worksheets}
    assert "What is missing" in text["Performance"] and ob.NO_REMITS in text["Performance"]
    assert "No proposals" in text["Scenarios"] and "No quality data" in text["Value story"]
    cells = {r[0].value: r[1].value for r in wb["Summary"].iter_rows(min_col=1, max_col=2)}
    assert cells["Annual revenue"] == "n/a"
    assert not list(tmp_path.glob(".*.tmp"))


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from parley.report import render_xlsx

    target = tmp_path / "b.xlsx"
    target.write_bytes(b"old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("openpyxl.workbook.workbook.Workbook.save", boom)
    with pytest.raises(OSError):
        render_xlsx.write(ob.bare_brief(), ChartSet(charts={}), target)
    assert target.read_bytes() == b"old" and not list(tmp_path.glob(".*.tmp"))


# --------------------------------------------------------------------------- on the service's own briefs (demo workspace)


def test_demo_brief_workbook_recomputes_to_parley(demo_brief, tmp_path: Path) -> None:
    from parley.report.render_xlsx import write

    vals = [v for v in demo_brief.scenarios.valuations if v.years]
    assert vals and all(v.by_code for v in vals)
    path = write(demo_brief, draw_charts(demo_brief), tmp_path / "demo.xlsx")
    assert _recompute(path, vals) > 0


def test_payer_without_remits_workbook_says_what_is_missing(bare_brief, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from parley.report.render_xlsx import write

    path = write(bare_brief, draw_charts(bare_brief), tmp_path / "bare.xlsx")
    wb = load_workbook(path)
    for sheet in ("Performance", "Scenarios", "Value story"):
        text = " ".join(str(c.value) for row in wb[sheet].iter_rows() for c in row if c.value is not None)
        assert "What is missing" in text, sheet
    assert not any(isinstance(c.value, str) and c.value.startswith("=") for c in wb["Scenarios"]["C"])


def test_control_characters_from_user_data_are_dropped(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from parley.report.render_xlsx import write

    wb = load_workbook(write(ob.bare_brief("ODD\x0bPAYER\x01 & <co>"), ChartSet(charts={}), tmp_path / "odd.xlsx"))
    assert wb["Contents"]["A1"].value == "Negotiation brief: ODDPAYER & <co>"
