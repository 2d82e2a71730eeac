"""The scoring rubric (pure): criteria, weights, scoring rules, thresholds.

A rubric is YAML (the default ships as ``parley/domain/data/rubric.yaml``;
``examples/rubric.yaml`` shows every option).  Each criterion is scored 0-100:

* ``linear`` from a figure: ``(value - worst) / (best - worst)``, clipped to
  0..1, x 100 (``worst`` may be above ``best`` when lower is better);
* ``entry``: a user's score 0-100 (``parley score --set relationship=80``);
* a missing figure gets the criterion's ``missing_score`` (default 50,
  neutral) and says so.

Points = weight x score; the total (0-100) is compared with the thresholds:
``>= accept`` accept, ``>= negotiate`` negotiate, else decline.  Weights must
sum to 1.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from parley.domain.value_based import build
from parley.errors import InputError

HUNDRED = Decimal(100)


def _r(x: Decimal, q: str = "0.1") -> Decimal:
    return x.quantize(Decimal(q), rounding=ROUND_HALF_UP)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criterion(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    weight: Decimal = Field(ge=0, le=1)
    rule: Literal["linear", "entry"] = "linear"
    figure: str | None = Field(default=None, description="the workspace figure scored (linear)")
    worst: Decimal | None = None
    best: Decimal | None = None
    missing_score: Decimal = Field(default=Decimal(50), ge=0, le=100)
    description: str = ""

    @model_validator(mode="after")
    def _rule(self) -> Criterion:
        if self.rule == "linear":
            if self.figure is None or self.worst is None or self.best is None:
                raise ValueError(f"criterion {self.id}: a linear rule needs figure, worst and best")
            if self.worst == self.best:
                raise ValueError(f"criterion {self.id}: worst and best must differ")
        return self


class Thresholds(_Model):
    accept: Decimal = Field(ge=0, le=100)
    negotiate: Decimal = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _order(self) -> Thresholds:
        if self.negotiate > self.accept:
            raise ValueError(f"negotiate ({self.negotiate}) must not be above accept ({self.accept})")
        return self


class Rubric(_Model):
    name: str = "rubric"
    criteria: list[Criterion] = Field(min_length=1)
    thresholds: Thresholds

    @model_validator(mode="after")
    def _weights(self) -> Rubric:
        total = sum((c.weight for c in self.criteria), Decimal(0))
        if abs(total - 1) > Decimal("0.001"):
            raise ValueError(f"weights sum to {total}, not 1 ({', '.join(f'{c.id}={c.weight}' for c in self.criteria)})")
        ids = [c.id for c in self.criteria]
        if len(set(ids)) != len(ids):
            raise ValueError("criterion ids must be unique")
        return self


class CriterionScore(_Model):
    id: str
    label: str
    weight: Decimal
    value: Decimal | None
    score: Decimal
    points: Decimal
    explanation: str


class Scorecard(_Model):
    rubric: str
    subject: str
    total: Decimal
    decision: Literal["accept", "negotiate", "decline"]
    thresholds: Thresholds
    criteria: list[CriterionScore]
    explanation: str


def load_rubric(data: Any, *, what: str = "rubric") -> Rubric:
    """A rubric from parsed YAML; errors name the field (e.g. ``weights``)."""
    if isinstance(data, dict) and "criteria" in data and isinstance(data["criteria"], list):
        total = sum((Decimal(str(c.get("weight", 0))) for c in data["criteria"] if isinstance(c, dict)), Decimal(0))
        if abs(total - 1) > Decimal("0.001"):
            raise InputError(f"{what}: weights: the criteria's weights sum to {total}, not 1",
                             hint="make the weights add up to 1 (e.g. 0.25 + 0.25 + 0.5)")
    return build(Rubric, data, what=what)  # type: ignore[return-value]


def default_rubric() -> Rubric:
    text = resources.files("parley.domain").joinpath("data/rubric.yaml").read_text(encoding="utf-8")
    return load_rubric(yaml.safe_load(text), what="default rubric")


def score_criterion(c: Criterion, figures: dict[str, Decimal | None], entries: dict[str, Decimal]) -> CriterionScore:
    if c.rule == "entry" or c.id in entries:
        value = entries.get(c.id)
        if value is not None and not 0 <= value <= 100:
            raise InputError(f"score entry {c.id}: must be 0..100, got {value}")
        score = value if value is not None else c.missing_score
        why = f"user entry {value}" if value is not None else f"no entry: neutral {c.missing_score}"
        return _scored(c, value, score, why)
    assert c.figure is not None and c.worst is not None and c.best is not None
    value = figures.get(c.figure)
    if value is None:
        return _scored(c, None, c.missing_score, f"{c.figure} not available: neutral {c.missing_score}")
    frac = min(max((value - c.worst) / (c.best - c.worst), Decimal(0)), Decimal(1))
    score = _r(frac * HUNDRED)
    why = f"{c.figure} = {value}; scale {c.worst} (0) .. {c.best} (100) -> {score}"
    return _scored(c, value, score, why)


def _scored(c: Criterion, value: Decimal | None, score: Decimal, why: str) -> CriterionScore:
    points = _r(c.weight * score, "0.01")
    return CriterionScore(id=c.id, label=c.label, weight=c.weight, value=value, score=score, points=points,
                          explanation=f"{why}; x weight {c.weight} = {points} points")


def score(rubric: Rubric, *, subject: str, figures: dict[str, Decimal | None],
          entries: dict[str, Decimal] | None = None) -> Scorecard:
    """Score every criterion and decide by the thresholds."""
    entries = entries or {}
    unknown = set(entries) - {c.id for c in rubric.criteria}
    if unknown:
        raise InputError(f"score entries: unknown criteria {sorted(unknown)}; the rubric has "
                         f"{', '.join(c.id for c in rubric.criteria)}")
    rows = [score_criterion(c, figures, entries) for c in rubric.criteria]
    total = _r(sum((r.points for r in rows), Decimal(0)), "0.01")
    t = rubric.thresholds
    decision: Literal["accept", "negotiate", "decline"] = (
        "accept" if total >= t.accept else "negotiate" if total >= t.negotiate else "decline")
    return Scorecard(rubric=rubric.name, subject=subject, total=total, decision=decision, thresholds=t, criteria=rows,
                     explanation=f"total {total} of 100: accept at >= {t.accept}, negotiate at >= {t.negotiate}, "
                                 f"else decline -> {decision}")
