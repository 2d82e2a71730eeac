"""The mapping file: validation errors name the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.errors import InputError, MappingError
from parley.ingest.tabular import FIELDS, load_mapping
from parley.ingest.tabular.mapping import REQUIRED


def _load(tmp_path: Path, text: str) -> MappingError:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    assert isinstance(info.value, InputError) and isinstance(info.value, ValueError)
    assert str(path) in str(info.value)
    return info.value


def test_unknown_field_names_line_and_field(tmp_path: Path) -> None:
    err = _load(
        tmp_path, "kind: claims\ncolumns:\n  claim_id: A\n  charge_amount: B\n  paid_amount: C\n"
    )
    assert "line 5, field columns.paid_amount: not a claims field" in str(err)
    assert "docs/tabular-mapping.md" in str(err)


def test_required_field_missing(tmp_path: Path) -> None:
    err = _load(tmp_path, "kind: remittance\ncolumns:\n  claim_id: A\n  paid_amount: B\n")
    assert "line 2, field columns: payment_date must be mapped for kind remittance" in str(err)


def test_unknown_key_in_format(tmp_path: Path) -> None:
    err = _load(
        tmp_path,
        "kind: claims\nformat:\n  delimeter: ';'\ncolumns: {claim_id: A, charge_amount: B}\n",
    )
    assert "line 3, field format.delimeter: unknown key" in str(err)


def test_bad_values(tmp_path: Path) -> None:
    err = _load(tmp_path, "kind: bills\ncolumns: {claim_id: A, charge_amount: B}\n")
    assert "line 1, field kind:" in str(err)
    err = _load(
        tmp_path,
        "kind: claims\nformat: {delimiter: ';;'}\ncolumns: {claim_id: A, charge_amount: B}\n",
    )
    assert "line 2, field format.delimiter" in str(err) and "single character" in str(err)
    err = _load(
        tmp_path,
        "kind: claims\nformat: {encoding: klingon}\ncolumns: {claim_id: A, charge_amount: B}\n",
    )
    assert "unknown encoding 'klingon'" in str(err)
    err = _load(
        tmp_path,
        "kind: claims\nformat: {header_row: 0}\ncolumns: {claim_id: A, charge_amount: B}\n",
    )
    assert "field format.header_row" in str(err)


def test_source_needs_exactly_one_of(tmp_path: Path) -> None:
    err = _load(
        tmp_path, "kind: claims\ncolumns:\n  claim_id: A\n  charge_amount: {value: 1, column: B}\n"
    )
    assert "line 4, field columns.charge_amount" in str(
        err
    ) and "exactly one of column, value or concat" in str(err)


def test_sections_for_the_other_kind(tmp_path: Path) -> None:
    err = _load(
        tmp_path, "kind: claims\ncolumns: {claim_id: A, charge_amount: B}\nadjustments: {list: X}\n"
    )
    assert "line 3, field adjustments: only for kind remittance" in str(err)


def test_not_yaml_and_not_a_mapping(tmp_path: Path) -> None:
    err = _load(tmp_path, "kind: claims\ncolumns: [unclosed\n")
    assert "line 3" in str(err) or "line 2" in str(err)
    assert "not valid YAML" in str(err)
    err = _load(tmp_path, "- just\n- a list\n")
    assert "must be a YAML mapping" in str(err)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="cannot read the mapping file"):
        load_mapping(tmp_path / "nope.yaml")


def test_shorthand_and_expressions(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "kind: claims\ncolumns:\n  claim_id: 123\n  charge_amount: {column: Total}\n"
        "  payer_id: {value: 42}\n  patient_id: {concat: [Last, DOB], separator: '|'}\n",
        encoding="utf-8",
    )
    m = load_mapping(path)
    assert m.columns["claim_id"].column == "123"
    assert m.columns["payer_id"].value == "42"
    assert m.source_columns() == ["123", "Total", "Last", "DOB"]


def test_required_fields_exist_in_the_registry() -> None:
    for kind, groups in REQUIRED.items():
        for group in groups:
            assert all(name in FIELDS[kind] for name in group)


def test_every_field_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "tabular-mapping.md").read_text(
        encoding="utf-8"
    )
    for kind, fields in FIELDS.items():
        for name in fields:
            assert f"`{name}`" in doc, f"{kind}.{name} is not in docs/tabular-mapping.md"
