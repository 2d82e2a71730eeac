"""Rebuild the reference data packaged in ``parley/refdata/data`` from the shared sources.

    python -m parley.refdata.build --shared /work/shared/data [--out DIR]

Inputs (``--shared``; origins in NOTICE.refdata):

* ``cms/pfs/2025/``  RVU25D (October 2025): PPRRVU, GPCI, 25LOCCO, ANES, OPPSCAP, ZIP5
* ``cms/pfs/2024/``  RVU24C (July 2024): PPRRVU, GPCI, LOCCO, ANES, OPPSCAP;
                     RVU24A (January 2024): PPRRVU only (other tables fall back to C)
* ``cms/pfs/conversion_factor_history_1992_2024.csv`` (+ 2025 CF from the PPRRVU)
* ``cms/codes/``     place of service, HCPCS Level II, MS-DRG
* ``x12codes/``      CARC (classified, see :mod:`parley.refdata.carc_rules`), RARC,
                     group codes, PLB reasons: codes + our labels only

The PFS files go through :func:`parley.refdata.release.load_cms_release`, the
same path a user's newer CMS release takes.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from pathlib import Path

from parley.refdata import codes
from parley.refdata.loader import clear_cache, packaged_dir
from parley.refdata.release import LoadReport, load_cms_release

PFS_BATCHES: list[tuple[int, str, list[str]]] = [
    (
        2025,
        "D",
        [
            "cms/pfs/2025/PPRRVU2025_Oct_nocptdesc.csv",
            "cms/pfs/2025/GPCI2025.csv",
            "cms/pfs/2025/25LOCCO.csv",
            "cms/pfs/2025/ANES2025.csv",
            "cms/pfs/2025/OPPSCAP_Oct.csv",
            "cms/pfs/2025/ZIP5_OCT2025.txt",
        ],
    ),
    (
        2024,
        "C",
        [
            "cms/pfs/2024/pprrvu_rvu24c_jul_nocptdesc.csv",
            "cms/pfs/2024/gpci_rvu24c.csv",
            "cms/pfs/2024/locco_rvu24c.csv",
            "cms/pfs/2024/anes_rvu24c.csv",
            "cms/pfs/2024/oppscap_rvu24c_jul.csv",
        ],
    ),
    (2024, "A", ["cms/pfs/2024/pprrvu_rvu24a_jan_nocptdesc.csv"]),
]


def build(shared: Path, out: Path | None = None) -> list[LoadReport]:
    """Regenerate every packaged file under ``out`` (default: the package's data folder)."""
    out = Path(out) if out is not None else packaged_dir()
    shared = Path(shared)
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("pfs", "codes"):
        shutil.rmtree(out / sub, ignore_errors=True)
    reports = []
    for year, release, files in PFS_BATCHES:
        reports.append(
            load_cms_release([shared / f for f in files], dest_dir=out, year=year, release=release)
        )

    # conversion factor history, extended with the years whose PPRRVU carries a newer CF
    with (shared / "cms/pfs/conversion_factor_history_1992_2024.csv").open(newline="") as fh:
        hist = [(r["date_start"], r["date_end"], r["cf"]) for r in csv.DictReader(fh)]
    last_year = max(int(r[0][:4]) for r in hist)
    import json

    for rel_dir in sorted((out / "pfs").iterdir()):
        meta = json.loads((rel_dir / "meta.json").read_text())
        y = int(meta["year"])
        if y > last_year and "conversion_factor" in meta:
            hist.append((f"{y}-01-01", f"{y}-12-31", str(meta["conversion_factor"])))
            last_year = y
    with (out / "conversion_factors.csv").open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["date_start", "date_end", "cf"])
        w.writerows(hist)

    cdir = out / "codes"
    cdir.mkdir(parents=True, exist_ok=True)
    cms_codes = shared / "cms/codes"
    x12 = shared / "x12codes"
    codes.build_pos(cms_codes).write_csv(cdir / "place_of_service.csv")
    codes.build_ms_drg(cms_codes).write_csv(cdir / "ms_drg.csv")
    codes.build_hcpcs_level2(cms_codes).write_parquet(
        cdir / "hcpcs_level2.parquet", compression="zstd", compression_level=19
    )
    codes.build_carc(x12).write_csv(cdir / "carc.csv")
    codes.build_rarc(x12).write_csv(cdir / "rarc.csv")
    codes.build_group_codes().write_csv(cdir / "group_codes.csv")
    codes.build_plb(x12).write_csv(cdir / "plb_reasons.csv")
    clear_cache()
    return reports


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m parley.refdata.build", description=__doc__)
    ap.add_argument("--shared", type=Path, required=True, help="the shared data folder")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: package)")
    args = ap.parse_args(argv)
    for rep in build(args.shared, args.out):
        print(rep.summary())
    out = args.out or packaged_dir()
    total = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    print(f"packaged reference data: {total / 1e6:.2f} MB in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
