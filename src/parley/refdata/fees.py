"""Medicare fee lookup: find the PFS rows, then call :mod:`parley.domain.medicare`.

This is the thin, non-pure layer used by ``parley medicare`` and the repricing
engine.  All arithmetic lives in the domain module.
"""

from __future__ import annotations

import builtins
import datetime as dt
import functools
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from parley.domain import medicare as dm
from parley.errors import InputError, ReferenceDataError
from parley.refdata import loader

# PPRRVU status codes paid under the PFS from RVUs: A active, R restricted, T paid only
# when no other PFS service that day.  (C carrier priced, B bundled, I/N/X/E/M/P/G/H/D/J
# are not paid from the national RVUs.)
PAYABLE_STATUS = frozenset({"A", "R", "T"})

ONE = Decimal("1.000")
ZERO = Decimal("0.00")


def _z(v: Any) -> Decimal:
    """A PPRRVU value (None for blank) as Decimal."""
    return ZERO if v is None else Decimal(v)


def _resolve_locality(
    year: int,
    locality: str | None,
    zip_code: str | None,
    release: str | None,
    extra_dir: Path | None,
) -> loader.Locality | None:
    if locality and zip_code:
        raise InputError("give a locality or a ZIP, not both")
    if locality:
        carrier, loc = loader.parse_locality(locality)
        return loader.locality_info(carrier, loc, year, release=release, extra_dir=extra_dir)
    if zip_code:
        return loader.locality_for_zip(zip_code, year, release=release, extra_dir=extra_dir)
    return None


def _gpcis(
    year: int, loc: loader.Locality | None, rel: str, extra_dir: Path | None
) -> tuple[Decimal, Decimal, Decimal, str]:
    if loc is None:
        return ONE, ONE, ONE, "national (GPCI 1.000)"
    return _gpci_row(year, loc.carrier, loc.locality, loc.name, rel, extra_dir)


@functools.lru_cache(maxsize=4096)
def _gpci_row(
    year: int, carrier: str, locality: str, name: str | None, rel: str, extra_dir: Path | None
) -> tuple[Decimal, Decimal, Decimal, str]:
    g = loader.gpci(year, rel, extra_dir=extra_dir).filter(
        (pl.col("carrier") == carrier) & (pl.col("locality") == locality)
    )
    if g.height == 0:
        raise ReferenceDataError(f"no GPCI for locality {carrier}-{locality} in {year}")
    where = f"locality {carrier}-{locality}" + (f" {name}" if name else "")
    return g["work_gpci"][0], g["pe_gpci"][0], g["mp_gpci"][0], where


def _cf(
    year: int,
    rel: str,
    row_cf: Any,
    on_date: dt.date | None,
    extra_dir: Path | None,
) -> Decimal:
    if on_date is not None:
        return loader.conversion_factor(year, on_date, release=rel, extra_dir=extra_dir)
    if row_cf is None or row_cf == 0:
        return loader.conversion_factor(year, release=rel, extra_dir=extra_dir)
    return Decimal(row_cf)


def rvu_row(
    code: str,
    *,
    year: int,
    modifier: str | None = None,
    release: str | None = None,
    extra_dir: Path | None = None,
) -> dict[str, Any]:
    """The PPRRVU row for code + modifier ("" / None = the global row)."""
    c = code.strip().upper()
    m = (modifier or "").strip().upper()
    rvus = loader.pfs_rvus(year, release, extra_dir=extra_dir)
    index, by_code = _rvu_index(rvus)
    i = index.get((c, m))
    if i is None:
        mods = by_code.get(c, [])
        if not mods:
            raise ReferenceDataError(f"{c} is not in the {year} Medicare PFS (PPRRVU)")
        shown = ", ".join(repr(x) for x in mods)
        raise InputError(
            f"{c} has no PFS row for modifier {m!r} in {year}",
            hint=f"rows exist for modifiers {shown} ('' = global)",
        )
    rows = _RVU_ROWS.setdefault(id(rvus), {})
    row = rows.get(i)
    if row is None:
        row = rows[i] = rvus.row(i, named=True)
    return dict(row)


_Index = tuple[dict[tuple[str, str], int], dict[str, list[str]]]
_RVU_INDEX: dict[int, tuple[pl.DataFrame, _Index]] = {}
_RVU_ROWS: dict[int, dict[int, dict[str, Any]]] = {}  # rows already read, per indexed table


def _rvu_index(rvus: pl.DataFrame) -> _Index:
    """(hcpcs, modifier) -> first row number, and hcpcs -> its modifiers; built once per loaded
    table (the repricing compile step looks up thousands of codes; a filter each cost ~3 ms)."""
    hit = _RVU_INDEX.get(id(rvus))
    if hit is not None and hit[0] is rvus:
        return hit[1]
    index: dict[tuple[str, str], int] = {}
    by_code: dict[str, list[str]] = {}
    for i, (h, m) in enumerate(zip(rvus["hcpcs"].to_list(), rvus["modifier"].to_list(), strict=True)):
        if (h, m) not in index:
            index[(h, m)] = i
            by_code.setdefault(h, []).append(m)
    if len(_RVU_INDEX) > 16:
        _RVU_INDEX.clear()
        _RVU_ROWS.clear()
    _RVU_ROWS.pop(id(rvus), None)  # a new table may reuse a freed one's id
    _RVU_INDEX[id(rvus)] = (rvus, (index, by_code))
    return index, by_code


def medicare_fee(
    code: str,
    *,
    year: int,
    modifier: str | None = None,
    locality: str | None = None,
    zip: str | None = None,  # noqa: A002 - the CLI option is --zip
    facility: bool | None = None,
    pos: str | None = None,
    release: str | None = None,
    on_date: dt.date | None = None,
    apply_opps_cap: bool = False,
    extra_dir: Path | None = None,
) -> dm.MedicareAmount:
    """Medicare PFS allowed amount for one code, with its explanation.

    * ``locality``: ``'13202-01'`` / ``'1320201'``; or ``zip`` (practice ZIP);
      neither = national (all GPCIs 1.000).
    * ``facility`` or ``pos`` (place of service; its CMS facility flag decides)
      select the facility / non-facility PE RVU; default non-facility.
    * ``modifier`` selects the PPRRVU row ('26', 'TC', '53'; None = global).
    * CF: the release's own CF; with ``on_date``, the CF in force that day.
    * ``apply_opps_cap``: pay the lesser of PFS and the OPPS cap (needs a locality).
    """
    if pos is not None:
        pos_fac = loader.pos_is_facility(pos, extra_dir)
        if facility is not None and facility != pos_fac:
            raise InputError(f"facility={facility} contradicts place of service {pos}")
        facility = pos_fac
    fac = bool(facility)
    rel = (release or loader.default_release(year, extra_dir)).upper()
    row = rvu_row(code, year=year, modifier=modifier, release=rel, extra_dir=extra_dir)
    loc = _resolve_locality(year, locality, zip, rel, extra_dir)
    wg, peg, mpg, where = _gpcis(year, loc, rel, extra_dir)
    cf = _cf(year, rel, row["conversion_factor"], on_date, extra_dir)
    setting = "facility" if fac else "non-facility"
    pe = dm.select_pe_rvu(_z(row["nonfac_pe_rvu"]), _z(row["fac_pe_rvu"]), facility=fac)
    mod = str(row["modifier"] or "")
    label = (
        f"Medicare PFS {year} release {rel}: {row['hcpcs']}{('-' + mod) if mod else ''}, "
        f"{setting}, {where}"
    )
    amount = dm.medicare_allowed(
        _z(row["work_rvu"]), pe, _z(row["mp_rvu"]), wg, peg, mpg, cf,
        label=label, setting=setting,
    )  # fmt: skip
    notes = []
    status = row["status_code"]
    if status not in PAYABLE_STATUS:
        notes.append(
            f"note: status code {status!r}: not paid from RVUs under the PFS "
            "(C = carrier priced, B = bundled, I/N/X = not payable by Medicare, J = anesthesia)"
        )
    if row["fac_na" if fac else "nonfac_na"]:
        notes.append(f"note: CMS marks the {setting} PE RVU 'NA' (not used in this setting)")
    if loc is not None and loc.zip_split:
        notes.append(
            f"note: ZIP {zip} spans Medicare localities; CMS assigns by ZIP+4 (ZIP9 file). "
            f"Used the ZIP5 file's locality {loc.key}; pass locality= to override"
        )
    if notes:
        amount = amount.with_note(*notes)
    if apply_opps_cap:
        if loc is None:
            raise InputError("the OPPS cap is by locality: give a locality or ZIP")
        cap = loader.oppscap(year, rel, extra_dir=extra_dir).filter(
            (pl.col("hcpcs") == row["hcpcs"])
            & (pl.col("modifier") == mod)
            & (pl.col("carrier") == loc.carrier)
            & (pl.col("locality") == loc.locality)
        )
        if cap.height:
            amount = dm.apply_opps_cap(amount, cap["fac_price" if fac else "nonfac_price"][0])
    return amount


def fee_schedule(
    year: int,
    *,
    locality: str | None = None,
    zip: str | None = None,  # noqa: A002
    facility: bool = False,
    release: str | None = None,
    on_date: dt.date | None = None,
    payable_only: bool = True,
    apply_opps_cap: bool = False,
    extra_dir: Path | None = None,
) -> pl.DataFrame:
    """The whole Medicare fee schedule for one locality and setting (for bulk repricing).

    Columns: hcpcs, modifier ("" = global), status_code, work_rvu, pe_rvu, mp_rvu,
    conversion_factor, amount (Decimal(12,2), same rounding as :func:`medicare_fee`),
    opps_capped (bool).  ``payable_only`` keeps status A / R / T rows.
    """
    rel = (release or loader.default_release(year, extra_dir)).upper()
    loc = _resolve_locality(year, locality, zip, rel, extra_dir)
    wg, peg, mpg, _where = _gpcis(year, loc, rel, extra_dir)
    rvus = loader.pfs_rvus(year, rel, extra_dir=extra_dir)
    if payable_only:
        rvus = rvus.filter(pl.col("status_code").is_in(list(PAYABLE_STATUS)))
    pe_col = "fac_pe_rvu" if facility else "nonfac_pe_rvu"
    date_cf = (
        loader.conversion_factor(year, on_date, release=rel, extra_dir=extra_dir)
        if on_date is not None
        else None
    )
    amounts: list[Decimal] = []
    cfs: list[Decimal] = []
    for w, pe, mp, rcf in builtins.zip(  # ``zip`` is the ZIP-code keyword here
        rvus["work_rvu"], rvus[pe_col], rvus["mp_rvu"], rvus["conversion_factor"], strict=True
    ):
        cf = date_cf if date_cf is not None else _cf(year, rel, rcf, None, extra_dir)
        cfs.append(cf)
        amounts.append(dm.allowed_amount(_z(w), _z(pe), _z(mp), wg, peg, mpg, cf))
    out = rvus.select(
        "hcpcs",
        "modifier",
        "status_code",
        "work_rvu",
        pl.col(pe_col).alias("pe_rvu"),
        "mp_rvu",
    ).with_columns(
        pl.Series("conversion_factor", cfs, dtype=pl.Decimal(10, 4)),
        pl.Series("amount", amounts, dtype=pl.Decimal(12, 2)),
        pl.lit(False).alias("opps_capped"),
    )
    if apply_opps_cap:
        if loc is None:
            raise InputError("the OPPS cap is by locality: give a locality or ZIP")
        cap = (
            loader.oppscap(year, rel, extra_dir=extra_dir)
            .filter((pl.col("carrier") == loc.carrier) & (pl.col("locality") == loc.locality))
            .select(
                "hcpcs",
                "modifier",
                (pl.col("fac_price" if facility else "nonfac_price")).alias("_cap"),
            )
        )
        out = (
            out.join(cap, on=["hcpcs", "modifier"], how="left")
            .with_columns(
                (pl.col("_cap").is_not_null() & (pl.col("_cap") < pl.col("amount"))).alias(
                    "opps_capped"
                )
            )
            .with_columns(
                pl.when(pl.col("opps_capped"))
                .then(pl.col("_cap"))
                .otherwise(pl.col("amount"))
                .cast(pl.Decimal(12, 2))
                .alias("amount")
            )
            .drop("_cap")
        )
    return out


def anesthesia_fee(
    base_units: Decimal | int | str,
    *,
    year: int,
    minutes: Decimal | int | str | None = None,
    time_units: Decimal | int | str | None = None,
    locality: str | None = None,
    zip: str | None = None,  # noqa: A002
    release: str | None = None,
    rounding: dm.TimeRounding = "tenth",
    extra_dir: Path | None = None,
) -> dm.MedicareAmount:
    """(base units + time units) x the locality's anesthesia CF.

    Base units are an input: CMS's ANES file carries only conversion factors
    (the base-unit list is published separately), so the caller supplies them.
    No locality = the national anesthesia CF (recorded for 2025: 20.3178).
    """
    rel = (release or loader.default_release(year, extra_dir)).upper()
    loc = _resolve_locality(year, locality, zip, rel, extra_dir)
    if loc is None:
        cf = loader.national_anesthesia_cf(year, rel, extra_dir=extra_dir)
        where = "national"
    else:
        a = loader.anesthesia(year, rel, extra_dir=extra_dir).filter(
            (pl.col("carrier") == loc.carrier) & (pl.col("locality") == loc.locality)
        )
        if a.height == 0:
            raise ReferenceDataError(f"no anesthesia CF for locality {loc.key} in {year}")
        cf = a["anesthesia_cf"][0]
        where = f"locality {loc.key}" + (f" {loc.name}" if loc.name else "")
    return dm.anesthesia_allowed(
        base_units, cf, minutes=minutes, time_units=time_units, rounding=rounding,
        label=f"Medicare anesthesia {year} release {rel}, {where}",
    )  # fmt: skip
