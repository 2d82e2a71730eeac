"""load_cms_release: CMS's own file layouts -> a workspace refdata folder."""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

import parley.refdata as refdata
from parley.errors import InputError, ReferenceDataError, UnknownFormatError
from parley.refdata import cms_files

FILES_2025 = [
    "PPRRVU2025_Oct_head.csv",
    "GPCI2025.csv",
    "25LOCCO.csv",
    "ANES2025.csv",
    "OPPSCAP_Oct_head.csv",
    "ZIP5_OCT2025_head.txt",
]


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_detect_kinds(cms_dir: Path) -> None:
    expected = {
        "2025/PPRRVU2025_Oct_head.csv": "pprrvu",
        "2025/GPCI2025.csv": "gpci",
        "2025/25LOCCO.csv": "locco",
        "2025/ANES2025.csv": "anes",
        "2025/OPPSCAP_Oct_head.csv": "oppscap",
        "2025/ZIP5_OCT2025_head.txt": "zip5",
        "2025/ZIP5lyout.txt": None,
        "2024/pprrvu_rvu24c_jul_head.csv": "pprrvu",
        "2024/gpci_rvu24c.csv": "gpci",
        "2024/locco_rvu24c.csv": "locco",
        "2024/anes_rvu24c.csv": "anes",
    }
    for name, kind in expected.items():
        assert cms_files.detect_kind((cms_dir / name).read_text()) == kind, name


def test_load_2025_files(cms_dir: Path, tmp_path: Path) -> None:
    ws = tmp_path / "refdata"
    rep = refdata.load_cms_release([cms_dir / "2025" / f for f in FILES_2025], dest_dir=ws)
    assert (rep.year, rep.release) == (2025, "D")  # from the PPRRVU title line
    assert rep.counts == {
        "rvu": 300, "gpci": 109, "localities": 109, "anesthesia": 109,
        "oppscap": 61, "zip5": 203,
    }  # fmt: skip
    assert "2025 release D" in rep.summary()
    assert _listing(ws) == sorted(
        f"pfs/2025D/{t}"
        for t in (
            "rvu.parquet",
            "gpci.parquet",
            "localities.parquet",
            "anesthesia.parquet",
            "oppscap.parquet",
            "zip5.parquet",
            "meta.json",
        )  # fmt: skip
    )
    # the workspace copy wins over the packaged one, and gives the same amounts
    assert refdata.pfs_rvus(2025, extra_dir=ws).height == 300
    fee = refdata.medicare_fee("99213", year=2025, zip="10001", extra_dir=ws)
    assert fee.amount == Decimal("101.06")
    meta = refdata.release_meta(2025, extra_dir=ws)
    assert meta["national_anesthesia_cf"] == "20.3178"
    assert meta["conversion_factor"] == "32.3465"


def test_load_cms_zip_like_rvu25d(cms_dir: Path, tmp_path: Path) -> None:
    z = tmp_path / "RVU25D.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in FILES_2025[:5]:
            zf.write(cms_dir / "2025" / f, f)
        zf.writestr("RVU25D README.pdf", b"%PDF-1.4 not really")
        # CMS ships the ZIP file in its own zip; nest it
        inner = tmp_path / "ZIP5_OCT2025.zip"
        with zipfile.ZipFile(inner, "w") as zi:
            zi.write(cms_dir / "2025" / "ZIP5_OCT2025_head.txt", "ZIP5_OCT2025.txt")
            zi.write(cms_dir / "2025" / "ZIP5lyout.txt", "ZIP5lyout.txt")
        zf.write(inner, "ZIP5_OCT2025.zip")
    ws = tmp_path / "ws"
    rep = refdata.load_cms_release(z, dest_dir=ws)
    assert (rep.year, rep.release) == (2025, "D")
    assert set(rep.counts) == {"rvu", "gpci", "localities", "anesthesia", "oppscap", "zip5"}
    assert any("README.pdf" in s for s in rep.skipped)
    assert any("ZIP5lyout.txt" in s for s in rep.skipped)


def test_load_2024_reexport_layout_year_from_file_name(cms_dir: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    rep = refdata.load_cms_release(cms_dir / "2024", dest_dir=ws)  # a folder
    assert (rep.year, rep.release) == (2024, "C")  # from "rvu24c" in the names
    assert rep.counts["rvu"] == 309
    assert rep.counts["gpci"] == 109
    row = refdata.rvu_row("99213", year=2024, release="C", extra_dir=ws)
    assert row["nonfac_pe_rvu"] == Decimal("1.33")
    assert refdata.medicare_fee("99213", year=2024, extra_dir=ws).amount == Decimal("90.87")


def test_new_year_becomes_available(cms_dir: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    # pretend it is next year's January release
    refdata.load_cms_release(
        [cms_dir / "2025" / f for f in FILES_2025[:4]], dest_dir=ws, year=2026, release="A"
    )
    assert refdata.available_years(extra_dir=ws) == [2024, 2025, 2026]
    assert refdata.default_release(2026, extra_dir=ws) == "A"
    assert refdata.medicare_fee("99213", year=2026, extra_dir=ws).amount == Decimal("88.95")
    assert refdata.conversion_factor(2026, extra_dir=ws) == Decimal("32.3465")
    assert refdata.available_years() == [2024, 2025]  # packaged data untouched


def test_gpci_only_load_needs_year(cms_dir: Path, tmp_path: Path) -> None:
    # GPCI2025.csv names its year in the title line
    rep = refdata.load_cms_release(cms_dir / "2025" / "GPCI2025.csv", dest_dir=tmp_path)
    assert rep.year == 2025
    anon = tmp_path / "anes.csv"  # no year in the content or the name
    anon.write_text((cms_dir / "2025" / "ANES2025.csv").read_text())
    with pytest.raises(InputError, match="year"):
        refdata.load_cms_release(anon, dest_dir=tmp_path / "x")


def test_malformed_number_reports_file_and_line_and_writes_nothing(
    cms_dir: Path, tmp_path: Path
) -> None:
    lines = (cms_dir / "2025" / "PPRRVU2025_Oct_head.csv").read_text().splitlines()
    i = next(n for n, ln in enumerate(lines) if ln.startswith("99213,"))
    lines[i] = lines[i].replace(",1.30,", ",1.3O,", 1)
    bad = tmp_path / "PPRRVU2025_Oct.csv"
    bad.write_text("\n".join(lines) + "\n")
    ws = tmp_path / "ws"
    files = [bad, cms_dir / "2025" / "GPCI2025.csv"]
    with pytest.raises(ReferenceDataError, match=rf"PPRRVU2025_Oct.csv, line {i + 1}.*1\.3O"):
        refdata.load_cms_release(files, dest_dir=ws)
    assert not ws.exists() or _listing(ws) == []


def test_bad_zip5_record(cms_dir: Path, tmp_path: Path) -> None:
    text = (cms_dir / "2025" / "ZIP5_OCT2025_head.txt").read_text().splitlines()
    text[5] = text[5][:40]
    bad = tmp_path / "ZIP5.txt"
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(ReferenceDataError, match="line 6"):
        refdata.load_cms_release(bad, dest_dir=tmp_path / "ws")


def test_unknown_file(tmp_path: Path) -> None:
    f = tmp_path / "claims.csv"
    f.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(UnknownFormatError):
        refdata.load_cms_release(f, dest_dir=tmp_path / "ws")
    with pytest.raises(InputError):
        refdata.load_cms_release(tmp_path / "missing.csv", dest_dir=tmp_path / "ws")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no CMS"):
        refdata.load_cms_release(empty, dest_dir=tmp_path / "ws")


def test_two_files_of_a_kind_refused(cms_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="more than one gpci"):
        refdata.load_cms_release(
            [cms_dir / "2025" / "GPCI2025.csv", cms_dir / "2024" / "gpci_rvu24c.csv"],
            dest_dir=tmp_path,
        )


def test_duplicate_rvu_rows_refused(cms_dir: Path, tmp_path: Path) -> None:
    text = (cms_dir / "2025" / "PPRRVU2025_Oct_head.csv").read_text()
    last = text.strip().splitlines()[-1]
    bad = tmp_path / "PPRRVU2025_Oct.csv"
    bad.write_text(text + last + "\n")
    with pytest.raises(ReferenceDataError, match="duplicate"):
        refdata.load_cms_release(bad, dest_dir=tmp_path / "ws")


def test_reload_replaces_tables(cms_dir: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    refdata.load_cms_release(cms_dir / "2025" / "GPCI2025.csv", dest_dir=ws)
    g1 = refdata.gpci(2025, extra_dir=ws)
    refdata.load_cms_release([cms_dir / "2025" / f for f in FILES_2025], dest_dir=ws)
    g2 = refdata.gpci(2025, extra_dir=ws)
    assert g1.equals(g2)
    assert not [p for p in ws.rglob("*.tmp")]
    meta = refdata.release_meta(2025, extra_dir=ws)
    assert set(meta["sources"]) >= {"gpci", "rvu", "zip5"}
    assert refdata.zip_locality(2025, extra_dir=ws).filter(pl.col("zip5") == "10001").height == 1


def test_cms_zip_with_txt_twins_and_zip9(cms_dir: Path, tmp_path: Path) -> None:
    """CMS zips carry .txt (fixed width) and .xlsx twins, and ZIP9 next to ZIP5."""
    z = tmp_path / "bundle.zip"
    gpci_txt = (
        "ADDENDUM E. FINAL CY 2025 GPCIs BY STATE AND MEDICARE LOCALITY\n10112 AL 00 ALABAMA\n"
    )
    # state, zip, carrier, locality, rural, filler(5), +4 flag, +4, filler(6), Part B, filler(43), YYYYQ
    zip9 = "AK995010210201" + " " + " " * 5 + "1" + "0001" + " " * 6 + "A" + " " * 43 + "20254\n"
    assert len(zip9) == 81
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(cms_dir / "2025" / "GPCI2025.csv", "GPCI2025.csv")
        zf.writestr("GPCI2025.txt", gpci_txt)
        zf.writestr("GPCI2025.xlsx", b"PK\x03\x04 not really")
        zf.writestr("ZIP9_OCT2025.txt", zip9)
        zf.write(cms_dir / "2025" / "ZIP5_OCT2025_head.txt", "ZIP5_OCT2025.txt")
    rep = refdata.load_cms_release(z, dest_dir=tmp_path / "ws")
    assert set(rep.counts) == {"gpci", "zip5"}
    assert {s.split(":")[-1] for s in rep.skipped} == {
        "GPCI2025.txt",
        "GPCI2025.xlsx",
        "ZIP9_OCT2025.txt",
    }


def test_split_zip_is_flagged() -> None:
    z = refdata.zip_locality(2025).filter(pl.col("plus4_flag"))
    code = z["zip5"][0]
    loc = refdata.locality_for_zip(code, 2025)
    assert loc.zip_split
    fee = refdata.medicare_fee("99213", year=2025, zip=code)
    assert "ZIP+4" in str(fee)


def test_inventory_and_report_dict(cms_dir: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    rep = refdata.load_cms_release(cms_dir / "2025" / "GPCI2025.csv", dest_dir=ws, release="D")
    d = rep.as_dict()
    assert d["year"] == 2025 and d["tables"][0]["table"] == "gpci"
    inv = refdata.inventory(extra_dir=ws)
    gp = [r for r in inv if (r["year"], r["release"], r["table"]) == (2025, "D", "gpci")]
    assert gp and gp[0]["origin"] == "workspace" and gp[0]["rows"] == 109
    rv = [r for r in inv if (r["year"], r["release"], r["table"]) == (2025, "D", "rvu")]
    assert rv[0]["origin"] == "packaged"
    assert {r["origin"] for r in refdata.inventory()} == {"packaged"}
