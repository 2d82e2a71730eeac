"""835 reader: golden values checked by hand against the raw files, delimiters, problems."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from x12_support import assert_canonical, parse, sample, segments_of, serialize

from parley.ingest.x12 import sniff_x12

MANAGED = "LinuxForHealth__x12__src_tests_resources_835_005010X221A1_managed-care.835"
TIGER = "slott56__TigerShark__tests_835-example.txt"


def test_managed_care_golden() -> None:
    r = parse(sample(MANAGED))
    assert_canonical(r)
    claims = r.table("remit_claims").sort("claim_seq")
    assert claims["claim_id"].to_list() == ["5554555444", "8765432112"]
    assert claims["charge_amount"].to_list() == [Decimal("800.00"), Decimal("1200.00")]
    assert claims["paid_amount"].to_list() == [Decimal("450.00"), Decimal("495.00")]
    assert claims["patient_responsibility"].to_list() == [Decimal("300.00"), Decimal("600.00")]
    assert claims["claim_adjustment_amount"].to_list() == [Decimal("50.00"), Decimal("55.00")]
    assert claims["line_adjustment_amount"].to_list() == [Decimal("300.00"), Decimal("650.00")]
    assert claims["balanced"].to_list() == [True, True]
    assert claims["payer_name"].to_list() == ["RUSHMORE LIFE"] * 2
    assert claims["payee_npi"].to_list() == ["5544667733"] * 2
    assert claims["payer_id"].to_list() == ["1935665544"] * 2  # no REF*2U, no N1*PR04: TRN03
    assert claims["patient_key"].null_count() == 0
    lines = r.table("remit_lines").sort("line_seq")
    assert lines["procedure_code"].to_list() == ["99211", "93555"]
    assert lines["service_date_from"].cast(pl.Utf8).to_list() == ["2002-03-01", "2002-03-10"]
    assert lines["service_date_to"].cast(pl.Utf8).to_list() == ["2002-03-04", "2002-03-12"]
    adj = r.table("adjustments")
    assert adj.select(
        "claim_seq", "line_seq", "level", "group_code", "reason_code", "amount"
    ).rows() == [
        (0, None, "claim", "CO", "A2", Decimal("50.00")),
        (0, 0, "line", "PR", "1", Decimal("300.00")),
        (1, None, "claim", "CO", "A2", Decimal("55.00")),
        (1, 1, "line", "PR", "1", Decimal("600.00")),
        (1, 1, "line", "CO", "45", Decimal("50.00")),
    ]
    remit = r.table("remittances").row(0, named=True)
    assert remit["payment_amount"] == Decimal("945.00")
    assert remit["sum_claim_paid"] == Decimal("945.00")
    assert remit["balanced"] is True and remit["claim_count"] == 2
    assert remit["payee_tax_id"] == "777667755"
    assert remit["interchange_control"] == "000000907" and remit["transaction_control"] == "112233"
    # BPR16 is 20002316 in this file: not a date -> warning, value left empty
    assert remit["payment_date"] is None
    # and the payee NPI 5544667733 fails the NPI check digit: warned, kept
    assert r.codes() == ["x12.bad_date", "x12.bad_npi"]
    assert r.problems[0].element == "BPR16" and r.problems[0].segment_number == 4
    npi = r.problems[1]
    assert (npi.segment_number, npi.segment_id, npi.element) == (10, "N1", "N104")
    assert "'5544667733'" in npi.message and remit["payee_npi"] == "5544667733"


def test_tigershark_pipe_delimiters_newline_tilde_and_plb() -> None:
    r = parse(sample(TIGER))
    assert_canonical(r)
    claims = r.table("remit_claims").sort("claim_seq")
    assert claims["claim_id"].to_list() == ["001-DDDDDDDDDD", "001-SSSSSSSSSS"]
    assert claims["paid_amount"].to_list() == [Decimal("200.02"), Decimal("12000.65")]
    assert claims["balanced"].to_list() == [True, True]
    lines = r.table("remit_lines").sort("line_seq")
    assert lines["procedure_code"].to_list() == ["88888", "88888"]
    assert lines["allowed_amount"].to_list() == [Decimal("200.02"), Decimal("12145.65")]
    assert lines["line_control_number"].to_list() == ["251111111111", "252222222222"]
    assert lines["remark_codes"].to_list() == [None, "N220,M68"]
    plb = r.table("provider_adjustments")
    assert plb.select("reason_code", "amount").rows() == [("WO", Decimal("-361.19"))]
    remit = r.table("remittances").row(0, named=True)
    assert remit["payer_id"] == "87726"  # REF*2U
    assert remit["version"] == "004010X091A1"
    # 200.02 + 12000.65 - (-361.19) = 12561.86, the file says 12345.67
    assert remit["balanced"] is False and remit["balance_difference"] == Decimal("-216.19")
    assert "x12.unbalanced_remittance" in r.codes()


DELIMITERS = [
    ("*", ":", "~"),
    ("*", ":", "~\n"),
    ("*", ":", "~\r\n"),
    ("*", ":", "\n"),
    ("*", ":", "\r\n"),
    ("|", "^", "~"),
    ("|", ":", "\n~"),
    ("*", ":", "|"),
    ("|", ":", "^"),
    ("^", ">", "'"),
]


@pytest.mark.parametrize(("element", "component", "terminator"), DELIMITERS)
def test_delimiter_variants_give_identical_tables(
    element: str, component: str, terminator: str
) -> None:
    original = sample(MANAGED)
    reference = parse(original)
    rewritten = serialize(
        segments_of(original),
        element,
        component,
        terminator,
        repetition="{" if "^" in (element, terminator) else "^",
    )
    r = parse(rewritten)
    for name, frame in reference.tables.items():
        assert r.table(name).equals(frame), name
    assert r.codes() == reference.codes()


def test_no_envelope_starting_at_st_and_gs() -> None:
    segs = segments_of(sample(MANAGED))
    body = [s for s in segs if s[0] not in ("ISA", "IEA")]
    r = parse(serialize(body, "*", ":", "~\n"))
    assert r.table("remit_claims").height == 2
    st_only = [s for s in body if s[0] not in ("GS", "GE")]
    r = parse(serialize(st_only, "*", ":", "\n"))
    assert r.table("remit_claims").height == 2
    assert r.table("remittances")["version"].to_list() == [None]


def test_several_interchanges_in_one_file() -> None:
    data = sample(MANAGED)
    r = parse(data + b"\n" + data)
    assert r.table("remit_claims")["claim_seq"].to_list() == [0, 1, 2, 3]
    assert r.table("remittances")["remittance_seq"].to_list() == [0, 1]
    # the payee NPI is checked once per file, the payment dates once per remittance
    assert r.codes() == ["x12.bad_date", "x12.bad_npi", "x12.bad_date"]


def _edit(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data
    return data.replace(old, new, 1)


def test_bad_amount_quarantines_the_claim() -> None:
    r = parse(_edit(sample(MANAGED), b"CLP*8765432112*1*1200.00", b"CLP*8765432112*1*12O0.00"))
    assert r.table("remit_claims")["claim_id"].to_list() == ["5554555444"]
    assert set(r.table("remit_lines")["claim_seq"]) == {0}
    assert set(r.table("adjustments")["claim_seq"]) == {0}
    bad = [p for p in r.problems if p.code == "x12.bad_amount"]
    assert len(bad) == 1
    p = bad[0]
    assert (p.severity, p.quarantined, p.claim_id, p.element, p.segment_id) == (
        "error",
        True,
        "8765432112",
        "CLP03",
        "CLP",
    )
    assert p.segment_number == 20 and p.transaction_control == "112233"


def test_bad_line_amount_quarantines_the_claim() -> None:
    r = parse(_edit(sample(MANAGED), b"SVC*HC:99211*800.00*500.00", b"SVC*HC:99211*800.00*5OO"))
    assert r.table("remit_claims")["claim_id"].to_list() == ["8765432112"]
    assert [p.element for p in r.problems if p.code == "x12.bad_amount"] == ["SVC03"]


def test_bad_date_is_a_warning_and_null() -> None:
    r = parse(_edit(sample(MANAGED), b"DTM*150*20020301", b"DTM*150*2002MAR1"))
    lines = r.table("remit_lines").sort("line_seq")
    assert lines["service_date_from"][0] is None
    p = [p for p in r.problems if p.code == "x12.bad_date" and p.segment_id == "DTM"][0]
    assert (p.severity, p.claim_id, p.loop, p.segment_number) == (
        "warning",
        "5554555444",
        "2110",
        17,
    )


def test_unbalanced_and_unknown_status() -> None:
    data = _edit(
        sample(MANAGED), b"CLP*5554555444*1*800.00*450.00", b"CLP*5554555444*99*800.00*440.00"
    )
    r = parse(data)
    codes = r.codes()
    assert "x12.unbalanced_claim" in codes and "x12.unbalanced_remittance" in codes
    assert "x12.unknown_status" in codes
    claims = r.table("remit_claims").sort("claim_seq")
    assert claims["balanced"].to_list() == [False, True]
    assert claims["balance_difference"][0] == Decimal("10.00")
    unbalanced = [p for p in r.problems if p.code == "x12.unbalanced_claim"][0]
    assert unbalanced.claim_id == "5554555444" and unbalanced.segment_number == 13


def test_reversal_flag() -> None:
    r = parse(_edit(sample(MANAGED), b"CLP*5554555444*1*", b"CLP*5554555444*22*"))
    assert r.table("remit_claims")["is_reversal"].to_list() == [True, False]


def test_envelope_count_and_control_mismatches() -> None:
    data = _edit(sample(MANAGED), b"SE*26*112233", b"SE*25*112234")
    data = _edit(data, b"IEA*1*000000907", b"IEA*2*000000908")
    data = _edit(data, b"GE*1*1", b"GE*3*1")
    r = parse(data)
    assert sorted(r.codes()) == sorted(
        [
            "x12.bad_date",
            "x12.bad_npi",
            "x12.se_count",
            "x12.se_control",
            "x12.ge_count",
            "x12.iea_count",
            "x12.iea_control",
        ]
    )
    se = [p for p in r.problems if p.code == "x12.se_count"][0]
    assert (se.severity, se.segment_number, se.element) == ("warning", 28, "SE01")
    assert r.table("remit_claims").height == 2


def test_truncated_file_quarantines_the_incomplete_claim() -> None:
    data = sample(MANAGED)
    cut = data.index(b"DTM*151*20020312")
    r = parse(data[: cut + 8])
    assert r.table("remit_claims")["claim_id"].to_list() == ["5554555444"]
    missing = [p for p in r.problems if p.code == "x12.missing_se"]
    assert len(missing) == 1 and missing[0].severity == "error" and missing[0].quarantined
    assert missing[0].claim_id == "8765432112"
    assert "x12.missing_iea" in r.codes() and "x12.missing_ge" in r.codes()
    assert r.table("remittances").height == 1


def test_not_x12_and_empty() -> None:
    r = parse(b"%PDF-1.4 this is not an 835 at all", "x12-835")
    assert r.codes() == ["x12.not_x12"] and not r.tables
    r = parse(b"", "x12-835")
    assert r.codes() == ["x12.empty_file"] and not r.tables


def test_no_phi_in_tables_or_problems() -> None:
    data = _edit(sample(MANAGED), b"CLP*8765432112*1*1200.00", b"CLP*8765432112*1*bad")
    r = parse(data)
    phi = ["BUDD", "WILLIAM", "SETTLE", "SUSAN", "33344555510", "44455666610"]
    text = " ".join(p.message + str(p.as_row()) for p in r.problems)
    for frame in r.tables.values():
        text += " ".join(str(v) for row in frame.rows() for v in row)
    assert not [x for x in phi if x in text]


def test_long_single_line_streams(tmp_path) -> None:  # noqa: ANN001
    segs = segments_of(sample(MANAGED))
    head, claims, tail = segs[:12], segs[12:26], segs[26:]
    many = head + claims * 2000 + tail
    data = serialize(many, "*", ":", "~")
    assert b"\n" not in data and len(data) > 700_000
    r = parse(data, chunk_bytes=64 << 10)
    assert r.chunks > 5
    assert r.table("remit_claims").height == 4000
    assert r.table("remit_claims")["claim_seq"].to_list() == list(range(4000))
    assert r.table("remit_lines")["claim_seq"].to_list() == list(range(4000))
    assert r.bytes_done[-1] == len(data)
    assert r.bytes_done == sorted(r.bytes_done)


def test_segment_without_terminator_beyond_limit_is_skipped() -> None:
    data = sample(MANAGED)
    at = data.index(b"CLP*8765432112")
    junk = data[:at] + b"X" * (12 << 20) + b"~" + data[at:]
    r = parse(junk, chunk_bytes=1 << 20)
    assert "x12.segment_too_long" in r.codes()
    assert r.table("remit_claims")["claim_id"].to_list() == ["5554555444", "8765432112"]


def test_wrong_transaction_type_is_skipped() -> None:
    data = _edit(sample(MANAGED), b"ST*835*112233", b"ST*837*112233")
    r = parse(data, "x12-835")
    assert "x12.wrong_transaction" in r.codes()
    assert r.table("remit_claims").height == 0


@pytest.mark.parametrize("chunk_bytes", [150, 1000, 32 << 20])
def test_interchanges_with_different_delimiters(chunk_bytes: int) -> None:
    original = sample(MANAGED)
    other = serialize(segments_of(original), "|", "^", "\n", repetition="{")
    r = parse(original + other + original, chunk_bytes=chunk_bytes)
    assert r.table("remit_claims")["claim_id"].to_list() == ["5554555444", "8765432112"] * 3
    assert r.table("remit_claims")["paid_amount"].sum() == Decimal("2835.00")
    assert r.codes().count("x12.mixed_delimiters") == 2
    assert r.table("remit_lines")["procedure_code"].to_list() == ["99211", "93555"] * 3


def _pretty(segments: list[list[str]]) -> bytes:
    """The file as some senders and tools write it: a UTF-8 byte-order mark, one segment
    per CRLF line, indented by loop depth with spaces and tabs (up to 14 blanks)."""
    lines = []
    depth = 0
    for seg in segments:
        sid = seg[0]
        depth = {"ISA": 0, "GS": 1, "ST": 2, "SE": 2, "GE": 1, "IEA": 0}.get(sid, min(depth + 1, 7))
        lines.append(" " * (2 * depth) + ("\t" if depth > 5 else "") + "*".join(seg) + "~")
    return b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n"


@pytest.mark.parametrize(
    "name",
    [MANAGED, "LinuxForHealth__x12__demo-file_demo.837", "LinuxForHealth__x12__demo-file_demo.837i"],
)
@pytest.mark.parametrize("kernels", [True, False])
def test_indented_segments_give_identical_tables(name: str, kernels: bool, monkeypatch) -> None:  # noqa: ANN001
    """Leading blanks are skipped however many: a pretty-printed file (segments indented by
    more than 8 blanks) loses no segment, line or adjustment, and its SE counts hold."""
    from parley.ingest.x12 import _kernels as K

    original = sample(name)
    reference = parse(original)
    monkeypatch.setattr(K, "ENABLED", kernels and K.ENABLED)
    pretty = parse(_pretty(segments_of(original)))
    assert max(len(line) - len(line.lstrip()) for line in _pretty(segments_of(original)).splitlines()) > 8
    for table, frame in reference.tables.items():
        assert pretty.table(table).equals(frame), table
    assert pretty.codes() == reference.codes()


@pytest.mark.parametrize("name", [MANAGED, "LinuxForHealth__x12__demo-file_demo.837i"])
@pytest.mark.parametrize("kernels", [True, False])
def test_carriage_return_alone_ends_segments(name: str, kernels: bool, monkeypatch) -> None:  # noqa: ANN001
    """ISA16 followed by a bare CR (no LF anywhere: old Mac-style exports): the CR is the
    terminator, not a character to drop; the file reads as its "~" original does."""
    from parley.ingest.x12 import _kernels as K

    original = sample(name)
    reference = parse(original)
    monkeypatch.setattr(K, "ENABLED", kernels and K.ENABLED)
    bare_cr = serialize(segments_of(original), "*", ":", "\r")
    assert b"\n" not in bare_cr
    assert sniff_x12(bare_cr[:4096]) == sniff_x12(original[:4096]) is not None
    result = parse(bare_cr, chunk_bytes=200)
    for table, frame in reference.tables.items():
        assert result.table(table).equals(frame), table
    assert result.codes() == reference.codes()


def test_envelope_numbers_compare_as_numbers() -> None:
    """GE01/GE02, SE01, IEA01/IEA02 are numeric elements: "0001" is 1 (no warning); a different
    number still is one."""
    original = sample(MANAGED).decode()
    reference = parse(original.encode())
    padded = original.replace("SE*26*", "SE*026*").replace("GE*1*1~", "GE*01*0001~")
    assert padded != original
    assert parse(padded.encode()).codes() == reference.codes()
    assert "x12.ge_control" in parse(original.replace("GE*1*1~", "GE*1*0002~").encode()).codes()


COB = "LinuxForHealth__x12__src_tests_resources_835_005010X221A1_cob-contractural-adjustment.835"


def test_component_separator_other_than_isa16_is_read_with_a_warning() -> None:
    """This real sample declares ISA16 ':' but writes 'SVC*HC>55669': the codes are read with
    the separator the data uses (before: qualifier 'HC>55669', no procedure code), once warned."""
    data = sample(COB)
    assert data[104:105] == b":" and b"SVC*HC>55669*" in data
    r = parse(data)
    lines = r.table("remit_lines")
    assert lines["procedure_qualifier"].to_list() == ["HC"]
    assert lines["procedure_code"].to_list() == ["55669"]
    warned = [p for p in r.problems if p.code == "x12.component_separator"]
    assert len(warned) == 1 and warned[0].element == "ISA16" and "'>'" in warned[0].message
    # the same file declaring '>' reads the same, with no warning
    fixed = parse(data[:104] + b">" + data[105:])
    assert fixed.table("remit_lines").equals(lines)
    assert "x12.component_separator" not in fixed.codes()


def test_declared_separator_present_in_the_data_is_kept() -> None:
    """ISA16 ':' with 'HC:99211' (the usual case) and a qualifier-only SVC01: no override."""
    r = parse(sample(MANAGED))
    assert "x12.component_separator" not in r.codes()
    data = sample(MANAGED).replace(b"SVC*HC:99211", b"SVC*99211").replace(b"SVC*HC:93555", b"SVC*HC")
    assert "x12.component_separator" not in parse(data).codes()


def test_plb_without_amount_is_warned_and_kept() -> None:
    data = sample(MANAGED).replace(b"SE*26*", b"PLB*5544667733*20021231*L6:X**~SE*27*")
    r = parse(data)
    plb = r.table("provider_adjustments")
    assert plb.select("reason_code", "reference").rows() == [("L6", "X")]
    assert plb["amount"].to_list() == [None]
    bad = [p for p in r.problems if p.code == "x12.bad_amount"]
    assert len(bad) == 1 and bad[0].element == "PLB04" and bad[0].segment_id == "PLB"


@pytest.mark.parametrize("tail", [b"\x1a", b"\r\n\x1a", b"\n\x1a\x00\x00"])
def test_trailing_ctrl_z_is_not_a_cut_file(tail: bytes) -> None:
    """Old PC tools end files with a DOS end-of-file mark (Ctrl-Z): not 'cut short'."""
    reference = parse(sample(MANAGED))
    r = parse(sample(MANAGED) + tail)
    assert r.codes() == reference.codes() and "x12.truncated" not in r.codes()
    for table, frame in reference.tables.items():
        assert r.table(table).equals(frame), table
    # a real cut still is one
    assert "x12.truncated" in parse(sample(MANAGED)[:-30] + b"\x1a").codes()


def test_payment_date_shifted_into_bpr15_is_read_with_a_warning() -> None:
    """A sender that leaves out one bank element writes the date in BPR15."""
    shifted = sample(MANAGED).replace(b"*DA*144444*20002316", b"*DA*20020316")
    r = parse(shifted)
    assert r.table("remittances")["payment_date"].to_list() == [date(2002, 3, 16)]
    (p,) = [p for p in r.problems if p.code == "x12.bad_date"]
    assert p.element == "BPR16" and "BPR15" in p.message
    # no date anywhere: warned, left empty (days to pay cannot be measured)
    missing = parse(sample(MANAGED).replace(b"*DA*144444*20002316", b"*DA*144444"))
    assert missing.table("remittances")["payment_date"].to_list() == [None]
    (p,) = [p for p in missing.problems if p.code == "x12.bad_date"]
    assert p.element == "BPR16" and "missing" in p.message
    # an account number in BPR15 that is no plausible date is not taken for one
    account = parse(sample(MANAGED).replace(b"*DA*144444*20002316", b"*DA*99991231"))
    assert account.table("remittances")["payment_date"].to_list() == [None]


def test_a_flood_of_one_problem_is_capped_with_a_notice() -> None:
    """1,100 unbalanced lines in one batch: the first 1,000 are listed, then one
    x12.too_many_problems notice (before: exactly 1,000 and no notice)."""
    text = sample(MANAGED).decode()
    start, end = text.index("CLP*5554555444"), text.index("CLP*8765432112")
    block = text[start:end].replace("SVC*HC:99211*800.00*500.00", "SVC*HC:99211*800.00*499.00")
    flood = text[:start] + block * 1100 + text[end:]
    r = parse(flood.encode())
    assert r.table("remit_lines").height == 1101
    assert r.codes().count("x12.unbalanced_line") == 1000
    (notice,) = [p for p in r.problems if p.code == "x12.too_many_problems"]
    assert "x12.unbalanced_line" in notice.message


def test_isa_broken_over_two_lines_is_read_as_one() -> None:
    """A real Nevada Medicaid 835 (newline-terminated) breaks its ISA after ISA08: the
    interchange control number is still read (before: null, and a false IEA mismatch)."""
    lines = serialize(segments_of(sample(MANAGED)), "*", ":", "\n")
    broken = lines.replace(b"          *131031*", b"\n*131031*", 1)
    assert broken.count(b"\n") == lines.count(b"\n") + 1
    reference, r = parse(lines), parse(broken)
    assert r.table("remittances")["interchange_control"].to_list() == ["000000907"]
    for table, frame in reference.tables.items():
        assert r.table(table).equals(frame), table
    assert r.codes() == ["x12.split_isa", *reference.codes()]


def test_text_before_the_isa_is_skipped_with_a_warning() -> None:
    """Published samples (stupidedi) put a paragraph above the ISA: the interchange is read
    (before: 'not a format Parley reads', nothing loaded)."""
    reference = parse(sample(MANAGED))
    prose = b"Business Scenario 1 - a payment.\r\n\r\nThis scenario depicts the 835 (ISA*...).\r\n\r\n"
    data = prose + sample(MANAGED)
    assert sniff_x12(data[:4096]) == "x12-835"
    r = parse(data)
    for table, frame in reference.tables.items():
        assert r.table(table).equals(frame), table
    assert r.codes() == ["x12.leading_text", *reference.codes()]
    assert sniff_x12(b"just some text\nwith ISA in it, not X12\n") is None


def test_payment_date_two_places_early_is_read_from_bpr14() -> None:
    data = sample(MANAGED).replace(b"*01*111333555*DA*144444*20002316", b"*01*111333555*20020316")
    r = parse(data)
    assert r.table("remittances")["payment_date"].to_list() == [date(2002, 3, 16)]
    assert [p.element for p in r.problems if p.code == "x12.bad_date"] == ["BPR16"]
    assert "BPR14" in next(p.message for p in r.problems if p.code == "x12.bad_date")


def test_empty_required_amounts_are_warned() -> None:
    """Empty CLP03 / CLP04 / BPR02: kept empty, but said (before: silent, and the claim simply
    dropped out of the balance checks)."""
    data = (
        sample(MANAGED)
        .replace(b"CLP*5554555444*1*800.00*450.00*", b"CLP*5554555444*1**450.00*")
        .replace(b"CLP*8765432112*1*1200.00*495.00*", b"CLP*8765432112*1*1200.00**")
        .replace(b"BPR*I*945.00*", b"BPR*I**")
    )
    r = parse(data)
    missing = [(p.element, p.claim_id) for p in r.problems if p.code == "x12.missing_amount"]
    assert sorted(missing, key=str) == sorted([("BPR02", None), ("CLP03", "5554555444"), ("CLP04", "8765432112")], key=str)
    claims = r.table("remit_claims").sort("claim_seq")
    assert claims["charge_amount"].to_list() == [None, Decimal("1200.00")]
    assert "x12.missing_amount" not in parse(sample(MANAGED)).codes()


def test_plb_reason_that_is_no_reason_code_is_warned() -> None:
    """A real sample (Chartwarden) writes 'PLB*...*WO*-150.00**1': an amount 1.00 with no
    reason; others put an amount or a claim number where the reason goes.  Kept as sent,
    warned (before: silent)."""
    data = sample(MANAGED).replace(b"SE*26*", b"PLB*5544667733*20021231*WO*-150.00**1~SE*27*")
    r = parse(data)
    plb = r.table("provider_adjustments")
    assert plb.select("reason_code", "amount").rows() == [("WO", Decimal("-150.00")), (None, Decimal("1.00"))]
    assert [p.element for p in r.problems if p.code == "x12.unknown_plb_reason"] == ["PLB05"]
    fine = sample(MANAGED).replace(b"SE*26*", b"PLB*5544667733*20021231*L6:X*-1.00*FB*2.00~SE*27*")
    assert "x12.unknown_plb_reason" not in parse(fine).codes()


def _of(r, code: str) -> list:
    return [p for p in r.problems if p.code == code]


def test_missing_header_segments_are_warned() -> None:
    """BPR, TRN, N1*PR and N1*PE are required: a transaction without one is kept and warned
    (x12.missing_segment), a missing TRN saying what it costs; ST / SE alone is skipped."""
    data = sample(MANAGED)
    assert _of(parse(data), "x12.missing_segment") == []
    cut = data.replace(b"TRN*1*7170066655*1935665544~\n", b"").replace(b"N1*PR*RUSHMORE LIFE~\n", b"")
    r = parse(cut.replace(b"SE*26*", b"SE*24*"))
    missing = _of(r, "x12.missing_segment")
    assert [p.message.split(" (")[0] for p in missing] == [
        "transaction 112233 has no TRN",
        "transaction 112233 has no N1*PR",
    ]
    assert "count twice" in missing[0].message and missing[0].segment_number == 3
    assert r.table("remittances").height == 1 and r.table("remit_claims").height == 2
    empty = parse(data.replace(b"ST*835*112233~", b"ST*835*112233~\nSE*2*000001~\nST*835*000002~"))
    assert [p.transaction_control for p in _of(empty, "x12.empty_transaction")] == ["112233"]
    assert empty.table("remittances")["transaction_control"].to_list() == ["000002"]


def test_a_complete_last_segment_without_terminator_is_no_cut() -> None:
    """A headless file whose last SE has no newline after it is whole; an SE cut short is not."""
    body = sample(MANAGED).decode()
    st_only = body[body.index("ST*835") : body.index("GE*")].rstrip("\n").rstrip("~")
    assert "x12.truncated" not in parse(st_only.encode()).codes()
    cut = st_only[:-3]  # SE*26*112 (the control number cut)
    assert "x12.truncated" in parse(cut.encode()).codes()


def test_empty_line_amounts_are_warned() -> None:
    r = parse(_edit(sample(MANAGED), b"SVC*HC:99211*800.00*500.00", b"SVC*HC:99211**500.00"))
    [p] = _of(r, "x12.missing_amount")
    assert (p.element, p.segment_id, p.claim_id, p.segment_number) == ("SVC02", "SVC", "5554555444", 16)
    assert r.table("remit_lines").sort("line_seq")["charge_amount"].to_list()[0] is None


def test_misplaced_elements_are_warned_and_kept() -> None:
    """A CLP with an element too many moves the payer claim number into CLP08: the codes
    that cannot be theirs are warned (x12.misplaced_element), and kept as sent."""
    data = _edit(
        sample(MANAGED), b"CLP*5554555444*1*800.00*450.00*300.00*12*94060555410000",
        b"CLP*5554555444*1*800.00*450.00*300.00*CO*250*94060555410000*11*1",
    )
    data = _edit(data, b"SVC*HC:93555*1200.00*550.00", b"SVC*HC:93555*1200.00*550.00*550.00")
    data = _edit(data, b"CAS*CO*45*50.00", b"CAS*CO**45*50.00")
    r = parse(data)
    found = [(p.element, p.claim_id) for p in _of(r, "x12.misplaced_element")]
    assert found == [
        ("CLP06", "5554555444"), ("CLP08", "5554555444"), ("CLP09", "5554555444"),
        ("SVC04", "8765432112"), ("CAS02", "8765432112"),
    ]
    claim = r.table("remit_claims").row(0, named=True)
    assert (claim["filing_indicator"], claim["facility_code"]) == ("CO", "94060555410000")
    assert "'CO' is not a claim filing indicator" in _of(r, "x12.misplaced_element")[0].message
    clean = parse(sample(MANAGED))
    assert _of(clean, "x12.misplaced_element") == []


def test_claim_level_remark_codes_are_read() -> None:
    """LQ sent in the claim loop (a claim with no lines) gives the claim's remark codes,
    after its MOA ones, with x12.misplaced_segment; LQ after an SVC stays the line's."""
    data = _edit(sample(MANAGED), b"CAS*CO*A2*50.00~\n", b"CAS*CO*A2*50.00~\nMOA***MA01~\nLQ*HE*N178~\nLQ*HE*MA48~\n")
    r = parse(data)
    claims = r.table("remit_claims").sort("claim_seq")
    assert claims["remark_codes"].to_list() == ["MA01,N178,MA48", None]
    [p] = _of(r, "x12.misplaced_segment")
    assert (p.segment_id, p.claim_id, p.segment_number) == ("LQ", "5554555444", 16)
    assert r.table("remit_lines")["remark_codes"].null_count() == 2


def test_payment_date_as_the_last_bpr_element() -> None:
    data = _edit(sample(MANAGED), b"*01*111333555*DA*144444*20002316~", b"*20020316~")
    r = parse(data)
    assert r.table("remittances")["payment_date"].to_list() == [date(2002, 3, 16)]
    assert "BPR12 holds 20020316" in _of(r, "x12.bad_date")[0].message


def _out_of_place() -> bytes:
    """MANAGED with its dates sent where the 835 has none, and segments that are not its."""
    data = _edit(sample(MANAGED), b"DTM*150*20020301~\nDTM*151*20020304~", b"DTP*472*RD8*20020301-20020304~")
    data = _edit(data, b"DTM*150*20020310~", b"DTM*232*20020309~")
    data = _edit(data, b"CAS*CO*A2*50.00~\n", b"CAS*CO*A2*50.00~\nDTM*001*20020301~\nN1*PE*OTHER CLINIC~\n")
    return data


def test_service_dates_sent_out_of_place_are_read() -> None:
    """837-style DTP*472 after a line gives the line's dates; DTM*232 after the claim's
    first line gives the claim's; DTM*001 and an N1 in the claim loop are ignored.  Each
    with x12.misplaced_segment, naming the segment and the loop."""
    r = parse(_out_of_place())
    lines = r.table("remit_lines").sort("line_seq")
    assert lines["service_date_from"].to_list() == [date(2002, 3, 1), None]
    assert lines["service_date_to"].to_list() == [date(2002, 3, 4), date(2002, 3, 12)]
    claims = r.table("remit_claims").sort("claim_seq")
    assert claims["service_date_from"].to_list() == [date(2002, 3, 1), date(2002, 3, 9)]
    assert claims["service_date_to"].to_list() == [date(2002, 3, 4), date(2002, 3, 12)]
    found = [(p.segment_id, p.loop, p.segment_number, p.claim_id, p.message) for p in _of(r, "x12.misplaced_segment")]
    assert [f[:4] for f in found] == [
        ("DTM", "2100", 15, "5554555444"), ("N1", "2100", 16, "5554555444"),
        ("DTP", "2110", 19, "5554555444"), ("DTM", "2110", 25, "8765432112"),
    ]
    assert found[0][4].startswith("DTM*001 is not a date of the claim payment loop") and "ignored" in found[0][4]
    assert found[2][4].endswith("read as the line's service date")
    assert "read as the claim's service start date" in found[3][4]
    assert _of(parse(sample(MANAGED)), "x12.misplaced_segment") == []


def test_a_claim_without_any_service_date_is_warned() -> None:
    data = _edit(sample(MANAGED), b"DTM*150*20020301~\nDTM*151*20020304~\n", b"")
    r = parse(data)
    [p] = _of(r, "x12.missing_segment")
    assert (p.claim_id, p.segment_id, p.element, p.segment_number) == ("5554555444", "CLP", "DTM01", 13)
    assert "no service date" in p.message
    assert r.table("remit_claims").sort("claim_seq")["service_date_from"].to_list() == [None, date(2002, 3, 10)]


def test_a_repeated_svc01_is_read_as_its_first_code() -> None:
    """SVC01 may not repeat; "HC:99211^99212" (ISA11 '^') is read as 99211 and warned."""
    data = _edit(sample(MANAGED), b"SVC*HC:99211*", b"SVC*HC:99211^HC:99212:25*")
    r = parse(data)
    line = r.table("remit_lines").sort("line_seq").row(0, named=True)
    assert (line["procedure_qualifier"], line["procedure_code"], line["modifier_1"]) == ("HC", "99211", None)
    [p] = _of(r, "x12.misplaced_element")
    assert (p.element, p.claim_id, p.segment_number) == ("SVC01", "5554555444", 16)
    assert "'HC:99211^HC:99212:25' repeats" in p.message
    # an ISA whose fields are not padded: ISA11 is still found, by counting separators
    unpadded = _edit(data, b"*30*000000005      *30*12345          *", b"*30*000000005*30*12345*")
    assert _of(parse(unpadded), "x12.misplaced_element")[0].element == "SVC01"
    # 4010: ISA11 is the standards identifier 'U', no separator
    old = _edit(_edit(data, b"*^*00501*", b"*U*00401*"), b"SVC*HC:99211^", b"SVC*HC:99211U")
    assert parse(old).table("remit_lines").sort("line_seq")["procedure_code"][0] == "99211UHC"


def test_segments_outside_any_transaction() -> None:
    """A segment between the envelope's own, where no transaction is open, is warned and
    read by no one; a claim there is an error (it is not loaded)."""
    data = sample(MANAGED)
    stray_bpr = _edit(data, b"GS*HP", b"BPR*I*5*C~\nGS*HP")
    [p] = _of(parse(stray_bpr), "x12.orphan_segment")
    assert (p.severity, p.segment_id, p.segment_number) == ("warning", "BPR", 2)
    claim = _edit(data, b"GE*1*1~", b"CLP*STRAY*1*100*50*0*12*X~\nSVC*HC:99213*100*50~\nGE*1*1~")
    r = parse(claim)
    [p] = _of(r, "x12.orphan_segment")
    assert (p.severity, p.segment_id, p.segment_number) == ("error", "CLP", 29)
    assert "2 segments (CLP ... SVC)" in p.message and "1 claim(s)" in p.message
    assert r.table("remit_claims")["claim_id"].to_list() == ["5554555444", "8765432112"]
    assert r.table("remit_lines").height == 2


def test_lines_before_the_first_claim_of_a_transaction_are_orphans() -> None:
    """An SVC / CAS between an ST and its first CLP belongs to no claim: not to the last claim
    of the transaction before (another payment); a CAS in the header is warned."""
    data = sample(MANAGED)
    second = data[data.index(b"ST*835") : data.index(b"GE*")].replace(b"ST*835*112233", b"ST*835*112234")
    second = second.replace(b"SE*26*112233", b"SE*31*112234").replace(b"TRN*1*7170066655", b"TRN*1*7170066656")
    second = _edit(second, b"LX*1~\n", b"LX*1~\nSVC*HC:84402*200.31*0~\nDTM*472*20020301~\nCAS*PR*31*200.31~\n")
    second = _edit(second, b"REF*TJ*777667755~\n", b"REF*TJ*777667755~\nCAS*PR*31*140.18~\n")
    both = data.replace(b"GE*1*1~", second + b"GE*2*1~")
    r = parse(both)
    claims = r.table("remit_claims").sort("claim_seq")
    assert claims["line_count"].to_list() == [1, 1, 1, 1]
    assert claims["balanced"].to_list() == [True] * 4
    assert "84402" not in r.table("remit_lines")["procedure_code"].to_list()
    orphans = [(p.segment_id, p.segment_number) for p in _of(r, "x12.orphan_segment")]
    assert orphans == [("SVC", 40), ("CAS", 42)]
    [header] = _of(r, "x12.misplaced_segment")
    assert (header.segment_id, header.segment_number, header.claim_id) == ("CAS", 38, None)
    assert r.table("adjustments").height == 2 * parse(data).table("adjustments").height


def test_one_odd_clp_code_among_fitting_neighbours_is_no_shift() -> None:
    """CLP08 'AA' with CLP06 and CLP09 in place: a bad code, not a missing element."""
    data = _edit(sample(MANAGED), b"CLP*5554555444*1*800.00*450.00*300.00*12*94060555410000",
                 b"CLP*5554555444*1*800.00*450.00*300.00*12*94060555410000*AA*1")
    [p] = _of(parse(data), "x12.misplaced_element")
    assert p.element == "CLP08" and "'AA' is not a place of service" in p.message
    assert "missing or extra" not in p.message


def test_a_line_without_procedure_code_is_warned() -> None:
    r = parse(_edit(sample(MANAGED), b"SVC*HC:99211*", b"SVC*HC*"))
    [p] = _of(r, "x12.missing_element")
    assert (p.element, p.claim_id, p.segment_number) == ("SVC01", "5554555444", 16)
    assert r.table("remit_lines").sort("line_seq")["procedure_code"].to_list() == [None, "93555"]


@pytest.mark.parametrize(
    ("bpr", "where"),
    [
        (b"BPR*I*945.00*C*ACH*CCP*20020316~", "BPR06"),
        (b"BPR*I*945.00*C*ACH*CCP*01*888999777*DA*24681012*20020316**01*111333555*DA*144444~", "BPR10"),
    ],
)
def test_a_payment_date_left_of_its_place_is_read(bpr: bytes, where: str) -> None:
    data = sample(MANAGED)
    start = data.index(b"BPR*")
    data = data[:start] + bpr + data[data.index(b"\n", start) :]
    r = parse(data)
    assert r.table("remittances")["payment_date"].to_list() == [date(2002, 3, 16)]
    assert f"{where} holds 20020316" in _of(r, "x12.bad_date")[0].message


def test_claims_after_the_last_interchange_are_not_read() -> None:
    tail = b"".join(b"CLP*X%d*1*100*50*0*12*X~\nSVC*HC:99213*100*50~\n" % i for i in range(40))
    for chunk_bytes in (1 << 20, 64):
        r = parse(sample(MANAGED) + tail, chunk_bytes=chunk_bytes)
        assert r.table("remit_claims").height == 2
        stray = _of(r, "x12.orphan_segment")
        assert stray and all(p.severity == "error" for p in stray)
        assert stray[0].segment_number == 31


@pytest.mark.parametrize("isa_end", [b"|", b"!", b"\n"])
def test_an_isa_ending_with_another_byte_than_the_segments_is_read(isa_end: bytes) -> None:
    """Only the ISA's own last byte changed (the file's segments end with '~'): the file is
    read with '~', and warned (x12.segment_terminator), not loaded empty."""
    clean = parse(sample(MANAGED))
    data = _edit(sample(MANAGED), b"*1*T*:~\n", b"*1*T*:" + isa_end + b"\n")
    r = parse(data)
    [p] = _of(r, "x12.segment_terminator")
    assert (p.segment_id, p.segment_number) == ("ISA", 1) and repr(isa_end.decode()) in p.message
    for name in ("remittances", "remit_claims", "remit_lines", "adjustments"):
        assert r.table(name).drop("file_id").equals(clean.table(name).drop("file_id")), name
    assert [c for c in r.codes() if c != "x12.segment_terminator"] == clean.codes()


def test_a_cut_after_the_last_claims_loop_quarantines_no_claim() -> None:
    """Cut in the PLB after the last claim: that claim is whole and kept; cut inside it: not."""
    data = _edit(sample(MANAGED), b"SE*26*112233~", b"PLB*5544667733*20021231*L6*5.00~\nSE*27*112233~")
    after = parse(data[: data.index(b"SE*27")])
    [p] = _of(after, "x12.missing_se")
    assert "no claim was affected" in p.message and not p.quarantined
    assert after.table("remit_claims").height == 2
    inside = parse(data[: data.index(b"CAS*CO*45*50.00")])
    assert inside.table("remit_claims")["claim_id"].to_list() == ["5554555444"]


def test_an_empty_claim_id_is_warned() -> None:
    r = parse(_edit(sample(MANAGED), b"CLP*8765432112*", b"CLP**"))
    [p] = _of(r, "x12.missing_element")
    assert (p.element, p.segment_number) == ("CLP01", 20)
    assert r.table("remit_claims").sort("claim_seq")["claim_id"].to_list() == ["5554555444", None]
