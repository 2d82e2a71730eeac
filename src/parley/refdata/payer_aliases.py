"""Payer aliases: one canonical name for the many ways a payer is written.

A payer appears as "UnitedHealthcare Insurance Company of New York" in its
Transparency-in-Coverage files (``reporting_entity_name``), "UHC" or "United
Healthcare" in hospitals' standard-charge files (``payer_name``) and
"UnitedHealthcare" in the organisation's contracts and remittances.
:class:`PayerAliases` maps all of them to one canonical name, so market rates
and our own rates meet.

The table is ``payer,alias[,generic]`` rows: the packaged list
(``parley/refdata/data/payer_aliases.csv``: major US payers and their common
spellings and subsidiaries) and, read first, an optional workspace file
``<workspace>/refdata/payer_aliases.csv`` with the same columns that adds
spellings or re-maps an alias.  Lines starting with ``#`` are comments.

Matching: a name and an alias are normalised (lower case, ``&`` -> ``and``,
punctuation to spaces, blanks collapsed); an alias matches when its words
appear whole and in order in the name; an alias marked ``generic`` (a
product word such as Medicare or Blue Cross) loses to any other; then the
alias found earliest in the name wins (payers put their brand first: "Anthem Blue Cross and Blue Shield" is
Anthem, not an unnamed Blue plan), then the longest (in words, then
characters), then the workspace file's.  A name no alias
matches is its own canonical name (normalised spacing, as published).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from parley.errors import InputError

FILE_NAME = "payer_aliases.csv"
_PUNCT = re.compile(r"[^0-9a-z]+")


def normalize(name: str) -> str:
    """Lower case, '&' -> 'and', punctuation to spaces, single spaces."""
    return _PUNCT.sub(" ", name.lower().replace("&", " and ")).strip()


@dataclass(frozen=True)
class Alias:
    payer: str
    alias: str  # normalised
    origin: str  # "workspace" or "packaged"
    generic: bool = False  # a product word (Medicare, Blue Cross): loses to any named payer

    def rank(self, padded: str) -> tuple[bool, int, int, int, bool] | None:
        """How well the alias matches a padded normalised name (higher wins), or None."""
        at = padded.find(f" {self.alias} ")
        if at < 0:
            return None
        return (
            not self.generic,
            -at,
            len(self.alias.split()),
            len(self.alias),
            self.origin == "workspace",
        )


@dataclass(frozen=True)
class PayerAliases:
    """The alias table; ``canonical(name)`` resolves a published name."""

    aliases: tuple[Alias, ...]
    workspace_file: str | None = None
    _cache: dict[str, str] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def match(self, name: str | None) -> Alias | None:
        """The alias that decides a name's payer, or None."""
        if not name:
            return None
        padded = f" {normalize(name)} "
        best: Alias | None = None
        best_rank: tuple[bool, int, int, int, bool] | None = None
        for a in self.aliases:
            rank = a.rank(padded)
            if rank is not None and (best_rank is None or rank > best_rank):
                best, best_rank = a, rank
        return best

    def canonical(self, name: str | None) -> str | None:
        """The canonical payer of a published name (itself, tidied, when no alias matches)."""
        if name is None:
            return None
        if name not in self._cache:
            hit = self.match(name)
            self._cache[name] = hit.payer if hit else " ".join(name.split())
        return self._cache[name]

    def mapping(self, names: list[str | None]) -> dict[str, str]:
        """Published name -> canonical payer, for a column's distinct values."""
        return {n: c for n in names if n is not None and (c := self.canonical(n)) is not None}

    def payers(self) -> list[str]:
        return sorted({a.payer for a in self.aliases})


def _rows(text: str, where: str) -> list[tuple[str, str, bool]]:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    names = [n.strip().lower() for n in reader.fieldnames or []]
    if "payer" not in names or "alias" not in names:
        raise InputError(
            f"{where}: a payer-alias file needs the columns payer,alias (found: {', '.join(names)})",
            hint="one row per spelling, e.g.  UnitedHealthcare,UHC of New York",
        )
    out = []
    for i, row in enumerate(reader, start=2):
        clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        payer, alias = clean.get("payer", ""), clean.get("alias", "")
        if not payer or not normalize(alias):
            raise InputError(f"{where}: data row {i - 1}: both payer and alias are needed")
        out.append((payer, alias, clean.get("generic", "").lower() in ("yes", "y", "true", "1")))
    return out


@functools.lru_cache(maxsize=1)
def _packaged() -> tuple[tuple[str, str, bool], ...]:
    text = resources.files("parley.refdata").joinpath(f"data/{FILE_NAME}").read_text("utf-8")
    return tuple(_rows(text, f"parley/refdata/data/{FILE_NAME}"))


def load_payer_aliases(extra_dir: Path | None = None) -> PayerAliases:
    """The packaged table plus ``extra_dir/payer_aliases.csv`` when it exists."""
    table: list[Alias] = []
    found: str | None = None
    if extra_dir is not None and (Path(extra_dir) / FILE_NAME).is_file():
        path = Path(extra_dir) / FILE_NAME
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InputError(f"{path}: cannot read the payer-alias file ({exc})") from exc
        table += [Alias(p, normalize(a), "workspace", g) for p, a, g in _rows(text, str(path))]
        found = str(path)
    packaged = [Alias(p, normalize(a), "packaged", g) for p, a, g in _packaged()]
    # each canonical name is an alias of itself (generic when all its aliases are)
    generic = {a.payer: True for a in table + packaged}
    for a in table + packaged:
        generic[a.payer] = generic[a.payer] and a.generic
    table += packaged + [Alias(n, normalize(n), "packaged", g) for n, g in sorted(generic.items())]
    return PayerAliases(tuple(table), workspace_file=found)
