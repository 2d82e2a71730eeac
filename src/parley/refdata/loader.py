"""Read packaged (and workspace-loaded) reference data.  Lazy and cached; no import-time I/O.

Search order: a workspace's ``refdata/`` folder (``extra_dir``) first, then the
data packaged in ``parley/refdata/data``.  Both have the same layout::

    pfs/<year><release>/{rvu,gpci,localities,anesthesia,oppscap,zip5}.parquet, meta.json
    conversion_factors.csv                  (packaged; a workspace may add its own)
    codes/{place_of_service,ms_drg,carc,rarc,group_codes,plb_reasons}.csv,
    codes/hcpcs_level2.parquet

A PFS table missing from a release folder falls back to the latest earlier
release of the same year that has it, then to the nearest later one (the
packaged 2024 "A" release holds only RVUs and borrows GPCIs etc. from "C").
A workspace release folder wins over a packaged one of the same name.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path

import polars as pl

from parley.errors import InputError, ReferenceDataError

PFS_TABLES = ("rvu", "gpci", "localities", "anesthesia", "oppscap", "zip5")


@functools.lru_cache(maxsize=1)
def packaged_dir() -> Path:
    """Folder of the data packaged with Parley (resolved once: it is asked per PFS look-up)."""
    return Path(str(resources.files("parley.refdata") / "data"))


def _roots(extra_dir: Path | None) -> list[Path]:
    roots = [Path(extra_dir)] if extra_dir is not None else []
    return roots + [packaged_dir()]


_REL_DIR = re.compile(r"^(\d{4})([A-D])$")


@functools.lru_cache(maxsize=64)
def _releases(extra_key: str | None) -> dict[int, tuple[str, ...]]:
    found: dict[int, set[str]] = {}
    for root in _roots(Path(extra_key) if extra_key else None):
        pfs = root / "pfs"
        if not pfs.is_dir():
            continue
        for d in pfs.iterdir():
            m = _REL_DIR.match(d.name)
            if m and d.is_dir() and any(d.glob("*.parquet")):
                found.setdefault(int(m.group(1)), set()).add(m.group(2))
    return {y: tuple(sorted(r)) for y, r in sorted(found.items())}


def _key(extra_dir: Path | None) -> str | None:
    return _resolved(str(extra_dir)) if extra_dir is not None else None


@functools.lru_cache(maxsize=64)
def _resolved(extra_dir: str) -> str:
    """The workspace folder resolved once (the compile step asks for it per PFS look-up)."""
    return str(Path(extra_dir).resolve())


def available_years(extra_dir: Path | None = None) -> list[int]:
    """Years with PFS data (packaged plus workspace)."""
    return list(_releases(_key(extra_dir)))


def releases(year: int, extra_dir: Path | None = None) -> list[str]:
    """Release letters available for a year (A=Jan, B=Apr, C=Jul, D=Oct)."""
    return list(_releases(_key(extra_dir)).get(year, ()))


def default_release(year: int, extra_dir: Path | None = None) -> str:
    """The latest release of ``year`` that has RVUs (2024 -> "C", 2025 -> "D" as packaged)."""
    return _default_release(year, _key(extra_dir))


@functools.lru_cache(maxsize=64)
def _default_release(year: int, extra_key: str | None) -> str:
    extra_dir = Path(extra_key) if extra_key is not None else None
    rels = [r for r in releases(year, extra_dir) if _find(year, r, "rvu", extra_dir, exact=True)]
    if not rels:
        raise ReferenceDataError(
            f"no Medicare PFS data for {year}",
            hint=f"available years: {available_years(extra_dir)}; load a CMS release with "
            "`parley refdata load FILE`",
        )
    return rels[-1]


def _find(
    year: int, release: str, table: str, extra_dir: Path | None, *, exact: bool = False
) -> Path | None:
    return _find_cached(year, release, table, Path(extra_dir) if extra_dir is not None else None, exact)


@functools.lru_cache(maxsize=1024)
def _find_cached(year: int, release: str, table: str, extra_dir: Path | None, exact: bool) -> Path | None:
    """The file of a PFS table (cached like the release list; ``clear_cache`` forgets both: the
    repricing compile step looks tables up thousands of times)."""
    rels = releases(year, extra_dir)
    candidates = (
        [release]
        if exact
        else [r for r in reversed(rels) if r <= release] + [r for r in rels if r > release]
    )
    for rel in candidates:
        for root in _roots(extra_dir):
            p = root / "pfs" / f"{year}{rel}" / f"{table}.parquet"
            if p.is_file():
                return p
    return None


def _table_path(table: str, year: int, release: str | None, extra_dir: Path | None) -> Path:
    rel = (release or default_release(year, extra_dir)).upper()
    if rel not in ("A", "B", "C", "D"):
        raise InputError(f"release {release!r}: expected A, B, C or D")
    p = _find(year, rel, table, extra_dir)
    if p is None:
        raise ReferenceDataError(
            f"no {table} table for {year} release {rel}",
            hint=f"available: { {y: r for y, r in _releases(_key(extra_dir)).items()} }",
        )
    return p


@functools.lru_cache(maxsize=64)
def _read_parquet(path: str, mtime: float) -> pl.DataFrame:
    try:
        return pl.read_parquet(path)
    except Exception as exc:  # pragma: no cover - corrupted file
        raise ReferenceDataError(f"{path}: cannot read reference table ({exc})") from exc


def _load(path: Path) -> pl.DataFrame:
    return _read_parquet(str(path), path.stat().st_mtime)


def _pfs(table: str, year: int, release: str | None, extra_dir: Path | None) -> pl.DataFrame:
    return _load(_table_path(table, year, release, extra_dir))


def pfs_rvus(
    year: int, release: str | None = None, *, extra_dir: Path | None = None
) -> pl.DataFrame:
    """PPRRVU rows: one per (hcpcs, modifier); modifier "" when none (26 / TC / 53 rows apart)."""
    return _pfs("rvu", year, release, extra_dir)


def gpci(year: int, release: str | None = None, *, extra_dir: Path | None = None) -> pl.DataFrame:
    """GPCIs by carrier + locality (work GPCI with the statutory 1.0 floor already applied)."""
    return _pfs("gpci", year, release, extra_dir)


def localities(
    year: int, release: str | None = None, *, extra_dir: Path | None = None
) -> pl.DataFrame:
    """Locality names and counties (LOCCO), by carrier + locality."""
    return _pfs("localities", year, release, extra_dir)


def anesthesia(
    year: int, release: str | None = None, *, extra_dir: Path | None = None
) -> pl.DataFrame:
    """Anesthesia conversion factor by carrier + locality."""
    return _pfs("anesthesia", year, release, extra_dir)


def oppscap(
    year: int, release: str | None = None, *, extra_dir: Path | None = None
) -> pl.DataFrame:
    """OPPS cap amounts (facility / non-facility) by code, modifier, carrier, locality."""
    return _pfs("oppscap", year, release, extra_dir)


def zip_locality(
    year: int, release: str | None = None, *, extra_dir: Path | None = None
) -> pl.DataFrame:
    """ZIP5 -> carrier + locality (CMS ZIP5 file).  Packaged: 2025 only (Oct 2025)."""
    try:
        return _pfs("zip5", year, release, extra_dir)
    except ReferenceDataError:
        years = [y for y in available_years(extra_dir) if _has_zip(y, extra_dir)]
        raise ReferenceDataError(
            f"no ZIP-to-locality table for {year}",
            hint=f"ZIP tables exist for {years}; pass locality='CCCCC-LL' instead, or load "
            "CMS's ZIP5 file for that year",
        ) from None


def _has_zip(year: int, extra_dir: Path | None) -> bool:
    return _find(year, "A", "zip5", extra_dir) is not None


def release_meta(
    year: int, release: str | None = None, *, extra_dir: Path | None = None
) -> dict[str, object]:
    """meta.json of a release (label, sources, conversion factor, national anesthesia CF)."""
    rel = (release or default_release(year, extra_dir)).upper()
    meta: dict[str, object] = {}
    for root in reversed(_roots(extra_dir)):
        p = root / "pfs" / f"{year}{rel}" / "meta.json"
        if p.is_file():
            meta.update(json.loads(p.read_text(encoding="utf-8")))
    return meta


def inventory(extra_dir: Path | None = None) -> list[dict[str, object]]:
    """Every PFS table available, packaged and workspace: for ``parley refdata list``.

    One dict per (year, release, table): origin ("workspace" / "packaged"),
    rows, source file name, label.  A workspace table shadows the packaged one.
    """
    out: list[dict[str, object]] = []
    for year, rels in _releases(_key(extra_dir)).items():
        for rel in rels:
            meta = release_meta(year, rel, extra_dir=extra_dir)
            raw_sources = meta.get("sources")
            sources: dict[str, str] = raw_sources if isinstance(raw_sources, dict) else {}
            for table in PFS_TABLES:
                p = _find(year, rel, table, extra_dir, exact=True)
                if p is None:
                    continue
                origin = (
                    "workspace"
                    if extra_dir is not None and Path(extra_dir) in p.parents
                    else "packaged"
                )
                out.append(
                    {
                        "year": year,
                        "release": rel,
                        "label": meta.get("label", f"{year}{rel}"),
                        "table": table,
                        "rows": pl.scan_parquet(p).select(pl.len()).collect().item(),
                        "origin": origin,
                        "source": sources.get(table, ""),
                    }
                )
    return out


# --------------------------------------------------------------------------- localities


@dataclass(frozen=True)
class Locality:
    carrier: str
    locality: str
    state: str | None = None
    name: str | None = None
    zip_split: bool = False  # ZIP5 spans localities: CMS decides by ZIP+4 (ZIP9 file)

    @property
    def key(self) -> str:
        return f"{self.carrier}-{self.locality}"


def parse_locality(value: str) -> tuple[str, str]:
    """'13202-01', '13202 01', '1320201', '13202/01' -> ('13202', '01')."""
    v = value.strip()
    m = re.fullmatch(r"(\d{4,5})\s*[-/ :]\s*(\d{1,2})", v) or re.fullmatch(r"(\d{5})(\d{2})", v)
    if not m:
        raise InputError(
            f"locality {value!r}: expected carrier and locality like '13202-01' or '1320201'"
        )
    return m.group(1).zfill(5), m.group(2).zfill(2)


def locality_info(
    carrier: str, locality: str, year: int, *, release: str | None = None,
    extra_dir: Path | None = None,
) -> Locality:  # fmt: skip
    return _locality_info(carrier, locality, year, release, extra_dir)


@functools.lru_cache(maxsize=4096)
def _locality_info(carrier: str, locality: str, year: int, release: str | None, extra_dir: Path | None) -> Locality:
    g = gpci(year, release, extra_dir=extra_dir).filter(
        (pl.col("carrier") == carrier) & (pl.col("locality") == locality)
    )
    if g.height == 0:
        raise InputError(
            f"no Medicare locality {carrier}-{locality} in {year}",
            hint="see `parley refdata localities` / parley.refdata.gpci(year) for valid pairs",
        )
    return Locality(carrier, locality, g["state"][0], g["locality_name"][0])


def locality_for_zip(
    zip_code: str, year: int, *, release: str | None = None, extra_dir: Path | None = None
) -> Locality:
    """Carrier + locality of a practice ZIP (5 digits; ZIP+4 accepted, +4 ignored)."""
    z = re.sub(r"\D", "", str(zip_code))[:5]
    if len(z) != 5:
        raise InputError(f"ZIP {zip_code!r}: expected 5 digits")
    df = zip_locality(year, release, extra_dir=extra_dir).filter(pl.col("zip5") == z)
    if df.height == 0:
        raise InputError(f"ZIP {z} is not in CMS's ZIP-to-locality file for {year}")
    carrier, loc, state = df["carrier"][0], df["locality"][0], df["state"][0]
    split = bool(df["plus4_flag"][0])
    try:
        info = locality_info(carrier, loc, year, release=release, extra_dir=extra_dir)
        return Locality(carrier, loc, state, info.name, split)
    except (InputError, ReferenceDataError):
        return Locality(carrier, loc, state, None, split)


# --------------------------------------------------------------------------- conversion factor


@functools.lru_cache(maxsize=8)
def _cf_history(extra_key: str | None) -> tuple[tuple[dt.date, dt.date, Decimal], ...]:
    rows: dict[dt.date, tuple[dt.date, dt.date, Decimal]] = {}
    for root in reversed(_roots(Path(extra_key) if extra_key else None)):
        p = root / "conversion_factors.csv"
        if not p.is_file():
            continue
        with p.open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                start = dt.date.fromisoformat(r["date_start"])
                rows[start] = (start, dt.date.fromisoformat(r["date_end"]), Decimal(r["cf"]))
    return tuple(sorted(rows.values()))


def conversion_factor_history(extra_dir: Path | None = None) -> pl.DataFrame:
    """PFS conversion factor by date range (1992 on)."""
    h = _cf_history(_key(extra_dir))
    return pl.DataFrame(
        {"date_start": [r[0] for r in h], "date_end": [r[1] for r in h], "cf": [r[2] for r in h]},
        schema={"date_start": pl.Date, "date_end": pl.Date, "cf": pl.Decimal(10, 4)},
    )


def conversion_factor(
    year: int,
    on_date: dt.date | None = None,
    *,
    release: str | None = None,
    extra_dir: Path | None = None,
) -> Decimal:
    """The PFS conversion factor.

    With ``on_date``: the CF in force that day (2024: 32.7442 to 8 March,
    33.2875 from 9 March).  Without: the CF of the year's release (the one in
    its PPRRVU file; 2024 default "C" -> 33.2875, 2025 -> 32.3465), falling
    back to the last date range of that year in the history.
    """
    if on_date is not None:
        if on_date.year != year:
            raise InputError(f"on_date {on_date} is not in {year}")
        for start, end, cf in _cf_history(_key(extra_dir)):
            if start <= on_date <= end:
                return cf
    if year in available_years(extra_dir):
        meta = release_meta(year, release, extra_dir=extra_dir)
        if "conversion_factor" in meta:
            return Decimal(str(meta["conversion_factor"]))
    in_year = [cf for start, _end, cf in _cf_history(_key(extra_dir)) if start.year == year]
    if in_year:
        return in_year[-1]
    raise ReferenceDataError(f"no PFS conversion factor for {year}")


def national_anesthesia_cf(
    year: int, release: str | None = None, *, extra_dir: Path | None = None
) -> Decimal:
    meta = release_meta(year, release, extra_dir=extra_dir)
    v = meta.get("national_anesthesia_cf")
    if v is None:
        raise ReferenceDataError(
            f"no national anesthesia conversion factor recorded for {year}",
            hint="give a locality (carrier-locality or ZIP) instead",
        )
    return Decimal(str(v))


# --------------------------------------------------------------------------- code tables


@functools.lru_cache(maxsize=32)
def _read_code_csv(path: str, mtime: float) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def _codes_table(name: str, extra_dir: Path | None) -> pl.DataFrame:
    p = packaged_dir() / "codes" / f"{name}.csv"
    if not p.is_file():
        raise ReferenceDataError(f"packaged code table {name} is missing ({p})")
    base = _read_code_csv(str(p), p.stat().st_mtime)
    if extra_dir is not None:
        extra = Path(extra_dir) / "codes" / f"{name}_descriptions.csv"
        if extra.is_file():
            desc = _read_code_csv(str(extra), extra.stat().st_mtime)
            base = base.join(desc.select("code", "description"), on="code", how="left")
    return base


def _bool(df: pl.DataFrame, *cols: str) -> pl.DataFrame:
    return df.with_columns(pl.col(c).str.to_lowercase().is_in(["true", "1"]) for c in cols)


def place_of_service(extra_dir: Path | None = None) -> pl.DataFrame:
    """POS code (2 digits), CMS name, facility flag (facility PE RVU applies when True)."""
    return _bool(_codes_table("place_of_service", extra_dir), "facility")


def pos_is_facility(pos: str | int, extra_dir: Path | None = None) -> bool:
    """True when CMS pays the facility rate for this place of service."""
    code = str(pos).strip().zfill(2)
    df = place_of_service(extra_dir).filter(pl.col("pos") == code)
    if df.height == 0:
        raise InputError(f"place of service {pos!r} is not a CMS POS code")
    return bool(df["facility"][0])


def ms_drg(extra_dir: Path | None = None) -> pl.DataFrame:
    """MS-DRG code, MDC, type (P surgical / M medical), CMS title, deprecated flag.

    The source list has no relative weights / GMLOS / ALOS (CMS Table 5 not
    shipped); load those with the IPPS tables when needed.
    """
    return _bool(_codes_table("ms_drg", extra_dir), "deprecated")


def carc(extra_dir: Path | None = None) -> pl.DataFrame:
    """CARC: code, category (12 root causes), category_label, recoverable, rule."""
    return _bool(_codes_table("carc", extra_dir), "recoverable")


def rarc(extra_dir: Path | None = None) -> pl.DataFrame:
    """RARC: code, kind (alert / remark), category (keyword rules), start / stop dates."""
    return _codes_table("rarc", extra_dir).with_columns(
        pl.col("start_date").str.to_date(), pl.col("stop_date").str.to_date()
    )


def group_codes(extra_dir: Path | None = None) -> pl.DataFrame:
    """CAS group codes CO / PR / OA / PI / CR with our labels."""
    return _codes_table("group_codes", extra_dir)


def plb_reasons(extra_dir: Path | None = None) -> pl.DataFrame:
    """PLB (provider-level adjustment) reason codes with our category and label."""
    return _codes_table("plb_reasons", extra_dir)


def hcpcs_level2(extra_dir: Path | None = None) -> pl.DataFrame:
    """HCPCS Level II codes and modifiers with CMS's short descriptor (no CPT, no CDT)."""
    p = packaged_dir() / "codes" / "hcpcs_level2.parquet"
    return _load(p)


def carc_category(code: str, extra_dir: Path | None = None) -> str:
    """Root-cause category of one CARC ("other" for a code not in the list)."""
    from parley.refdata.carc_rules import normalize_code

    c = normalize_code(code)
    df = carc(extra_dir).filter(pl.col("code") == c)
    return str(df["category"][0]) if df.height else "other"


_CODE_KINDS = {"carc", "rarc", "group_codes", "plb_reasons"}


def load_code_descriptions(path: Path, kind: str, *, dest_dir: Path) -> int:
    """Copy a user's full X12 list (CSV with Code, Description) into ``dest_dir/codes``.

    Afterwards ``carc(extra_dir=dest_dir)`` etc. carry a ``description`` column.
    Returns the number of codes.
    """
    import os
    import tempfile

    if kind not in _CODE_KINDS:
        raise InputError(f"kind {kind!r}: expected one of {sorted(_CODE_KINDS)}")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise InputError(f"{path}: empty file")
    header = [h.strip().lower() for h in rows[0]]
    if "code" not in header or "description" not in header:
        raise InputError(f"{path}, line 1: expected columns Code and Description, got {rows[0]}")
    ic, idesc = header.index("code"), header.index("description")
    out = []
    for n, r in enumerate(rows[1:], start=2):
        if not r or not any(x.strip() for x in r):
            continue
        if len(r) <= max(ic, idesc):
            raise InputError(f"{path}, line {n}: too few columns")
        out.append((r[ic].strip(), r[idesc].strip()))
    dest = Path(dest_dir) / "codes" / f"{kind}_descriptions.csv"
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["code", "description"])
        w.writerows(out)
    os.replace(tmp, dest)
    clear_cache()
    return len(out)


def clear_cache() -> None:
    """Forget cached tables (after loading a release into a workspace)."""
    from parley.refdata import fees

    for f in (_releases, _resolved, _default_release, _find_cached, _read_parquet, _cf_history, _read_code_csv, _locality_info, fees._gpci_row):
        f.cache_clear()
