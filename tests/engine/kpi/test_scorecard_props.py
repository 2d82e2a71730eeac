"""Scores stay in 0-100 and move the right way whatever the inputs (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from parley.engine.kpi.scorecard import HASSLE, VALUE, score

_num = st.one_of(st.none(), st.floats(min_value=-10, max_value=1000, allow_nan=False))
_row = st.fixed_dictionaries({c: _num for c, *_ in HASSLE + VALUE if c != "low_hassle"})


@given(_row)
def test_scores_bounded(row):
    out = score(row)
    for k in ("hassle_score", "value_score"):
        assert out[k] is None or 0 <= out[k] <= 100


@given(_row, st.floats(min_value=0, max_value=1))
def test_more_denials_never_less_hassle(row, bump):
    if row["initial_denial_rate"] is None:
        return
    worse = {**row, "initial_denial_rate": row["initial_denial_rate"] + bump}
    assert score(worse)["hassle_score"] >= score(row)["hassle_score"]
