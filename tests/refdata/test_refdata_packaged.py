"""The reference data packaged in src/parley/refdata/data."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal

import polars as pl
import pytest

import parley.refdata as refdata
from parley.errors import InputError, ReferenceDataError


def test_years_and_releases() -> None:
    assert refdata.available_years() == [2024, 2025]
    assert refdata.releases(2024) == ["A", "C"]
    assert refdata.default_release(2024) == "C"
    assert refdata.default_release(2025) == "D"
    with pytest.raises(ReferenceDataError):
        refdata.pfs_rvus(1999)


def test_rvu_schema_has_no_descriptions() -> None:
    df = refdata.pfs_rvus(2025)
    assert "description" not in " ".join(df.columns)
    assert df.schema["work_rvu"] == pl.Decimal(9, 2)
    for col in ("status_code", "global_days", "pctc_ind", "mult_proc_ind", "bilat_ind",
                "asst_ind", "co_surg_ind", "team_ind", "conversion_factor"):  # fmt: skip
        assert col in df.columns
    row = refdata.rvu_row("99213", year=2025)
    assert (row["work_rvu"], row["nonfac_pe_rvu"], row["fac_pe_rvu"], row["mp_rvu"]) == (
        Decimal("1.30"), Decimal("1.35"), Decimal("0.57"), Decimal("0.10"),
    )  # fmt: skip
    assert row["global_days"] == "XXX"
    assert row["conversion_factor"] == Decimal("32.3465")
    assert refdata.rvu_row("27447", year=2025)["mult_proc_ind"] == "2"


def test_99213_published_amounts() -> None:
    assert refdata.medicare_fee("99213", year=2025).amount == Decimal("88.95")
    assert refdata.medicare_fee("99213", year=2025, locality="13202-01").amount == Decimal("101.06")
    assert refdata.medicare_fee("99213", year=2025, locality="1320201").amount == Decimal("101.06")
    assert refdata.medicare_fee("99213", year=2025, zip="10001").amount == Decimal("101.06")


def test_modifier_rows_and_facility() -> None:
    f = refdata.medicare_fee
    assert f("71046", year=2025, modifier="26").amount == Decimal("10.03")
    assert f("71046", year=2025, modifier="TC").amount == Decimal("22.64")
    assert f("71046", year=2025).amount == Decimal("32.67")
    assert f("71046", year=2025, modifier="26", locality="13202-01").amount == Decimal("11.13")
    assert f("99214", year=2025, facility=True).amount == Decimal("93.80")
    assert f("99214", year=2025, pos="11").amount == Decimal("125.18")  # office: non-facility
    assert f("99214", year=2025, pos="22").amount == Decimal("93.80")  # outpatient hospital
    big = f("27447", year=2025, locality="01182-18", facility=True)
    assert big.amount == Decimal("1340.36")
    assert big.setting == "facility"
    with pytest.raises(InputError):
        f("99213", year=2025, modifier="TC")
    with pytest.raises(ReferenceDataError):
        f("ZZZZZ", year=2025)


def test_2024_releases_and_cf() -> None:
    # July (C) default: CF 33.2875; January (A): CF 32.7442, GPCIs borrowed from C
    assert refdata.medicare_fee("99213", year=2024).amount == Decimal("90.87")  # 2.73 x 33.2875
    jan = refdata.medicare_fee("99213", year=2024, release="A")
    assert jan.conversion_factor == Decimal("32.7442")
    assert jan.amount == Decimal("89.39")  # 2.73 x 32.7442 = 89.391666
    on = refdata.medicare_fee("99213", year=2024, on_date=dt.date(2024, 2, 1))
    assert on.conversion_factor == Decimal("32.7442")
    assert refdata.conversion_factor(2024) == Decimal("33.2875")
    assert refdata.conversion_factor(2024, dt.date(2024, 3, 8)) == Decimal("32.7442")
    assert refdata.conversion_factor(2024, dt.date(2024, 3, 9)) == Decimal("33.2875")
    assert refdata.conversion_factor(2025) == Decimal("32.3465")
    assert refdata.conversion_factor(2010, dt.date(2010, 7, 1)) == Decimal("36.8729")
    hist = refdata.conversion_factor_history()
    assert hist["date_start"].min() == dt.date(1992, 1, 1)


def test_opps_cap_applies_for_imaging() -> None:
    capped = refdata.medicare_fee("70496", year=2025, locality="13202-01", apply_opps_cap=True)
    plain = refdata.medicare_fee("70496", year=2025, locality="13202-01")
    assert plain.amount == Decimal("313.60")
    assert capped.amount == Decimal("296.62")
    assert "OPPS cap" in str(capped)


def test_gpci_localities_zip() -> None:
    g = refdata.gpci(2025)
    assert g.height == 109
    ak = g.filter((pl.col("carrier") == "02102") & (pl.col("locality") == "01")).row(0, named=True)
    assert ak["work_gpci"] == Decimal("1.500")  # Alaska 1.5 work floor already in the file
    assert g.filter(pl.col("work_gpci") < 1).height == 0  # 1.0 work floor applied
    loc = refdata.localities(2025)
    manh = loc.filter((pl.col("carrier") == "13202") & (pl.col("locality") == "01"))
    assert manh["state"][0] == "NY"
    z = refdata.locality_for_zip("10001-1234", 2025)
    assert (z.carrier, z.locality, z.name) == ("13202", "01", "MANHATTAN")
    assert refdata.locality_for_zip("90001", 2025).key == "01182-18"
    with pytest.raises(InputError):
        refdata.locality_for_zip("00000", 2025)
    with pytest.raises(ReferenceDataError):
        refdata.zip_locality(2024)  # CMS ZIP file packaged for 2025 only
    assert refdata.parse_locality("13202-01") == ("13202", "01")
    assert refdata.parse_locality("1182 18") == ("01182", "18")
    with pytest.raises(InputError):
        refdata.parse_locality("Manhattan")


def test_anesthesia() -> None:
    a = refdata.anesthesia(2025)
    manh = a.filter((pl.col("carrier") == "13202") & (pl.col("locality") == "01"))
    assert manh["anesthesia_cf"][0] == Decimal("22.76")
    fee = refdata.anesthesia_fee(5, year=2025, minutes=62, locality="13202-01")
    assert fee.amount == Decimal("207.12")
    nat = refdata.anesthesia_fee(5, year=2025, time_units=4)
    assert nat.amount == Decimal("182.86")  # 9 x 20.3178 = 182.8602
    assert refdata.anesthesia(2024).height == 109


def test_place_of_service() -> None:
    pos = refdata.place_of_service()
    assert pos.schema["facility"] == pl.Boolean
    assert refdata.pos_is_facility("11") is False
    assert refdata.pos_is_facility(21) is True
    assert refdata.pos_is_facility("22") is True
    assert refdata.pos_is_facility("24") is True  # ASC
    with pytest.raises(InputError):
        refdata.pos_is_facility("98")


def test_hcpcs_level2_no_cpt_no_cdt() -> None:
    h = refdata.hcpcs_level2()
    assert h.height > 5000
    assert h.filter(pl.col("code").str.contains(r"^\d")).height == 0  # no CPT codes
    assert h.filter(pl.col("code").str.contains(r"^D\d{4}$")).height == 0  # no CDT
    assert "G0102" in h["code"].to_list()


def test_ms_drg() -> None:
    d = refdata.ms_drg()
    assert d.height > 700
    assert d.filter(pl.col("drg") == "470").height == 1


def test_x12_code_tables_ship_no_x12_text() -> None:
    c = refdata.carc()
    assert set(c.columns) == {"code", "category", "category_label", "recoverable", "rule"}
    assert c.height >= 400
    r = refdata.rarc()
    assert "description" not in r.columns
    assert r.height > 1000
    g = refdata.group_codes()
    assert set(g["code"]) == {"CO", "PR", "OA", "PI", "CR"}
    p = refdata.plb_reasons()
    assert {"L6", "WO", "FB", "72"} <= set(p["code"])


def test_user_can_add_descriptions(tmp_path) -> None:
    src = tmp_path / "carc_full.csv"
    src.write_text("Code,Description\n45,Charge exceeds fee schedule.\n1,Deductible Amount\n")
    n = refdata.load_code_descriptions(src, "carc", dest_dir=tmp_path / "ws")
    assert n == 2
    c = refdata.carc(extra_dir=tmp_path / "ws")
    assert c.filter(pl.col("code") == "45")["description"][0] == "Charge exceeds fee schedule."
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="line 1"):
        refdata.load_code_descriptions(bad, "carc", dest_dir=tmp_path / "ws")


def test_packaged_size_under_15_mb() -> None:
    root = refdata.packaged_dir()
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert total < 15_000_000


def test_import_does_no_io() -> None:
    code = (
        "import parley.refdata as r, parley.refdata.loader as l;"
        "assert l._releases.cache_info().currsize == 0;"
        "assert l._read_parquet.cache_info().currsize == 0"
    )
    env_path = str(refdata.packaged_dir().parents[2])
    subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {env_path!r}); {code}"],
        check=True,
    )


def test_lookups_are_cached() -> None:
    a = refdata.pfs_rvus(2025)
    b = refdata.pfs_rvus(2025)
    assert a is b


def test_fee_schedule_matches_single_lookups() -> None:
    fs = refdata.fee_schedule(2025, locality="13202-01")
    assert fs.filter(pl.col("status_code").is_in(["I", "C", "B"])).height == 0
    for code, mod in (("99213", ""), ("71046", "26"), ("71046", "TC"), ("27447", "")):
        one = refdata.medicare_fee(code, year=2025, modifier=mod or None, locality="13202-01")
        got = fs.filter((pl.col("hcpcs") == code) & (pl.col("modifier") == mod))["amount"][0]
        assert got == one.amount, code
    fac = refdata.fee_schedule(2025, facility=True)
    assert fac.filter(pl.col("hcpcs") == "99214")["amount"][0] == Decimal("93.80")
    capped = refdata.fee_schedule(2025, locality="13202-01", apply_opps_cap=True)
    row = capped.filter((pl.col("hcpcs") == "70496") & (pl.col("modifier") == ""))
    assert row["amount"][0] == Decimal("296.62")
    assert row["opps_capped"][0]
    jan = refdata.fee_schedule(2024, release="A")
    assert jan.filter(pl.col("hcpcs") == "99213")["amount"][0] == Decimal("89.39")
