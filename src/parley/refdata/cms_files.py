"""Parsers for CMS Physician Fee Schedule public-use files.

Each parser reads one file as CMS publishes it (or the snake_case re-export of
the same file found in common open-source mirrors, e.g. the ``arkrvu`` R
package) and returns a :class:`polars.DataFrame` in Parley's packaged format.
Nothing here writes anything; :mod:`parley.refdata.release` decides where the
frames go.

Recognised files (detected by *content*, never by file name):

=========== ============================================================== =================
kind        how it is recognised                                           CMS file name
=========== ============================================================== =================
pprrvu      a header row starting ``HCPCS,MOD`` and one with ``WORK``/     PPRRVU25_OCT.csv
            ``RVU``; or snake_case ``hcpcs,mod,...,work_rvu``
gpci        header row with ``Locality`` and ``GPCI`` columns              GPCI2025.csv
locco       header row ``...Contractor,Locality Number,State,Fee           25LOCCO.csv
            Schedule Area,Counties``
anes        header row ``Contractor,Locality,Locality Name,...Anes CF``    ANES2025.csv
oppscap     header ``HCPCS,MOD,PROCSTAT,CARRIER,LOCALITY,...``             OPPSCAP_OCT.csv
zip5        fixed-width 80-column lines (layout: ZIP5lyout.txt)            ZIP5_OCT2025.txt
=========== ============================================================== =================

Packaged column conventions: carriers are 5-character zero-padded strings
(``"01112"``), localities 2-character (``"05"``), the HCPCS modifier is ``""``
when absent (never null), RVUs are ``Decimal(9,2)``, GPCIs ``Decimal(6,3)``,
conversion factors ``Decimal(10,4)``.  Decimals keep the published values
exact; ``float`` never enters the money path.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import polars as pl

from parley.errors import ReferenceDataError

RVU = pl.Decimal(9, 2)
GPCI = pl.Decimal(6, 3)
CF = pl.Decimal(10, 4)
MONEY = pl.Decimal(12, 2)

MONTH_TO_RELEASE = {
    "JANUARY": "A", "JAN": "A", "APRIL": "B", "APR": "B",
    "JULY": "C", "JUL": "C", "OCTOBER": "D", "OCT": "D",
}  # fmt: skip
QUARTER_TO_RELEASE = {"1": "A", "2": "B", "3": "C", "4": "D"}
RELEASE_LABEL = {"A": "January", "B": "April", "C": "July", "D": "October"}

# Column order of the CMS PPRRVU CSV (31 columns since 2023; older files stop
# after DIAGNOSTIC IMAGING FAMILY / have no OPPS columns: those come out null).
PPRRVU_COLUMNS = [
    "hcpcs", "modifier", "_description", "status_code", "not_used_for_medicare",
    "work_rvu", "nonfac_pe_rvu", "nonfac_na", "fac_pe_rvu", "fac_na", "mp_rvu",
    "nonfac_total", "fac_total", "pctc_ind", "global_days", "pre_op", "intra_op",
    "post_op", "mult_proc_ind", "bilat_ind", "asst_ind", "co_surg_ind", "team_ind",
    "endo_base", "conversion_factor", "phys_supervision", "calc_flag",
    "diag_imaging_family", "opps_nonfac_pe", "opps_fac_pe", "opps_mp",
]  # fmt: skip
_PPRRVU_DECIMALS = {
    "work_rvu", "nonfac_pe_rvu", "fac_pe_rvu", "mp_rvu", "nonfac_total", "fac_total",
    "pre_op", "intra_op", "post_op", "opps_nonfac_pe", "opps_fac_pe", "opps_mp",
}  # fmt: skip
# snake_case names used by the arkrvu re-export -> ours
_PPRRVU_SNAKE = {
    "hcpcs": "hcpcs", "mod": "modifier", "description": "_description",
    "status_code": "status_code", "not_used_for_medicare_payment": "not_used_for_medicare",
    "work_rvu": "work_rvu", "non_fac_pe_rvu": "nonfac_pe_rvu", "non_fac_indicator": "nonfac_na",
    "facility_pe_rvu": "fac_pe_rvu", "facility_indicator": "fac_na", "mp_rvu": "mp_rvu",
    "non_facility_total": "nonfac_total", "facility_total": "fac_total", "pctc_ind": "pctc_ind",
    "glob_days": "global_days", "pre_op": "pre_op", "intra_op": "intra_op", "post_op": "post_op",
    "mult_proc": "mult_proc_ind", "bilat_surg": "bilat_ind", "asst_surg": "asst_ind",
    "co_surg": "co_surg_ind", "team_surg": "team_ind", "endo_base": "endo_base",
    "conv_factor": "conversion_factor",
    "physician_supervision_of_diagnostic_procedures": "phys_supervision",
    "calculation_flag": "calc_flag",
    "diagnostic_imaging_family_indicator": "diag_imaging_family",
    "non_facility_pe_used_for_opps_payment_amount": "opps_nonfac_pe",
    "facility_pe_used_for_opps_payment_amount": "opps_fac_pe",
    "mp_used_for_opps_payment_amount": "opps_mp",
}  # fmt: skip


@dataclass(frozen=True)
class ParsedFile:
    """One parsed CMS file."""

    kind: str  # pprrvu | gpci | locco | anes | oppscap | zip5
    frame: pl.DataFrame
    source: str
    year: int | None = None
    release: str | None = None  # A..D
    extra: dict[str, str] | None = None  # e.g. national anesthesia CF


# --------------------------------------------------------------------------- helpers


def _err(source: str, line: int | None, msg: str) -> ReferenceDataError:
    where = f"{source}, line {line}" if line is not None else source
    return ReferenceDataError(
        f"{where}: {msg}",
        hint="use the file exactly as CMS publishes it (CSV or the ZIP5 fixed-width text)",
    )


def _dec(value: str, source: str, line: int, column: str) -> Decimal | None:
    v = value.strip()
    if v == "" or v.upper() == "NA":
        return None
    try:
        d = Decimal(v)
    except InvalidOperation:
        raise _err(source, line, f"column {column!r}: {value!r} is not a number") from None
    if not d.is_finite():
        raise _err(source, line, f"column {column!r}: {value!r} is not a number")
    return d


def _check_scale(d: Decimal | None, scale: int, source: str, line: int, column: str) -> None:
    if d is not None and d != d.quantize(Decimal(1).scaleb(-scale)):
        raise _err(
            source, line, f"column {column!r}: {d} has more than {scale} decimals (unexpected)"
        )


def _carrier(v: str) -> str:
    v = v.strip()
    return v.zfill(5) if v.isdigit() else v


def _locality(v: str) -> str:
    v = v.strip()
    return v.zfill(2) if v.isdigit() else v


def _clean_name(v: str) -> str:
    return v.strip().rstrip("*").strip()


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _norm(cell: str) -> str:
    return re.sub(r"\s+", " ", cell).strip().upper()


def year_release_from_name(name: str) -> tuple[int | None, str | None]:
    """Guess (year, release) from a CMS file name: RVU25D, rvu24c, PPRRVU2025_Oct..."""
    base = name.rsplit("/", 1)[-1].upper()
    m = re.search(r"RVU(\d{2})([A-D])", base)
    if m:
        return 2000 + int(m.group(1)), m.group(2)
    year: int | None = None
    m = re.search(r"(20\d{2})", base)
    if m:
        year = int(m.group(1))
    else:
        m = re.match(r"^(\d{2})LOCCO", base)
        if m:
            year = 2000 + int(m.group(1))
    rel = None
    for word, letter in MONTH_TO_RELEASE.items():
        if re.search(rf"(^|[^A-Z]){word}([^A-Z]|$)", base):
            rel = letter
            break
    return year, rel


# --------------------------------------------------------------------------- detection


def detect_kind(text: str) -> str | None:
    """Return the kind of a CMS file from its content, or None."""
    head = text[:20000]
    lines = head.splitlines()
    if lines and all(len(ln.rstrip("\r")) >= 75 and "," not in ln for ln in lines[:5] if ln):
        first = lines[0]
        if re.match(r"^[A-Z]{2}\d{5}[0-9A-Z]{5}[0-9A-Z ]{2}", first):
            # ZIP9 records carry the +4 in columns 22-25; ZIP5 leaves column 22 blank
            if first[20] == "1" and first[21:25].isdigit():
                return "zip9"
            return "zip5"
    for row in _rows("\n".join(lines[:60])):
        cells = [_norm(c) for c in row]
        if sum(1 for c in cells if c) < 4:  # titles, notes, fixed-width .txt twins
            continue
        c0 = cells[0]
        if c0 == "HCPCS" and len(cells) > 2 and cells[1] == "MOD":
            if len(cells) > 2 and cells[2] == "PROCSTAT":
                return "oppscap"
            return "pprrvu"
        if c0 == "HCPCS" and "WORK_RVU" in cells:
            return "pprrvu"
        if c0 == "HCPCS" and "PROCSTAT" in cells:
            return "oppscap"
        joined = ",".join(cells)
        if "GPCI" in joined and "LOCALITY" in joined:
            return "gpci"
        if "LOCALITY" in joined and "COUNTIES" in joined:
            return "locco"
        if c0 == "CONTRACTOR" and ("ANES" in joined or "ANESTHESIA" in joined):
            return "anes"
    return None


def _find_header(rows: list[list[str]], pred: object, source: str) -> int:
    for i, row in enumerate(rows[:80]):
        cells = [_norm(c) for c in row]
        if cells and pred(cells):  # type: ignore[operator]
            return i
    raise _err(source, None, "header row not found")


# --------------------------------------------------------------------------- PPRRVU


def parse_pprrvu(text: str, source: str) -> ParsedFile:
    rows = _rows(text)
    year: int | None = None
    release: str | None = None
    for row in rows[:10]:
        joined = " ".join(row)
        m = re.search(
            r"(20\d{2}) National Physician Fee Schedule Relative Value File\s+(\w+)\s+Release",
            joined,
            re.I,
        )
        if m:
            year = int(m.group(1))
            release = MONTH_TO_RELEASE.get(m.group(2).upper())
            break
    hdr = _find_header(
        rows, lambda c: c[0] == "HCPCS" and (c[1] == "MOD" or "WORK_RVU" in c), source
    )
    header = [_norm(c) for c in rows[hdr]]
    if "WORK_RVU" in header:  # snake_case re-export: map by name
        idx: dict[str, int] = {}
        for i, name in enumerate(rows[hdr]):
            key = _PPRRVU_SNAKE.get(name.strip().lower())
            if key:
                idx[key] = i
        missing = {"hcpcs", "modifier", "status_code", "work_rvu", "nonfac_pe_rvu",
                   "fac_pe_rvu", "mp_rvu", "conversion_factor"} - idx.keys()  # fmt: skip
        if missing:
            raise _err(source, hdr + 1, f"missing columns {sorted(missing)}")
    else:  # CMS layout: map by position, check a few anchors
        if len(header) < 25 or header[3] != "CODE" or header[5] != "RVU":
            raise _err(source, hdr + 1, "unexpected PPRRVU column layout")
        idx = {name: i for i, name in enumerate(PPRRVU_COLUMNS) if i < len(header)}
    out: dict[str, list[object]] = {c: [] for c in PPRRVU_COLUMNS if c != "_description"}
    ncols = len(rows[hdr])
    for lineno, row in enumerate(rows[hdr + 1 :], start=hdr + 2):
        if not row or not row[idx["hcpcs"]].strip():
            continue
        if len(row) < ncols - 3:
            raise _err(source, lineno, f"{len(row)} columns, expected {ncols}")
        code = row[idx["hcpcs"]].strip().upper()
        if not re.fullmatch(r"[0-9A-Z]{5}", code):
            raise _err(source, lineno, f"{code!r} is not a HCPCS code")
        for col in out:
            ci = idx.get(col)
            raw = row[ci] if ci is not None and ci < len(row) else ""
            if col in _PPRRVU_DECIMALS:
                d = _dec(raw, source, lineno, col)
                _check_scale(d, 2, source, lineno, col)
                out[col].append(d)
            elif col == "conversion_factor":
                d = _dec(raw, source, lineno, col)
                _check_scale(d, 4, source, lineno, col)
                out[col].append(d)
            elif col in ("nonfac_na", "fac_na", "not_used_for_medicare"):
                out[col].append(raw.strip().upper() in ("NA", "1", "Y", "TRUE"))
            elif col == "hcpcs":
                out[col].append(code)
            else:
                out[col].append(raw.strip().upper())
    if not out["hcpcs"]:
        raise _err(source, None, "no data rows")
    frame = pl.DataFrame(
        out,
        schema={
            **{c: (RVU if c in _PPRRVU_DECIMALS else pl.String) for c in out},
            "conversion_factor": CF,
            "nonfac_na": pl.Boolean,
            "fac_na": pl.Boolean,
            "not_used_for_medicare": pl.Boolean,
        },
    )
    dups = frame.group_by("hcpcs", "modifier").len().filter(pl.col("len") > 1)
    if dups.height:
        r = dups.row(0)
        raise _err(source, None, f"duplicate row for code {r[0]} modifier {r[1]!r}")
    return ParsedFile("pprrvu", frame, source, year, release)


# --------------------------------------------------------------------------- GPCI


def parse_gpci(text: str, source: str) -> ParsedFile:
    rows = _rows(text)
    year: int | None = None
    for row in rows[:3]:
        m = re.search(r"CY (20\d{2})", " ".join(row))
        if m:
            year = int(m.group(1))
    hdr = _find_header(
        rows,
        lambda c: (
            sum(1 for x in c if x) >= 5
            and any("LOCALITY" in x for x in c)
            and any("GPCI" in x for x in c)
        ),
        source,
    )
    header = [_norm(c) for c in rows[hdr]]

    def col(*needles: str) -> int:
        for i, h in enumerate(header):
            if all(n in h for n in needles):
                return i
        raise _err(source, hdr + 1, f"no column matching {' '.join(needles)}")

    i_mac = col("MAC") if any("MAC" in h for h in header) else col("CONTRACTOR")
    i_state, i_loc = col("STATE"), col("LOCALITY", "N")
    i_name = col("LOCALITY", "NAME")
    i_w = next((i for i, h in enumerate(header) if "PW" in h or "WORK" in h), None)
    i_pe = next((i for i, h in enumerate(header) if "PE" in h and "GPCI" in h), None)
    i_mp = next((i for i, h in enumerate(header) if "MP" in h and "GPCI" in h), None)
    if i_w is None or i_pe is None or i_mp is None:
        raise _err(source, hdr + 1, "work / PE / MP GPCI columns not found")
    recs = []
    for lineno, row in enumerate(rows[hdr + 1 :], start=hdr + 2):
        if len(row) <= max(i_w, i_pe, i_mp) or not row[i_mac].strip().isdigit():
            continue  # blank lines and footnotes
        vals = [
            _dec(row[i], source, lineno, n) for i, n in ((i_w, "work"), (i_pe, "pe"), (i_mp, "mp"))
        ]
        if any(v is None for v in vals):
            raise _err(source, lineno, "a GPCI value is missing")
        for v, n in zip(vals, ("work", "pe", "mp"), strict=True):
            _check_scale(v, 3, source, lineno, f"{n} gpci")
        recs.append(
            (
                _carrier(row[i_mac]),
                row[i_state].strip(),
                _locality(row[i_loc]),
                _clean_name(row[i_name]),
                *vals,
            )  # fmt: skip
        )
    if not recs:
        raise _err(source, None, "no GPCI rows")
    frame = pl.DataFrame(
        recs,
        schema={"carrier": pl.String, "state": pl.String, "locality": pl.String,
                "locality_name": pl.String, "work_gpci": GPCI, "pe_gpci": GPCI, "mp_gpci": GPCI},
        orient="row",
    ).unique(["carrier", "locality"], keep="first", maintain_order=True)  # fmt: skip
    return ParsedFile("gpci", frame, source, year)


# --------------------------------------------------------------------------- LOCCO

_STATE_ABBR = {
    "ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA",
    "COLORADO": "CO", "CONNECTICUT": "CT", "DELAWARE": "DE", "DISTRICT OF COLUMBIA": "DC",
    "FLORIDA": "FL", "GEORGIA": "GA", "HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL",
    "INDIANA": "IN", "IOWA": "IA", "KANSAS": "KS", "KENTUCKY": "KY", "LOUISIANA": "LA",
    "MAINE": "ME", "MARYLAND": "MD", "MASSACHUSETTS": "MA", "MICHIGAN": "MI", "MINNESOTA": "MN",
    "MISSISSIPPI": "MS", "MISSOURI": "MO", "MONTANA": "MT", "NEBRASKA": "NE", "NEVADA": "NV",
    "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ", "NEW MEXICO": "NM", "NEW YORK": "NY",
    "NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND", "OHIO": "OH", "OKLAHOMA": "OK", "OREGON": "OR",
    "PENNSYLVANIA": "PA", "PUERTO RICO": "PR", "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC",
    "SOUTH DAKOTA": "SD", "TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT",
    "VIRGINIA": "VA", "VIRGIN ISLANDS": "VI", "WASHINGTON": "WA", "WEST VIRGINIA": "WV",
    "WISCONSIN": "WI", "WYOMING": "WY", "GUAM": "GU", "AMERICAN SAMOA": "AS",
    "NORTHERN MARIANA ISLANDS": "MP",
}  # fmt: skip


def parse_locco(text: str, source: str) -> ParsedFile:
    rows = _rows(text)
    year: int | None = None
    for row in rows[:3]:
        m = re.search(r"(20\d{2}) LOCALITIES", " ".join(row), re.I)
        if m:
            year = int(m.group(1))
    hdr = _find_header(rows, lambda c: "LOCALITY" in ",".join(c) and "COUNTIES" in c, source)
    header = [_norm(c) for c in rows[hdr]]
    i_mac = 0
    i_loc = next(i for i, h in enumerate(header) if "LOCALITY" in h)
    i_state = header.index("STATE")
    i_area = next(
        i for i, h in enumerate(header) if "FEE SCHEDULE AREA" in h or "FEE_SCHEDULE_AREA" in h
    )
    i_cty = header.index("COUNTIES")
    recs = []
    state = ""
    for row in rows[hdr + 1 :]:
        if len(row) <= i_cty or not row[i_mac].strip().isdigit():
            continue
        if row[i_state].strip():
            state = row[i_state].strip().upper()
        recs.append(
            (
                _carrier(row[i_mac]),
                _locality(row[i_loc]),
                state,
                _STATE_ABBR.get(state, ""),
                _clean_name(row[i_area]),
                row[i_cty].strip(),
            )  # fmt: skip
        )
    if not recs:
        raise _err(source, None, "no locality rows")
    frame = pl.DataFrame(
        recs,
        schema={"carrier": pl.String, "locality": pl.String, "state_name": pl.String,
                "state": pl.String, "fee_schedule_area": pl.String, "counties": pl.String},
        orient="row",
    ).unique(["carrier", "locality"], keep="first", maintain_order=True)  # fmt: skip
    return ParsedFile("locco", frame, source, year)


# --------------------------------------------------------------------------- ANES


def parse_anes(text: str, source: str) -> ParsedFile:
    rows = _rows(text)
    hdr = _find_header(rows, lambda c: c[0] == "CONTRACTOR", source)
    extra: dict[str, str] = {}
    m = re.search(r"National Anes CF of\s*([\d.]+)", ",".join(rows[hdr]), re.I)
    if m:
        extra["national_anesthesia_cf"] = m.group(1)
    recs = []
    for lineno, row in enumerate(rows[hdr + 1 :], start=hdr + 2):
        if len(row) < 4 or not row[0].strip().isdigit():
            continue
        cf = _dec(row[3], source, lineno, "anesthesia cf")
        if cf is None:
            raise _err(source, lineno, "anesthesia conversion factor missing")
        _check_scale(cf, 4, source, lineno, "anesthesia cf")
        recs.append((_carrier(row[0]), _locality(row[1]), _clean_name(row[2]), cf))
    if not recs:
        raise _err(source, None, "no anesthesia rows")
    frame = pl.DataFrame(
        recs,
        schema={"carrier": pl.String, "locality": pl.String, "locality_name": pl.String,
                "anesthesia_cf": CF},
        orient="row",
    ).unique(["carrier", "locality"], keep="first", maintain_order=True)  # fmt: skip
    return ParsedFile("anes", frame, source, extra=extra)


# --------------------------------------------------------------------------- OPPS cap


def parse_oppscap(text: str, source: str) -> ParsedFile:
    rows = _rows(text)
    hdr = _find_header(rows, lambda c: c[0] == "HCPCS" and "PROCSTAT" in c, source)
    recs = []
    for lineno, row in enumerate(rows[hdr + 1 :], start=hdr + 2):
        if not row or not row[0].strip():
            continue
        if len(row) < 7:
            raise _err(source, lineno, f"{len(row)} columns, expected 7")
        fac = _dec(row[5], source, lineno, "facility price")
        nonfac = _dec(row[6], source, lineno, "non-facility price")
        recs.append(
            (
                row[0].strip().upper(),
                row[1].strip().upper(),
                row[2].strip().upper(),
                _carrier(row[3]),
                _locality(row[4]),
                fac,
                nonfac,
            )  # fmt: skip
        )
    if not recs:
        raise _err(source, None, "no OPPS cap rows")
    frame = pl.DataFrame(
        recs,
        schema={"hcpcs": pl.String, "modifier": pl.String, "status_code": pl.String,
                "carrier": pl.String, "locality": pl.String, "fac_price": MONEY,
                "nonfac_price": MONEY},
        orient="row",
    )  # fmt: skip
    return ParsedFile("oppscap", frame, source)


# --------------------------------------------------------------------------- ZIP5


def parse_zip5(lines: Iterable[str], source: str) -> ParsedFile:
    """ZIP5 fixed width (ZIP5lyout.txt): state 1-2, zip 3-7, carrier 8-12, locality 13-14,
    rural 15, lab CB locality 16-17, plus-four flag 21, year/quarter 76-80."""
    recs = []
    yq: str | None = None
    for lineno, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if len(line) < 80:
            raise _err(source, lineno, f"line is {len(line)} characters, ZIP5 records are 80")
        state, z, carrier, loc = line[0:2], line[2:7], line[7:12], line[12:14]
        if not (z.isdigit() and carrier.isdigit() and state.isalpha()):
            raise _err(source, lineno, f"not a ZIP5 record: {line[:20]!r}")
        rec_yq = line[75:80]
        if yq is None:
            yq = rec_yq
        recs.append((z, state, carrier, loc, line[14].strip(), line[20].strip() == "1"))
    if not recs or yq is None:
        raise _err(source, None, "no ZIP5 records")
    year = int(yq[:4]) if yq[:4].isdigit() else None
    release = QUARTER_TO_RELEASE.get(yq[4:5])
    frame = pl.DataFrame(
        recs,
        schema={"zip5": pl.String, "state": pl.String, "carrier": pl.String,
                "locality": pl.String, "rural": pl.String, "plus4_flag": pl.Boolean},
        orient="row",
    ).unique("zip5", keep="first", maintain_order=True)  # fmt: skip
    return ParsedFile("zip5", frame, source, year, release, extra={"year_quarter": yq})


def parse(text: str, source: str) -> ParsedFile:
    """Detect and parse one CMS file's text."""
    kind = detect_kind(text)
    if kind is None or kind == "zip9":
        from parley.errors import UnknownFormatError

        raise UnknownFormatError(
            f"{source}: not a recognised CMS fee schedule file",
            hint="expected PPRRVU, GPCI, LOCCO, ANES, OPPSCAP (CSV) or ZIP5 (fixed-width text); "
            "ZIP9 and the .txt / .xlsx twins of the CSVs are not read",
        )
    if kind == "zip5":
        return parse_zip5(text.splitlines(), source)
    return {
        "pprrvu": parse_pprrvu,
        "gpci": parse_gpci,
        "locco": parse_locco,
        "anes": parse_anes,
        "oppscap": parse_oppscap,
    }[kind](text, source)
