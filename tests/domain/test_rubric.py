"""Rubric scoring and objections: worked examples."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from parley.domain import objections as obj
from parley.domain.rubric import default_rubric, load_rubric, score
from parley.errors import InputError

RUBRIC = {
    "name": "t",
    "thresholds": {"accept": 70, "negotiate": 40},
    "criteria": [
        {"id": "money", "label": "money", "weight": 0.5, "figure": "pom", "worst": 100, "best": 200},
        {"id": "denials", "label": "denials", "weight": 0.3, "figure": "denial", "worst": 0.2, "best": 0.05},
        {"id": "relationship", "label": "rel", "weight": 0.2, "rule": "entry"},
    ],
}


def test_worked_score() -> None:
    # money: (150 - 100) / 100 = 50 -> x 0.5 = 25; denials: (0.2 - 0.08) / 0.15 = 80 -> x 0.3 = 24
    # relationship entry 90 x 0.2 = 18; total 67 -> negotiate (40 <= 67 < 70)
    card = score(load_rubric(RUBRIC), subject="X", figures={"pom": D(150), "denial": D("0.08")}, entries={"relationship": D(90)})
    assert [c.points for c in card.criteria] == [D("25.00"), D("24.00"), D("18.00")]
    assert card.total == D("67.00") and card.decision == "negotiate"
    assert "scale 100 (0) .. 200 (100) -> 50" in card.criteria[0].explanation


def test_missing_figure_is_neutral_and_clipped() -> None:
    # money missing -> 50 x 0.5 = 25; denial 0.3 worse than worst -> 0; no entry -> 50 x 0.2 = 10 -> 35 decline
    card = score(load_rubric(RUBRIC), subject="X", figures={"denial": D("0.3")})
    assert card.total == D("35.00") and card.decision == "decline"
    assert "not available" in card.criteria[0].explanation


def test_weights_must_sum_to_one() -> None:
    bad = {**RUBRIC, "criteria": [{**RUBRIC["criteria"][0], "weight": 0.6}, *RUBRIC["criteria"][1:]]}
    with pytest.raises(InputError, match="weights"):
        load_rubric(bad)
    with pytest.raises(InputError, match="negotiate"):
        load_rubric({**RUBRIC, "thresholds": {"accept": 40, "negotiate": 70}})
    with pytest.raises(InputError, match="unknown criteria"):
        score(load_rubric(RUBRIC), subject="X", figures={}, entries={"nope": D(1)})
    with pytest.raises(InputError, match="0..100"):
        score(load_rubric(RUBRIC), subject="X", figures={}, entries={"relationship": D(150)})


def test_default_rubric_and_objections_ship() -> None:
    r = default_rubric()
    assert sum(c.weight for c in r.criteria) == 1 and len(r.criteria) >= 9
    lib = obj.default_library()
    assert {"rates_above_market", "cannot_justify_increase", "quality_not_differentiated",
            "members_dont_need_you", "others_accept_less"} <= {o.id for o in lib}


def test_objection_answer_and_user_override() -> None:
    lib = obj.load_library({"objections": [{"id": "x", "objection": "too high", "counterpoint": "we are at {pom}% of Medicare"}]},
                           what="user")
    a = obj.answer(lib[0], {"pom": D("143.6")})
    assert a.complete and a.counterpoint == "we are at 143.60% of Medicare"
    b = obj.answer(lib[0], {})
    assert not b.complete and "needs: pom" in b.counterpoint
    merged = obj.merge(obj.default_library(), [lib[0].model_copy(update={"id": "rates_above_market"})])
    assert next(o for o in merged if o.id == "rates_above_market").objection == "too high"
