"""Hospital standard-charge files: CMS examples (golden counts and values) and real-world variation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from parley.ingest.base import Problem
from parley.ingest.sources import Source
from parley.ingest.tic import MarketOptions, read_market, sniff_market

HPT = Path(__file__).parents[2] / "data" / "hpt"


def read_all(
    path: Path, codes: frozenset[str] | None = None
) -> tuple[pl.DataFrame, list[Problem], str | None]:
    source = Source(path)
    fmt = sniff_market(source.head(), source.suffix)
    frames, problems = [], []
    if fmt:
        for chunk in read_market(
            source, fmt, file_id="t", options=MarketOptions(codes=codes, workers=1)
        ):
            frames += list(chunk.tables.values())
            problems += chunk.problems
    return (pl.concat(frames) if frames else pl.DataFrame()), problems, fmt


def _key(frame: pl.DataFrame) -> list[tuple[object, ...]]:
    cols = [
        "billing_code",
        "billing_code_type",
        "payer_name",
        "plan_name",
        "setting",
        "negotiated_type",
        "rate",
        "median_amount",
        "p10_amount",
        "p90_amount",
        "claims_count",
        "methodology",
    ]
    return sorted(tuple(r) for r in frame.select(cols).fill_null("").cast(pl.Utf8).rows())


@pytest.mark.parametrize(
    ("name", "fmt", "rows"),
    [
        ("v3-tall.csv", "hpt-csv", 53),
        ("v3-wide.csv", "hpt-csv", 53),
        ("v3.json", "hpt-json", 53),
        ("v2-tall.csv", "hpt-csv", 33),
        ("v2-wide.csv", "hpt-csv", 37),
        ("v2.json", "hpt-json", 33),
    ],
)
def test_cms_examples(name: str, fmt: str, rows: int) -> None:
    frame, problems, found = read_all(HPT / name)
    assert found == fmt
    assert frame.height == rows
    assert not [p for p in problems if p.severity == "error"]
    assert set(frame["source"]) == {"hpt"} and set(frame["hospital_name"]) == {
        "West Mercy Hospital"
    }


def test_v3_tall_wide_and_json_agree() -> None:
    tall, wide, js = (read_all(HPT / n)[0] for n in ("v3-tall.csv", "v3-wide.csv", "v3.json"))
    assert _key(tall) == _key(wide) == _key(js)


def test_v3_values_by_hand() -> None:
    frame, _, _ = read_all(HPT / "v3-tall.csv", codes=frozenset({"70551"}))
    by_payer = {r["payer_name"]: r for r in frame.to_dicts()}
    assert by_payer["Platform Health Insurance"]["rate"] == Decimal("400.00")
    assert by_payer["Region Health Insurance"]["rate"] == Decimal("250.00")
    assert by_payer["Platform Health Insurance"]["billed_charge"] == Decimal("1200.00")
    assert (
        by_payer["Platform Health Insurance"]["provider_npi"] == "0000000001,0000000002,0000000003"
    )
    assert str(by_payer["Platform Health Insurance"]["last_updated_on"]) == "2026-04-01"
    with_median = read_all(HPT / "v3-tall.csv")[0].filter(pl.col("median_amount").is_not_null())
    assert with_median.height > 0 and with_median["p10_amount"].is_not_null().all()


def test_real_world_variation(tmp_path: Path) -> None:
    text = (HPT / "v3-tall.csv").read_text(encoding="utf-8-sig").splitlines()
    header_at = next(i for i, line in enumerate(text) if line.startswith("description"))
    text[header_at] = (
        text[header_at]
        .replace("|", " | ")
        .replace("standard_charge | gross", "Standard_Charge | Gross")
    )
    rows = [line.replace(",1200,1080,", ',"$1,200","$1,080.00",') for line in text]
    path = tmp_path / "messy.csv"
    path.write_text("Exported by ChargeMaster 9\n\n" + "\n".join(rows) + "\n", encoding="utf-8")
    frame, problems, fmt = read_all(path)
    assert fmt == "hpt-csv" and frame.height == 53
    mri = frame.filter(pl.col("billing_code") == "70551").row(0, named=True)
    assert mri["billed_charge"] == Decimal("1200.00") and mri["discounted_cash"] == Decimal(
        "1080.00"
    )


def test_missing_required_columns(tmp_path: Path) -> None:
    text = (
        (HPT / "v3-tall.csv")
        .read_text(encoding="utf-8-sig")
        .replace("code | 1 | type,", "codetype,")
    )
    path = tmp_path / "missing.csv"
    path.write_text(text, encoding="utf-8")
    frame, problems, _ = read_all(path)
    assert frame.height == 0
    err = [p for p in problems if p.code == "hpt.missing_columns"]
    assert err and err[0].row == 3 and "code|1|type" in err[0].message
