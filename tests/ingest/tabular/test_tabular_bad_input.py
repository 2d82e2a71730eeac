"""Bad input never crashes and never loses good rows: problems are data."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from openpyxl import Workbook

from parley.ingest.tabular import sniff_tabular

CLAIMS = """
kind: claims
columns:
  claim_id: Claim
  charge_amount: Charge
  service_date_from: DOS
  procedure_code: CPT
  patient_id: Member
  patient_birth_date: DOB
"""
HEADER = "Claim,Charge,DOS,CPT,Member,DOB\n"


@pytest.fixture
def mapping(write_mapping):
    return write_mapping(CLAIMS)


def _csv(tmp_path: Path, body: str, name: str = "extract.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(body.encode(encoding))
    return path


def test_bad_amount_quarantines_the_whole_claim(ingest, mapping, tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        HEADER
        + "A1,10.00,01/02/2026,99213,M1,01/01/1970\n"
        + "A2,20.00,01/02/2026,99213,M2,01/01/1970\n"
        + "A2,12.3.4,01/02/2026,36415,M2,01/01/1970\n"
        + "A3,30.00,01/02/2026,99213,M3,01/01/1970\n",
    )
    r = ingest(path, mapping)
    assert r.table("claims")["claim_id"].to_list() == ["A1", "A3"]
    assert r.table("claim_lines").height == 2
    assert r.table("claims")["claim_seq"].to_list() == [0, 1]
    [p] = r.problems
    assert (p.severity, p.code, p.row, p.column, p.claim_id, p.quarantined) == (
        "error",
        "tabular.bad_amount",
        4,
        "Charge",
        "A2",
        True,
    )
    assert "extract.csv" in p.message and "row 4" in p.message and "'Charge'" in p.message
    assert "2 rows" in p.message and "ingest the file again" in p.message


def test_bad_date_and_missing_value(ingest, mapping, tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        HEADER
        + "A1,10.00,13/45/2026,99213,M1,\n"
        + ",20.00,01/02/2026,99213,M2,\n"
        + "A3,,01/02/2026,99213,M3,\n"
        + "A4,40.00,01/02/2026,99213,M4,\n",
    )
    r = ingest(path, mapping)
    assert r.table("claims")["claim_id"].to_list() == ["A4"]
    got = [(p.code, p.row, p.column, p.claim_id) for p in r.problems]
    assert got == [
        ("tabular.bad_date", 2, "DOS", "A1"),
        ("tabular.missing_value", 3, "Claim", None),
        ("tabular.missing_value", 4, "Charge", "A3"),
    ]
    assert all(p.quarantined and p.severity == "error" for p in r.problems)


def test_messages_never_carry_patient_identifiers(ingest, mapping, tmp_path: Path) -> None:
    path = _csv(tmp_path, HEADER + "A1,10.00,01/02/2026,99213,SECRETMEMBER,02/30/1961\n")
    r = ingest(path, mapping)
    [p] = r.problems
    assert p.code == "tabular.bad_date" and p.column == "DOB"
    assert "SECRETMEMBER" not in p.message and "1961" not in p.message and "02/30" not in p.message
    assert "SECRETMEMBER" not in str(r.tables)


def test_patient_id_is_hashed_and_birth_date_reduced_to_year(
    ingest, mapping, hasher, tmp_path: Path
) -> None:
    path = _csv(tmp_path, HEADER + "A1,10.00,01/02/2026,99213, m77 ,07/04/1976\n")
    claims = ingest(path, mapping).table("claims")
    assert claims["patient_key"].to_list() == [hasher.hash_one("M77")]
    assert claims["patient_birth_year"].to_list() == [1976]


def test_missing_mapped_columns_fail_the_file(ingest, mapping, tmp_path: Path) -> None:
    path = _csv(tmp_path, "Claim,Amount,DOS,CPT,Member,DOB\nA1,10.00,01/02/2026,99213,M1,\n")
    r = ingest(path, mapping)
    assert r.tables == {} or all(f.height == 0 for f in r.tables.values())
    [p] = r.problems
    assert (p.severity, p.code, p.row, p.column) == (
        "error",
        "tabular.missing_columns",
        1,
        "Charge",
    )
    assert "'Amount'" in p.message and "extract.csv" in p.message


def test_header_names_match_ignoring_case_and_spaces(ingest, mapping, tmp_path: Path) -> None:
    path = _csv(tmp_path, " claim , CHARGE,dos,cpt,member,dob\nA1,10.00,01/02/2026,99213,M1,\n")
    r = ingest(path, mapping)
    assert r.problems == [] and r.table("claims").height == 1


def test_wrong_delimiter_suggests_the_right_one(ingest, mapping, tmp_path: Path) -> None:
    path = _csv(tmp_path, HEADER.replace(",", ";") + "A1;10,00;01/02/2026;99213;M1;\n")
    r = ingest(path, mapping)
    [p] = r.problems
    assert p.code == "tabular.wrong_delimiter" and p.severity == "error"
    assert "did you mean delimiter ';'?" in p.message


@pytest.mark.parametrize("body", ["", "\n\n  \n"])
def test_empty_file(ingest, mapping, tmp_path: Path, body: str) -> None:
    r = ingest(_csv(tmp_path, body), mapping)
    assert [(p.severity, p.code) for p in r.problems] == [("error", "tabular.empty_file")]
    assert r.tables == {}


def test_header_only(ingest, mapping, tmp_path: Path) -> None:
    r = ingest(_csv(tmp_path, HEADER), mapping)
    assert [(p.severity, p.code) for p in r.problems] == [("warning", "tabular.no_rows")]
    assert sum(f.height for f in r.tables.values()) == 0


def test_blank_lines_keep_row_numbers(ingest, mapping, tmp_path: Path) -> None:
    path = _csv(
        tmp_path, HEADER + "A1,10.00,01/02/2026,99213,M1,\n\n,,,,,\nA2,x,01/02/2026,99213,M2,\n"
    )
    r = ingest(path, mapping)
    assert [(p.code, p.row) for p in r.problems] == [("tabular.bad_amount", 5)]
    assert r.table("claims")["claim_id"].to_list() == ["A1"]


def test_short_and_long_rows(ingest, mapping, tmp_path: Path) -> None:
    path = _csv(tmp_path, HEADER + "A1,10.00,01/02/2026,99213,M1,,extra,cells\nA2,20.00\n")
    r = ingest(path, mapping)
    assert r.table("claims")["claim_id"].to_list() == ["A1", "A2"]
    assert r.table("claims")["charge_amount"].to_list() == [Decimal("10.00"), Decimal("20.00")]


def test_non_utf8_falls_back_to_cp1252(ingest, write_mapping, tmp_path: Path) -> None:
    mapping = write_mapping(CLAIMS + "  billing_name: Practice\n")
    path = _csv(
        tmp_path,
        HEADER.strip() + ",Practice\nA1,10.00,01/02/2026,99213,M1,,Clínica Peña\n",
        encoding="cp1252",
    )
    r = ingest(path, mapping)
    assert [(p.severity, p.code) for p in r.problems] == [("warning", "tabular.encoding_fallback")]
    assert r.table("claims")["billing_name"].to_list() == ["Clínica Peña"]


def test_declared_encoding_is_used_without_warning(ingest, write_mapping, tmp_path: Path) -> None:
    mapping = write_mapping(CLAIMS + "  billing_name: Practice\nformat: {encoding: latin-1}\n")
    path = _csv(
        tmp_path,
        HEADER.strip() + ",Practice\nA1,10.00,01/02/2026,99213,M1,,Clínica\n",
        encoding="latin-1",
    )
    r = ingest(path, mapping)
    assert r.problems == [] and r.table("claims")["billing_name"].to_list() == ["Clínica"]


def test_unknown_codes_are_warnings_and_kept(ingest, write_mapping, tmp_path: Path) -> None:
    mapping = write_mapping("""
kind: remittance
columns: {claim_id: Claim, paid_amount: Paid, charge_amount: Billed, payment_date: Date, procedure_code: CPT}
adjustments:
  pairs: [{group: Grp, reason: Rsn, amount: Amt}]
""")
    path = _csv(
        tmp_path,
        "Claim,Billed,Paid,Date,CPT,Grp,Rsn,Amt\n"
        "A1,100.00,80.00,01/02/2026,9921,XX,45,20.00\n"
        "A2,100.00,80.00,01/02/2026,99213,CO,45,20.00\n",
    )
    r = ingest(path, mapping)
    assert sorted(r.codes("warning")) == [
        "tabular.unknown_adjustment_group",
        "tabular.unknown_procedure_code",
    ]
    assert r.codes("error") == []
    assert r.table("remit_claims").height == 2 and r.table("adjustments")[
        "group_code"
    ].to_list() == ["XX", "CO"]
    warn = next(p for p in r.problems if p.code == "tabular.unknown_procedure_code")
    assert (warn.row, warn.column, warn.claim_id, warn.quarantined) == (2, "CPT", "A1", False)


def test_adjustment_list_column_with_a_bad_entry(ingest, write_mapping, tmp_path: Path) -> None:
    mapping = write_mapping("""
kind: remittance
layout: claims
columns: {claim_id: Claim, claim_paid_amount: Paid, claim_charge_amount: Billed, payment_date: Date}
adjustments: {list: Adj}
""")
    path = _csv(
        tmp_path,
        "Claim,Billed,Paid,Date,Adj\n"
        "A1,100.00,70.00,01/02/2026,CO-45:20.00;PR-2:10.00\n"
        "A2,100.00,80.00,01/02/2026,CO-45:twenty\n"
        "A3,100.00,80.00,01/02/2026,CO 45 20\n",
    )
    r = ingest(path, mapping)
    assert r.table("remit_claims")["claim_id"].to_list() == ["A1"]
    assert r.table("adjustments").select("group_code", "reason_code", "amount").rows() == [
        ("CO", "45", Decimal("20.00")),
        ("PR", "2", Decimal("10.00")),
    ]
    assert [(p.code, p.row, p.column) for p in r.problems] == [
        ("tabular.bad_amount", 3, "Adj"),
        ("tabular.bad_amount", 4, "Adj"),
    ]
    assert r.table("remittances")["claim_count"].to_list() == [1]


def test_preamble_and_header_row(ingest, write_mapping, tmp_path: Path) -> None:
    mapping = write_mapping(CLAIMS + "format: {header_row: 3}\n")
    path = _csv(
        tmp_path, 'Report,of claims\n"Run, at",noon\n' + HEADER + "A1,oops,01/02/2026,99213,M1,\n"
    )
    r = ingest(path, mapping)
    assert [(p.code, p.row) for p in r.problems] == [("tabular.bad_amount", 4)]


def test_claim_split_across_chunks_is_kept_whole(ingest, mapping, tmp_path: Path) -> None:
    rows = "".join(f"A{i // 3},1.00,01/02/2026,99213,M1,\n" for i in range(30))
    r = ingest(_csv(tmp_path, HEADER + rows), mapping, chunk_rows=4)
    claims = r.table("claims")
    assert claims.height == 10 and claims["line_count"].to_list() == [3] * 10
    assert claims["claim_seq"].to_list() == list(range(10))
    assert r.table("claim_lines")["line_seq"].to_list() == list(range(30))


def test_non_contiguous_claim_rows_are_grouped(ingest, mapping, tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        HEADER + "A1,1.00,01/02/2026,99213,M1,\nA2,2.00,01/02/2026,99213,M1,\n"
        "A1,3.00,01/03/2026,36415,M1,\n",
    )
    r = ingest(path, mapping)
    claims = r.table("claims")
    assert claims.select("claim_id", "charge_amount", "line_count").rows() == [
        ("A1", Decimal("4.00"), 2),
        ("A2", Decimal("2.00"), 1),
    ]
    assert r.table("claim_lines").select("claim_seq", "line_number").rows() == [
        (0, 1),
        (0, 2),
        (1, 1),
    ]


# --------------------------------------------------------------------------- Excel


def _xlsx(tmp_path: Path, rows: list[list[object]], sheet: str = "Data") -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    path = tmp_path / "extract.xlsx"
    wb.save(path)
    return path


def test_excel_missing_sheet(ingest, write_mapping, tmp_path: Path) -> None:
    mapping = write_mapping(CLAIMS + "format: {sheet: Claims}\n")
    r = ingest(_xlsx(tmp_path, [HEADER.strip().split(",")]), mapping)
    [p] = r.problems
    assert (
        p.code == "tabular.missing_sheet" and "'Data'" in p.message and "format.sheet" in p.message
    )


def test_excel_numbers_are_exact(ingest, mapping, tmp_path: Path) -> None:
    import datetime as dt

    rows = [
        HEADER.strip().split(","),
        ["A1", 0.1 + 0.2, dt.datetime(2026, 1, 2), 99213, "M1", None],
        ["A2", 1234.5, "01/02/2026", "99213", "M2", dt.date(1970, 5, 6)],
        ["A3", "(12.00)", dt.datetime(2026, 1, 2), "99213", "M3", None],
    ]
    r = ingest(_xlsx(tmp_path, rows), mapping)
    assert r.problems == []
    claims = r.table("claims")
    assert claims["charge_amount"].to_list() == [
        Decimal("0.30"),
        Decimal("1234.50"),
        Decimal("-12.00"),
    ]
    assert claims["patient_birth_year"].to_list() == [None, 1970, None]
    assert r.table("claim_lines")["procedure_code"].to_list() == ["99213"] * 3


def test_corrupt_xlsx(ingest, mapping, tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    r = ingest(path, mapping)
    assert [(p.severity, p.code) for p in r.problems] == [("error", "tabular.unreadable")]


# --------------------------------------------------------------------------- sniffing


def test_sniff(tmp_path: Path, examples: Path) -> None:
    assert sniff_tabular(examples / "claims-lines.csv")
    assert sniff_tabular(examples / "claims-lines.xlsx")
    assert sniff_tabular(_csv(tmp_path, "a\tb\n1\t2\n", name="x.tsv"))
    assert not sniff_tabular(_csv(tmp_path, "ISA*00*          *00*~", name="x.txt"))
    assert not sniff_tabular(_csv(tmp_path, "", name="empty.csv"))
    assert not sniff_tabular(_csv(tmp_path, "a,b\n", name="x.json"))
    (tmp_path / "fake.xlsx").write_text("a,b\n")
    assert not sniff_tabular(tmp_path / "fake.xlsx")
    assert not sniff_tabular(tmp_path / "missing.csv")


def test_tsv_defaults_to_tab(ingest, mapping, tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        HEADER.replace(",", "\t") + "A1\t1,234.00\t01/02/2026\t99213\tM1\t\n",
        name="x.tsv",
    )
    r = ingest(path, mapping)
    assert r.problems == [] and r.table("claims")["charge_amount"].to_list() == [Decimal("1234.00")]


def test_quoted_fields_with_delimiters_and_newlines(ingest, write_mapping, tmp_path: Path) -> None:
    mapping = write_mapping(CLAIMS + "  billing_name: Practice\n")
    path = _csv(
        tmp_path,
        HEADER.strip() + ",Practice\n"
        'A1,"1,000.00",01/02/2026,99213,M1,,"Smith, Jones\nand Co"\n'
        "A2,bad,01/02/2026,99213,M1,,X\n",
    )
    r = ingest(path, mapping)
    assert r.table("claims")["billing_name"].to_list() == ["Smith, Jones\nand Co"]
    assert [p.row for p in r.problems] == [3]  # records, not physical lines
    assert isinstance(r.table("claims"), pl.DataFrame)


def test_utf16_export_is_read(ingest, mapping, tmp_path: Path) -> None:
    body = (HEADER + "A1,10.00,01/02/2026,99213,M1,\n").replace(",", "\t")
    path = tmp_path / "unicode.txt"
    path.write_bytes(body.encode("utf-16"))
    mapping = mapping.model_copy(
        update={"format": mapping.format.model_copy(update={"delimiter": "\t"})}
    )
    r = ingest(path, mapping)
    assert r.problems == [] and r.table("claims")["claim_id"].to_list() == ["A1"]


def test_excel_row_numbers_count_the_preamble(ingest, write_mapping, tmp_path: Path) -> None:
    mapping = write_mapping(CLAIMS + "format: {header_row: 3, sheet: Data}\n")
    rows = [
        ["Claim export"],
        [],
        HEADER.strip().split(","),
        ["A1", 10, "01/02/2026", "99213", "M1", None],
        ["A2", "ten", "01/02/2026", "99213", "M2", None],
    ]
    r = ingest(_xlsx(tmp_path, rows), mapping)
    assert [(p.code, p.row, p.column) for p in r.problems] == [("tabular.bad_amount", 5, "Charge")]
    assert r.table("claims")["claim_id"].to_list() == ["A1"]


def test_excel_header_only_and_short_sheet(ingest, write_mapping, mapping, tmp_path: Path) -> None:
    r = ingest(_xlsx(tmp_path, [HEADER.strip().split(",")]), mapping)
    assert [p.code for p in r.problems] == ["tabular.no_rows"]
    far = write_mapping(CLAIMS + "format: {header_row: 9}\n", name="far.yaml")
    r = ingest(_xlsx(tmp_path, [HEADER.strip().split(",")]), far)
    assert [p.code for p in r.problems] == ["tabular.empty_file"]


def test_diagnosis_warnings_and_the_warning_cap(ingest, write_mapping, tmp_path: Path) -> None:
    mapping = write_mapping(CLAIMS + "diagnoses: {columns: [Dx1, Dx2]}\n")
    rows = "".join(f"A{i},1.00,01/02/2026,9921,M1,,E11.9,??\n" for i in range(25))
    r = ingest(_csv(tmp_path, HEADER.strip() + ",Dx1,Dx2\n" + rows), mapping, chunk_rows=7)
    listed = [
        p for p in r.problems if p.code == "tabular.unknown_procedure_code" and p.row is not None
    ]
    assert len(listed) == 20 and listed[0].row == 2
    summary = [
        p.message
        for p in r.problems
        if p.row is None and p.code == "tabular.unknown_procedure_code"
    ]
    assert len(summary) == 1 and "5 more rows" in summary[0]
    assert (
        sum(p.code == "tabular.unknown_diagnosis_code" for p in r.problems) == 21
    )  # 20 listed + summary
    assert r.table("diagnoses").filter(pl.col("sequence") == 2)["code"].unique().to_list() == ["??"]
    assert r.codes("error") == []


@pytest.mark.slow
def test_csv_throughput(ingest, mapping, tmp_path: Path) -> None:
    """Vectorised: a couple of hundred thousand rows in well under a few seconds."""
    import time

    n = 200_000
    lines = [
        f"C{i // 2},{i % 997}.{i % 100:02d},01/02/2026,99213,M{i % 5000},03/04/1950\n"
        for i in range(n)
    ]
    path = _csv(tmp_path, HEADER + "".join(lines))
    started = time.perf_counter()
    r = ingest(path, mapping, chunk_rows=50_000)
    elapsed = time.perf_counter() - started
    assert r.problems == [] and r.table("claim_lines").height == n
    assert r.table("claims").height == n // 2
    assert n / elapsed > 40_000, f"{n / elapsed:,.0f} rows/s"


def test_header_row_past_the_end(ingest, write_mapping, tmp_path: Path) -> None:
    mapping = write_mapping(CLAIMS + "format: {header_row: 5}\n")
    r = ingest(_csv(tmp_path, HEADER + "A1,1.00,01/02/2026,99213,M1,\n"), mapping)
    assert [(p.code, p.row) for p in r.problems] == [("tabular.empty_file", 5)]
    assert "format.header_row" in r.problems[0].message


@pytest.mark.parametrize("chunk_rows", [3, 1000])
def test_malformed_quotes_fall_back_to_the_tolerant_reader(
    ingest, write_mapping, tmp_path: Path, chunk_rows: int
) -> None:
    mapping = write_mapping(CLAIMS + "  billing_name: Practice\n")
    good = "".join(f"A{i},1.00,01/02/2026,99213,M1,,Plain\n" for i in range(10))
    path = _csv(
        tmp_path,
        HEADER.strip()
        + ",Practice\n"
        + good
        + 'B1,2.00,01/02/2026,99213,SECRET,,"Acme 5" tape\nB2,oops,01/02/2026,99213,M1,,Co\n',
    )
    r = ingest(path, mapping, chunk_rows=chunk_rows)
    assert r.table("claims")["claim_id"].to_list() == [f"A{i}" for i in range(10)] + ["B1"]
    assert r.table("claims")["billing_name"][-1] == "Acme 5 tape"
    assert [(p.severity, p.code, p.row) for p in r.problems] == [
        ("warning", "tabular.malformed_csv", None),
        ("error", "tabular.bad_amount", 13),
    ]
    assert all("SECRET" not in p.message and "Acme" not in p.message for p in r.problems)


def test_encounter_flag(ingest, write_mapping, tmp_path: Path) -> None:
    """is_encounter: yes / no spellings read, empty is a billed claim, anything else
    quarantines its claim (tabular.bad_flag); unmapped, every claim is billed."""
    mapping = write_mapping(CLAIMS + "  is_encounter: Enc\n")
    path = _csv(
        tmp_path,
        "Claim,Charge,DOS,CPT,Member,DOB,Enc\n"
        "A1,10.00,01/02/2026,99213,M1,01/01/1970,Y\n"
        "A2,20.00,01/02/2026,99213,M2,01/01/1970, no \n"
        "A3,30.00,01/02/2026,99213,M3,01/01/1970,\n"
        "A4,40.00,01/02/2026,99213,M4,01/01/1970,capitated\n",
    )
    r = ingest(path, mapping)
    claims = r.table("claims")
    assert claims.select("claim_id", "is_encounter").rows() == [("A1", True), ("A2", False), ("A3", False)]
    [p] = r.problems
    assert (p.code, p.row, p.column, p.claim_id, p.quarantined) == ("tabular.bad_flag", 5, "Enc", "A4", True)
    assert "yes or no" in p.message
    plain = ingest(_csv(tmp_path, HEADER + "A1,10.00,01/02/2026,99213,M1,01/01/1970\n", "b.csv"), write_mapping(CLAIMS))
    assert plain.table("claims")["is_encounter"].to_list() == [False]
