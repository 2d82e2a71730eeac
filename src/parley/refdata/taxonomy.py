"""Provider taxonomy -> specialty family -> the code ranges a family plausibly bills.

Two packaged tables (``parley/refdata/data``), both documented in their headers
and in docs/market.md ("Plausibility"):

* ``taxonomy_families.csv``: NUCC Health Care Provider Taxonomy prefixes
  (codes and classification names from the public NUCC code set) -> Parley's
  specialty family; the longest matching prefix wins; family ``any``
  (hospitals, clinics, groups) may bill anything.
* ``code_family_billers.csv``: public CPT section / HCPCS Level II number
  ranges -> the families that plausibly bill them (Parley's own, deliberately
  generous rule).  ``physicians`` expands to every family of a physician
  classification (NUCC 20x), ``clinicians`` to the same without radiology and
  pathology; a range open to ``radiology`` is open to
  ``interventional_radiology`` too.

:func:`bills` answers "does a provider with these taxonomies plausibly bill
this code?"; it says yes whenever it cannot judge (no taxonomy, a taxonomy
outside the table, a code outside every range).
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources

ANY = "any"


@dataclass(frozen=True)
class CodeRange:
    first: str
    last: str
    code_family: str
    billed_by: frozenset[str]

    def covers(self, code: str) -> bool:
        return len(code) == len(self.first) and self.first <= code <= self.last


def _csv(name: str) -> list[dict[str, str]]:
    text = resources.files("parley.refdata").joinpath(f"data/{name}").read_text("utf-8")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return [
        {k: (v or "").strip() for k, v in row.items()}
        for row in csv.DictReader(io.StringIO("\n".join(lines)))
    ]


@functools.lru_cache(maxsize=1)
def taxonomy_families() -> tuple[tuple[str, str, str], ...]:
    """(prefix, family, NUCC classification), longest prefix first."""
    rows = [
        (r["prefix"].upper(), r["family"], r["nucc_classification"])
        for r in _csv("taxonomy_families.csv")
    ]
    return tuple(sorted(rows, key=lambda r: -len(r[0])))


@functools.lru_cache(maxsize=1)
def code_ranges() -> tuple[CodeRange, ...]:
    """The code ranges with their billing families (groups expanded)."""
    fams = taxonomy_families()
    physicians = frozenset(f for p, f, _ in fams if p.startswith("20"))
    groups = {
        "physicians": physicians,
        "clinicians": physicians - {"radiology", "pathology"},
    }
    out = []
    for r in _csv("code_family_billers.csv"):
        billed: set[str] = set()
        for name in r["billed_by"].split(";"):
            name = name.strip()
            billed |= groups.get(name, {name})
        if "radiology" in billed:
            billed.add("interventional_radiology")
        out.append(
            CodeRange(
                r["first_code"].upper(), r["last_code"].upper(), r["code_family"], frozenset(billed)
            )
        )
    return tuple(out)


@functools.lru_cache(maxsize=65536)
def family_of(taxonomy: str) -> str | None:
    """The specialty family of one taxonomy code (None when the table does not know it)."""
    code = taxonomy.strip().upper()
    for prefix, family, _ in taxonomy_families():
        if code.startswith(prefix):
            return family
    return None


def code_range(code: str) -> CodeRange | None:
    code = code.strip().upper()
    for r in code_ranges():
        if r.covers(code):
            return r
    return None


def bills(code: str, taxonomies: str | None) -> bool:
    """Whether a provider with these taxonomies (``;``-separated) plausibly bills ``code``."""
    if not taxonomies or not code:
        return True
    families = {family_of(t) for t in taxonomies.split(";") if t.strip()}
    if None in families or ANY in families or not families:
        return True
    found = code_range(code)
    return found is None or bool(families & found.billed_by)
