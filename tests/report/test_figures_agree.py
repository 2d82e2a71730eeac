"""A figure the brief shows twice is either the same figure (same value) or two figures labelled so they
cannot be confused, each defined in the method notes (the demo brief of tests/report/conftest.py)."""

from __future__ import annotations

from decimal import Decimal as D

from parley.report.model import display


def _scorecard(brief) -> tuple[dict[str, int], list]:
    t = next(t for t in brief.performance.tables if t.key == "performance.scorecard")
    assert len(t.highlight_rows) == 1
    return {c.key: i for i, c in enumerate(t.columns)}, t


def _figure(brief, key: str):
    return next(f for s in brief.sections() for f in s.figures if f.key == key)


def test_rate_level_and_scorecard_are_distinct_labelled_figures(demo_brief) -> None:
    cols, t = _scorecard(demo_brief)
    row = t.rows[t.highlight_rows[0]]
    rate = next(f for f in demo_brief.summary.figures if f.key == "percent_of_medicare")
    paid = _figure(demo_brief, "paid_percent_of_medicare")
    pom_col = t.columns[cols["pom"]]
    # the scorecard row and the performance figure are one figure (KPI layer, all history)
    assert paid.value == row[cols["pom"]] and paid.label == pom_col.label
    # the summary's is the contract rate level (strategy, base period): a different figure, a different label
    assert rate.value is not None and paid.value is not None
    assert rate.label != pom_col.label and "base period" in rate.label and "all history" in pom_col.label
    defs = {d.term: d.definition for d in demo_brief.method.definitions}
    assert "contract terms" in defs[rate.label] and "base period" in defs[rate.label]
    assert "actually paid" in defs[pom_col.label] and "all remittance history" in defs[pom_col.label]
    assert any(rate.label in x and pom_col.label in x for x in demo_brief.method.exclusions)
    # the rate slide's title ranks the scorecard figure, and names both
    from parley.report.render_pptx import _rate_table, _rate_title

    title = _rate_title(demo_brief, rate, _rate_table(demo_brief))
    assert "base period" in title and "all history" in title


def test_every_figure_shown_twice_agrees_or_is_labelled_apart(demo_brief) -> None:
    cols, t = _scorecard(demo_brief)
    row = t.rows[t.highlight_rows[0]]
    # same figure, same value: the initial denial rate and the median days to pay (both from the KPI layer)
    den = _figure(demo_brief, "initial_denial_rate")
    assert den.value == (row[cols["den"]] * 100).quantize(D("0.01")) and t.columns[cols["den"]].label == den.label
    dtp = _figure(demo_brief, "median_days_to_pay")
    assert dtp.value == row[cols["dtp"]] and t.columns[cols["dtp"]].label == dtp.label
    # payment accuracy: base period (strategy) vs all history (scorecard), labelled apart
    acc = _figure(demo_brief, "payment_accuracy_percent")
    assert acc.label != t.columns[cols["acc"]].label and "base period" in acc.label
    assert "all history" in t.columns[cols["acc"]].label
    # revenue: the summary's annual revenue is the ZOPA's current terms, to the cent
    rev = next(f for f in demo_brief.summary.figures if f.key == "current_revenue")
    assert demo_brief.scenarios.zopa is not None and demo_brief.scenarios.zopa.current.value == rev.value
    # across the brief: one label, one value; one key, one value
    by_label: dict[str, set[str]] = {}
    by_key: dict[str, set[str]] = {}
    for s in demo_brief.sections():
        for f in s.figures:
            by_label.setdefault(f.label, set()).add(display(f.value, f.unit))
            by_key.setdefault(f.key, set()).add(display(f.value, f.unit))
    assert {k: v for k, v in by_label.items() if len(v) > 1} == {}
    assert {k: v for k, v in by_key.items() if len(v) > 1} == {}
