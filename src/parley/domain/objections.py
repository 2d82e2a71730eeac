"""Payer objections and their data-backed counterpoints (pure).

The library is YAML: the default ships as ``parley/domain/data/objections.yaml``;
a workspace may add or replace entries (same ``id``) in its own
``objections.yaml``.  A counterpoint is a template over named workspace figures
(``{percent_of_medicare}``); an objection whose figures are missing says which
ones, instead of inventing a number.
"""

from __future__ import annotations

import re
import string
from decimal import Decimal
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from parley.domain.value_based import build
from parley.errors import InputError

_FIELD = re.compile(r"^[a-z][a-z0-9_]*$")


class Objection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    objection: str
    counterpoint: str = Field(description="template: {figure_name} placeholders")
    figures: list[str] = Field(default_factory=list, description="figures the counterpoint needs (derived from the template)")
    fallback: str = Field(default="", description="what to say when a figure is missing")


class Library(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    objections: list[Objection]


class Answer(BaseModel):
    id: str
    objection: str
    counterpoint: str
    figures: dict[str, str | None]
    complete: bool


def placeholders(template: str) -> list[str]:
    names = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    bad = [n for n in names if not _FIELD.match(n)]
    if bad:
        raise InputError(f"counterpoint: placeholders must be figure names, not {bad}")
    return names


def load_library(data: Any, *, what: str) -> list[Objection]:
    lib: Library = build(Library, data, what=what)  # type: ignore[assignment]
    out = []
    for o in lib.objections:
        names = placeholders(o.counterpoint)
        out.append(o.model_copy(update={"figures": sorted(set(names) | set(o.figures))}))
    return out


def default_library() -> list[Objection]:
    text = resources.files("parley.domain").joinpath("data/objections.yaml").read_text(encoding="utf-8")
    return load_library(yaml.safe_load(text), what="default objections")


def merge(base: list[Objection], extra: list[Objection]) -> list[Objection]:
    """User entries replace defaults with the same id and add new ones."""
    by_id = {o.id: o for o in base}
    by_id.update({o.id: o for o in extra})
    return list(by_id.values())


def _fmt(v: Decimal | str | None) -> str | None:
    if v is None:
        return None
    if isinstance(v, Decimal):
        return f"{v:,.2f}" if abs(v) >= 1000 else format(v.normalize(), "f") if v == v.to_integral_value() else f"{v:.2f}"
    return str(v)


def answer(o: Objection, figures: dict[str, Decimal | str | None]) -> Answer:
    vals = {n: _fmt(figures.get(n)) for n in o.figures}
    missing = [n for n, v in vals.items() if v is None]
    if missing:
        text = (o.fallback + " " if o.fallback else "") + f"(needs: {', '.join(missing)} - not available in this workspace)"
        return Answer(id=o.id, objection=o.objection, counterpoint=text.strip(), figures=vals, complete=False)
    return Answer(id=o.id, objection=o.objection, counterpoint=o.counterpoint.format(**vals), figures=vals, complete=True)
