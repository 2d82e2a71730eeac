"""What to keep while reading price-transparency files: the code basket and the market."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from parley.errors import InputError

_NON_DIGIT = re.compile(r"\D")


def normalize_tin(value: object) -> str:
    """A TIN (EIN) with punctuation removed: '11-1111111' -> '111111111'."""
    return _NON_DIGIT.sub("", str(value)) if value is not None else ""


def shoppable_codes() -> frozenset[str]:
    """The CMS shoppable-services codes shipped with Parley (codes only; see NOTICE.market)."""
    text = (
        resources.files("parley.ingest.tic").joinpath("data/shoppable_codes.csv").read_text("utf-8")
    )
    return frozenset(line.strip() for line in text.splitlines()[1:] if line.strip())


@dataclass(frozen=True)
class Market:
    """Providers to keep: rows whose NPI or TIN is listed (no lists = everyone).

    ``taxonomy`` maps NPI -> taxonomy codes from a registry extract; it does not
    filter by itself, it feeds the plausibility rule (a provider whose taxonomy
    does not bill a code).
    """

    npis: frozenset[int] | None = None
    tins: frozenset[str] | None = None
    taxonomy: dict[int, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def active(self) -> bool:
        return self.npis is not None or self.tins is not None


@dataclass(frozen=True)
class MarketOptions:
    """How to read: code basket, market, parallelism, network access."""

    codes: frozenset[str] | None = None
    market: Market = field(default_factory=Market)
    workers: int = 0
    scheduler: str | None = None
    block_bytes: int = 64 << 20
    batch_bytes: int = 32 << 20
    fetch_urls: bool = False
    url_timeout: float = 30.0
    #: decompress .gz files into this folder first and read them with the parallel
    #: plain-file path (needs the uncompressed size in free space); None = stream
    spool_dir: str | None = None


def registry_market(
    path: Path,
    *,
    states: Iterable[str] = (),
    zips: Iterable[str] = (),
    taxonomies: Iterable[str] = (),
    npis: Iterable[int | str] = (),
    tins: Iterable[str] = (),
) -> Market:
    """A market from an NPI-registry extract CSV and the user's criteria.

    The CSV needs an ``npi`` column and any of ``state``, ``zip`` (5+ digits),
    ``taxonomy`` (codes separated by ``;`` or ``|``) and ``tin``; NPPES's long
    header names (``Provider Business Practice Location Address State Name``...)
    are recognised too.  A registry row is in the market when it matches every
    criterion given (state AND zip AND taxonomy); explicit NPIs and TINs are added.
    """
    want_states = {s.strip().upper() for s in states if s.strip()}
    want_zips = {z.strip()[:5] for z in zips if z.strip()}
    want_tax = {t.strip().upper() for t in taxonomies if t.strip()}
    keep: set[int] = {int(n) for n in npis}
    keep_tins = {normalize_tin(t) for t in tins}
    taxonomy: dict[int, str] = {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the NPI registry extract ({exc})") from exc
    reader = csv.DictReader(io.StringIO(text))
    cols = _registry_columns(reader.fieldnames or [], path)
    for row in reader:
        raw = (row.get(cols["npi"]) or "").strip()
        if not raw.isdigit():
            continue
        npi = int(raw)
        codes = {
            c.strip().upper()
            for c in re.split(r"[;|,]", row.get(cols.get("taxonomy", ""), "") or "")
            if c.strip()
        }
        if codes:
            taxonomy[npi] = ";".join(sorted(codes))
        if (
            want_states
            and (row.get(cols.get("state", ""), "") or "").strip().upper() not in want_states
        ):
            continue
        if want_zips and (row.get(cols.get("zip", ""), "") or "").strip()[:5] not in want_zips:
            continue
        if want_tax and not (codes & want_tax):
            continue
        if want_states or want_zips or want_tax:
            keep.add(npi)
            tin = normalize_tin(row.get(cols.get("tin", ""), "") or "")
            if tin:
                keep_tins.add(tin)
    return Market(
        npis=frozenset(keep) if keep or want_states or want_zips or want_tax else None,
        tins=frozenset(keep_tins) if keep_tins else None,
        taxonomy=taxonomy,
    )


_ALIASES = {
    "npi": ("npi",),
    "state": ("state", "provider business practice location address state name"),
    "zip": (
        "zip",
        "zip5",
        "postal_code",
        "provider business practice location address postal code",
    ),
    "taxonomy": ("taxonomy", "taxonomies", "healthcare provider taxonomy code_1"),
    "tin": ("tin", "ein"),
}


def _registry_columns(names: Sequence[str], path: Path) -> dict[str, str]:
    lower = {n.strip().lower(): n for n in names}
    found = {k: lower[a] for k, aliases in _ALIASES.items() for a in aliases if a in lower}
    if "npi" not in found:
        raise InputError(
            f"{path}: the NPI registry extract has no 'npi' column (columns: {', '.join(names[:8])})",
            hint="export NPPES rows with at least npi, state, zip, taxonomy columns",
        )
    return found
