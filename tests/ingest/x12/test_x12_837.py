"""837 reader: golden values checked by hand against the raw files."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from x12_support import HASHER, assert_canonical, parse, sample, segments_of, serialize

from parley.ingest.x12 import sniff_x12

TWO_CLAIMS_I = (
    "LinuxForHealth__x12__src_tests_resources_837_005010X223A3_two-claims-single-provider.837i"
)
DRUG_P = "LinuxForHealth__x12__src_tests_resources_837_005010X222A2_demo.drug.example10.2.837"
DEPENDENT_4010 = (
    "LinuxForHealth__x12__src_tests_resources_837_004010X098A1_patient-is-dependent.837"
)
MANY = "imsweb__x12-parser__src_test_resources_837_5010_x12_many_claims.txt"


def test_institutional_two_claims() -> None:
    r = parse(sample(TWO_CLAIMS_I))
    assert_canonical(r)
    # the guide's example NPIs fail the NPI check digit: warned once each, kept
    assert [(p.code, p.loop, p.segment_number) for p in r.problems] == [
        ("x12.bad_npi", "2010AA", 10),
        ("x12.bad_npi", "2310", 45),
    ]
    assert "'1234567890'" in r.problems[0].message and r.problems[1].claim_id == "756049Q"
    assert r.table("claims")["billing_npi"].to_list() == ["1234567890"] * 2
    claims = r.table("claims").sort("claim_seq")
    assert claims["claim_id"].to_list() == ["756048Q", "756049Q"]
    assert claims["claim_type"].to_list() == ["institutional"] * 2
    assert claims["charge_amount"].to_list() == [Decimal("89.95"), Decimal("50.00")]
    assert claims["type_of_bill"].to_list() == ["131", "131"]
    assert claims["place_of_service"].to_list() == [None, None]
    assert claims["billing_npi"].to_list() == ["1234567890"] * 2
    assert claims["billing_tax_id"].to_list() == ["123456789"] * 2
    assert claims["rendering_npi"].to_list() == ["1122334455", "9999999999"]  # 2310A attending
    assert (
        claims["payer_id"].to_list() == ["99999"] * 2
        and claims["filing_indicator"].to_list() == ["CH"] * 2
    )
    assert claims["patient_birth_year"].to_list() == [1968, 1962]
    assert claims["patient_key"].to_list() == [
        HASHER.hash_one("030005074"),
        HASHER.hash_one("123405074"),
    ]
    assert claims["submission_date"].to_list() == [date(2005, 6, 30)] * 2
    assert claims["service_date_from"].to_list() == [date(2005, 3, 15), date(2005, 4, 1)]
    assert claims["line_count"].to_list() == [2, 1]
    lines = r.table("claim_lines").sort("line_seq")
    assert lines.select(
        "claim_seq", "line_number", "revenue_code", "procedure_code", "charge_amount", "units"
    ).rows() == [
        (0, 1, "0305", "85025", Decimal("13.39"), Decimal("1.000")),
        (0, 2, "0730", "93005", Decimal("76.56"), Decimal("3.000")),
        (1, 1, "0300", "85087", Decimal("50.00"), Decimal("1.000")),
    ]
    diag = r.table("diagnoses")
    assert diag.rows() == [
        (0, 1, "BK", "3669", True, "f" * 16),
        (0, 2, "BF", "4019", False, "f" * 16),
        (0, 3, "BF", "79431", False, "f" * 16),
        (1, 1, "BK", "30000", True, "f" * 16),
    ]


def test_professional_drug_lines() -> None:
    r = parse(sample(DRUG_P))
    assert_canonical(r)
    claim = r.table("claims").row(0, named=True)
    assert claim["claim_type"] == "professional" and claim["place_of_service"] == "12"
    assert claim["charge_amount"] == Decimal("2232.93") and claim["line_count"] == 6
    assert claim["billing_tax_id"] == "10-1234567" and claim["payer_id"] == "PLANID12345"
    assert (claim["service_date_from"], claim["service_date_to"]) == (
        date(2004, 2, 1),
        date(2004, 2, 7),
    )
    lines = r.table("claim_lines").sort("line_seq")
    assert lines["ndc"].to_list()[:3] == [None, "00004196501", "63323024910"]
    assert lines["ndc_quantity"][1] == Decimal("7.000")
    assert lines["charge_amount"].sum() == Decimal("2232.93")
    assert lines["diagnosis_pointers"].to_list() == ["1"] * 6
    assert lines["place_of_service"].to_list() == ["12"] * 6


def test_patient_is_dependent_4010() -> None:
    r = parse(sample(DEPENDENT_4010))
    claim = r.table("claims").row(0, named=True)
    assert claim["patient_key"] == HASHER.hash_one("JS01111223333")
    assert (claim["patient_birth_year"], claim["patient_sex"]) == (1973, "M")
    assert claim["version"] == "004010X098A1"


def test_many_claims_same_with_small_chunks() -> None:
    data = sample(MANY)
    big, small = parse(data), parse(data, chunk_bytes=4096)
    assert small.chunks > 10
    for name, frame in big.tables.items():
        assert small.table(name).equals(frame), name
    claims = big.table("claims")
    assert claims["claim_seq"].to_list() == list(range(claims.height))
    assert claims["billing_npi"].null_count() == 0
    lines = big.table("claim_lines")
    per_claim = lines.group_by("claim_seq").len().sort("claim_seq")
    assert per_claim["len"].to_list() == claims.sort("claim_seq")["line_count"].to_list()


def test_bad_claim_amount_quarantines_claim() -> None:
    data = sample(TWO_CLAIMS_I).replace(b"CLM*756049Q*50.00", b"CLM*756049Q*5O.00")
    r = parse(data)
    assert r.table("claims")["claim_id"].to_list() == ["756048Q"]
    assert set(r.table("claim_lines")["claim_seq"]) == {0}
    assert set(r.table("diagnoses")["claim_seq"]) == {0}
    p = [p for p in r.problems if p.code == "x12.bad_amount"][0]
    assert (p.severity, p.quarantined, p.claim_id, p.element) == ("error", True, "756049Q", "CLM02")


def test_truncated_837_quarantines_last_claim() -> None:
    data = sample(TWO_CLAIMS_I)
    r = parse(data[: data.index(b"SV2*0300")])
    assert r.table("claims")["claim_id"].to_list() == ["756048Q"]
    assert "x12.missing_se" in r.codes()


def test_submission_date_falls_back_to_gs04() -> None:
    data = sample(TWO_CLAIMS_I).replace(
        b"BHT*0019*00*0123*20050630*0932*CH", b"BHT*0019*00*0123**0932*CH"
    )
    r = parse(data)
    assert r.table("claims")["submission_date"].to_list() == [date(2013, 10, 31)] * 2


def test_dtypes() -> None:
    r = parse(sample(TWO_CLAIMS_I))
    assert r.table("claims").schema["charge_amount"] == pl.Decimal(14, 2)
    assert r.table("claim_lines").schema["service_date_from"] == pl.Date
    assert r.table("claims").schema["claim_seq"] == pl.Int64


def test_line_before_any_claim_is_an_orphan() -> None:
    data = sample(TWO_CLAIMS_I)
    at = data.index(b"CLM*756048Q")
    data = data[:at] + b"LX*1~SV2*0305*HC:85025*13.39*UN*1.00~" + data[at:]
    r = parse(data)
    assert "x12.orphan_segment" in r.codes()
    assert r.table("claim_lines")["claim_seq"].min() == 0
    assert r.table("claims").height == 2


def test_referring_provider_and_group() -> None:
    """NM1*DN (2310A) and SBR03 / SBR04, read by hand from the raw file."""
    r = parse(sample("LinuxForHealth__x12__src_tests_resources_837_005010X222A2_demo.example11.837"))
    claim = r.table("claims").row(0, named=True)
    assert claim["referring_npi"] == "9988776655"
    assert claim["rendering_npi"] == "1122334455"
    assert (claim["group_number"], claim["group_name"]) == ("123XYZ", None)
    r = parse(sample(TWO_CLAIMS_I))
    assert r.table("claims")["referring_npi"].null_count() == r.table("claims").height


def test_claim_dates_as_senders_write_them() -> None:
    """DT (date and hour) gives its date, a from-to range under D8 is still a range, TM (an
    hour alone) gives no date and no warning; a DT that is no date is still reported."""
    raw = sample(TWO_CLAIMS_I).decode()
    first, second = (i for i, _ in enumerate(raw) if raw.startswith("DTP*434*RD8*", i))
    end = raw.index("~", first) + 1
    raw = (
        raw[:first]
        + "DTP*434*D8*20050315-20050316~DTP*435*DT*200503140930~DTP*096*TM*1134~"
        + raw[end:second]
        + "DTP*435*DT*999999999999~"
        + raw[second:]
    )
    r = parse(raw.encode())
    claims = r.table("claims").sort("claim_seq")
    assert claims["admission_date"].to_list() == [date(2005, 3, 14), None]
    statement = claims.select("service_date_from", "service_date_to").rows()
    assert statement[0] == (date(2005, 3, 15), date(2005, 3, 16))  # the claim's 434 range
    dated = [(p.code, p.segment_id) for p in r.problems if p.code not in ("x12.se_count", "x12.bad_npi")]
    assert dated == [("x12.bad_date", "DTP")]


@pytest.mark.parametrize(
    ("name", "column"),
    [("LinuxForHealth__x12__demo-file_demo.837i", "type_of_bill"), ("LinuxForHealth__x12__demo-file_demo.837", "place_of_service")],
)
def test_no_envelope_component_separator_not_taken_from_the_claim_id(name: str, column: str) -> None:
    """A file that starts at GS has no ISA16 to name the component separator; it is read from
    a real composite (SV101, SV202, HI, CLM05), never from the free-text claim id: a "-" in
    CLM01 once split every composite on "-" and lost the diagnoses and the type of bill."""
    segments = segments_of(sample(name))
    reference = parse(sample(name))
    headless = [s for s in segments if s[0] not in ("ISA", "IEA")]
    for seg in headless:
        if seg[0] == "CLM":
            seg[1] = seg[1][:3] + "-" + seg[1][3:]
    result = parse(serialize(headless, "*", ":", "~\n"), kind=sniff_x12(sample(name)[:4096]))
    assert result.table("diagnoses").height == reference.table("diagnoses").height > 0
    assert result.table("claims")[column].to_list() == reference.table("claims")[column].to_list()
    assert result.table("claim_lines")["procedure_code"].to_list() == reference.table("claim_lines")["procedure_code"].to_list()
    assert result.table("claims")["claim_id"].str.contains("-").all()


EXAMPLE1 = "LinuxForHealth__x12__src_tests_resources_837_005010X222A2_demo.example1.837"


def test_service_lines_without_lx_are_read_with_a_warning() -> None:
    """SV1 segments with no LX before them (the LX that opens loop 2400 left out): each is a
    line of its own, with its own dates, as if numbered (before: all four dropped silently)."""
    import re

    reference = parse(sample(EXAMPLE1))
    data = re.sub(rb"LX\*\d+~", b"", sample(EXAMPLE1)).replace(b"SE*40*", b"SE*36*")
    r = parse(data, chunk_bytes=200)
    cols = ["claim_seq", "line_number", "procedure_code", "charge_amount", "service_date_from"]
    assert r.table("claim_lines").select(cols).equals(reference.table("claim_lines").select(cols))
    assert r.table("claim_lines").height == 4
    (p,) = [p for p in r.problems if p.code == "x12.missing_lx"]  # one per claim
    assert p.claim_id == "26463774" and p.severity == "warning"
    assert r.codes() == ["x12.missing_lx"]
    # two SV1 under one LX: two lines (before: the second was dropped)
    twice = sample(EXAMPLE1).replace(b"LX*2~", b"").replace(b"SE*40*", b"SE*39*")
    lines = parse(twice).table("claim_lines")
    assert lines["procedure_code"].to_list() == ["99213", "87070", "99214", "86663"]
    assert "x12.missing_lx" in parse(twice).codes()


def test_claim_charge_not_the_sum_of_its_lines_is_warned() -> None:
    reference = parse(sample(EXAMPLE1))
    assert "x12.unbalanced_claim" not in reference.codes()
    r = parse(sample(EXAMPLE1).replace(b"CLM*26463774*100.00", b"CLM*26463774*110.00"))
    (p,) = [p for p in r.problems if p.code == "x12.unbalanced_claim"]
    assert p.element == "CLM02" and p.claim_id == "26463774"
    assert r.table("claims")["charge_amount"].to_list() == [Decimal("110.00")]  # kept as sent


def test_transaction_with_no_claim_is_warned() -> None:
    data = sample(EXAMPLE1)
    empty = data[: data.index(b"HL*1**20")] + b"SE*6*0021~GE*1*1~IEA*1*000000907~"
    r = parse(empty, kind="x12-837")
    assert r.table("claims").height == 0
    (p,) = [p for p in r.problems if p.code == "x12.empty_transaction"]
    assert p.transaction_control == "0021" and p.segment_number == 3
    assert "x12.empty_transaction" not in parse(data).codes()


def test_real_sample_written_with_another_component_separator() -> None:
    """LinuxForHealth example11 declares ISA16 ':' but writes '11>B>1', 'HI*BK>496' and
    'SV1*HC>E0570>RR': read with '>' (before: no diagnoses, place of service or codes)."""
    data = sample("LinuxForHealth__x12__src_tests_resources_837_005010X222A2_demo.example11.837")
    assert data[104:105] == b":"
    r = parse(data)
    assert r.table("claims")["place_of_service"].to_list() == ["11"]
    assert r.table("diagnoses").select("qualifier", "code").rows() == [("BK", "496"), ("BF", "25000")]
    lines = r.table("claim_lines")
    assert lines.select("procedure_code", "modifier_1", "diagnosis_pointers").rows() == [
        ("E0570", "RR", "1,2"),
        ("A7003", "NU", "1"),
    ]
    assert r.codes().count("x12.component_separator") == 1


def test_provider_ids_that_are_not_npis_are_not_kept_as_npis() -> None:
    """4010 rendering providers identified by an SSN (NM108 34) or an EIN (24): no
    rendering_npi, and the SSN appears in no table (before: stored as the NPI)."""
    data = sample("LinuxForHealth__x12__src_tests_resources_837_004010X098A1_patient-is-subscriber.837")
    assert b"NM1*82*1*KILDARE*BEN****34*112233334" in data
    r = parse(data)
    for name, frame in r.tables.items():
        for column in frame.columns:
            if frame[column].dtype == pl.Utf8:
                assert "112233334" not in frame[column].drop_nulls().to_list(), (name, column)
                assert "999996666" not in frame[column].drop_nulls().to_list() or column == "billing_tax_id"
    assert r.table("claims")["rendering_npi"].to_list() == [None]
    # an NPI (XX) is kept
    xx = parse(data.replace(b"****34*112233334", b"****XX*1234567893"))
    assert xx.table("claims")["rendering_npi"].to_list() == ["1234567893"]


def test_st03_and_sv2_lines_make_an_institutional_claim_whatever_gs08_says() -> None:
    """A real sample (Inteligenz X12Parser) has GS08 005010X222 over ST03 005010X223 and SV2
    lines: institutional, type of bill 131, version from ST03 (before: professional, POS 13)."""
    data = sample(TWO_CLAIMS_I).replace(b"*X*005010X223A3~", b"*X*005010X222~")
    assert b"GS*HC*000000005*54321*20131031*1147*1*X*005010X222~" in data
    assert sniff_x12(data[:4096]) == "x12-837i"
    claims = parse(data).table("claims")
    assert claims["claim_type"].to_list() == ["institutional"] * 2
    assert claims["version"].to_list() == ["005010X223A3"] * 2
    assert claims["type_of_bill"].to_list() == ["131", "131"]
    assert claims["place_of_service"].to_list() == [None, None]
    # no ST03 (4010): GS08 is the guide; the SV2 lines still make the claim institutional
    no_st03 = data.replace(b"ST*837*987654*005010X223A3~", b"ST*837*987654~")
    claims = parse(no_st03).table("claims")
    assert claims["version"].to_list() == ["005010X222"] * 2
    assert claims["claim_type"].to_list() == ["institutional"] * 2


def test_bht04_that_is_not_a_date_is_warned_and_gs04_used() -> None:
    """A real 4010 sample has BHT04 '970327' (6 digits): the submission date falls back to
    GS04, now with a warning (before: silently, ten years after the service)."""
    data = sample(EXAMPLE1).replace(b"BHT*0019*00*244579*20061015*", b"BHT*0019*00*244579*061015*")
    r = parse(data)
    assert r.table("claims")["submission_date"].to_list() == [date(2013, 10, 31)]  # GS04
    (p,) = [p for p in r.problems if p.code == "x12.bad_date"]
    assert p.element == "BHT04" and "GS04" in p.message and p.transaction_control == "0021"
    assert parse(sample(EXAMPLE1)).table("claims")["submission_date"].to_list() == [date(2006, 10, 15)]


def test_facility_composite_shifted_into_clm04_is_read_with_a_warning() -> None:
    """A real sample (EdiFabric) writes 'CLM*756048Q*89.93**14:A:1*A*Y*Y': one '*' short, so
    CLM05 sits in CLM04 (before: no type of bill or frequency, and no warning)."""
    data = sample(TWO_CLAIMS_I).replace(b"CLM*756048Q*89.95***13:A:1*Y", b"CLM*756048Q*89.95**13:A:1*Y")
    r = parse(data)
    claims = r.table("claims").sort("claim_seq")
    assert claims["type_of_bill"].to_list() == ["131", "131"]
    assert claims["frequency_code"].to_list() == ["1", "1"]
    (p,) = [p for p in r.problems if p.code == "x12.shifted_element"]
    assert p.claim_id == "756048Q" and p.element == "CLM05"
    empty = parse(sample(EXAMPLE1).replace(b"CLM*26463774*100.00***11:B:1*Y", b"CLM*26463774*100.00****Y"))
    assert empty.table("claims")["place_of_service"].to_list() == [None]
    assert [p.claim_id for p in empty.problems if p.code == "x12.missing_element"] == ["26463774"]
    assert "x12.shifted_element" not in parse(sample(TWO_CLAIMS_I)).codes()


def test_claims_without_hl_hierarchy_are_warned() -> None:
    """A real sample (Query-farm vgi-x12 claim_837.837) has no HL segments: the claims load,
    but provider, payer and patient are unknown: say so (before: silently empty)."""
    import re

    data = re.sub(rb"HL\*[^~]*~", b"", sample(EXAMPLE1)).replace(b"SE*40*", b"SE*37*")
    r = parse(data)
    assert r.table("claims").height == 1
    (p,) = [p for p in r.problems if p.code == "x12.missing_hl"]
    assert p.transaction_control == "0021"
    assert "x12.missing_hl" not in parse(sample(EXAMPLE1)).codes()


def test_predeterminations_are_not_billed_claims() -> None:
    """An 837 predetermination of benefits (005010X291/X292) or payer report (X298) is not a
    billed claim: refused at detection, and skipped by the reader (before: loaded as claims,
    double-counting the charges of the real claim with the same id)."""
    from parley.ingest.x12 import why_not_x12

    data = sample(EXAMPLE1).replace(b"005010X222A2", b"005010X291")
    assert sniff_x12(data[:4096]) is None
    assert "predetermination" in (why_not_x12(data[:4096]) or "")
    r = parse(data, kind="x12-837")
    assert r.table("claims").height == 0
    (p,) = [p for p in r.problems if p.code == "x12.not_a_claim"]
    assert p.severity == "error" and p.transaction_control == "0021"
    assert "x12.empty_transaction" not in r.codes()


def test_facility_composite_in_clm03_is_read_with_a_warning() -> None:
    """A real sample (Virbhadra463) writes 'CLM*CLM001*1200.00*21:B:1*Y*A*Y*MB' (before: no place
    of service, or 'A' read as one)."""
    data = sample(EXAMPLE1).replace(b"CLM*26463774*100.00***11:B:1*Y*A*Y*I", b"CLM*26463774*100.00*11:B:1*Y*A*Y*I")
    r = parse(data)
    assert r.table("claims").select("place_of_service", "frequency_code").rows() == [("11", "1")]
    assert [p.claim_id for p in r.problems if p.code == "x12.shifted_element"] == ["26463774"]


def test_empty_claim_charge_is_warned() -> None:
    r = parse(sample(EXAMPLE1).replace(b"CLM*26463774*100.00*", b"CLM*26463774**"))
    assert [(p.element, p.claim_id) for p in r.problems if p.code == "x12.missing_amount"] == [("CLM02", "26463774")]
    assert r.table("claims")["charge_amount"].to_list() == [None]


def test_no_envelope_separator_from_a_later_composite_when_the_first_has_none() -> None:
    """No ISA, and the first SV101 has no qualifier ('99213'): the separator still comes from
    the next composite that has one (HI 'BK>0340'), so diagnoses and the others are kept."""
    segments = [s for s in segments_of(sample(EXAMPLE1)) if s[0] not in ("ISA", "IEA")]
    first_sv1 = next(s for s in segments if s[0] == "SV1")
    first_sv1[1] = "99213"
    result = parse(serialize(segments, "*", ">", "~\n"), kind="x12-837")
    assert result.table("diagnoses").select("qualifier", "code").rows() == [("BK", "0340"), ("BF", "V7389")]
    assert result.table("claims")["place_of_service"].to_list() == ["11"]
    assert result.table("claim_lines")["procedure_code"].to_list()[1:] == ["87070", "99214", "86663"]


def test_provider_npis_are_checked_once_per_file() -> None:
    """x12.bad_npi: an NPI whose check digit fails is warned once per file, at its first NM1,
    and kept; a valid one, or an NM109 that is no NPI (NM108 24 / 34), is not warned."""
    r = parse(sample(MANY))
    claims = r.table("claims")
    assert claims.height > 100 and claims["billing_npi"].unique().to_list() == ["1234567890"]
    bad = [p for p in r.problems if p.code == "x12.bad_npi"]
    assert len(bad) == 1 and bad[0].segment_id == "NM1" and bad[0].element == "NM109"
    fixed = parse(sample(MANY).replace(b"XX*1234567890", b"XX*1234567893"))
    assert "x12.bad_npi" not in fixed.codes()
    ein = parse(sample(MANY).replace(b"XX*1234567890", b"24*1234567890"))
    assert "x12.bad_npi" not in ein.codes()


def test_encounters_are_flagged_from_bht06() -> None:
    """BHT06 RP (reporting): encounters of capitated care, no payment expected; CH
    (chargeable), 31 (subrogation) or no BHT06 are billed claims."""
    data = sample(TWO_CLAIMS_I)
    assert b"*CH~" in data
    assert parse(data).table("claims")["is_encounter"].to_list() == [False, False]
    encounters = parse(data.replace(b"*CH~", b"*RP~", 1))
    assert encounters.table("claims")["is_encounter"].to_list() == [True, True]
    assert "x12.bad_date" not in encounters.codes()
    two = data + b"\n" + data.replace(b"*CH~", b"*RP~", 1)  # one interchange of each
    assert parse(two).table("claims")["is_encounter"].to_list() == [False, False, True, True]


def test_other_payer_loops_are_not_the_claims_own() -> None:
    """REF*F8 / REF*G1 after the 2320 SBR belong to the other payer (2330B): the claim's
    original claim number and prior authorisation come from 2300 only."""
    data = sample(TWO_CLAIMS_I)
    cob = (
        b"NM1*71*1*JONES*JOHN*J***XX*1122334455~\nREF*1G*U12345~\n"
        b"SBR*S*18*******CI~\nNM1*IL*1*DOE*JON****MI*X1~\nNM1*PR*2*OTHER PLAN*****PI*777~\n"
        b"REF*F8*OTHERCLAIM~\nREF*G1*OTHERAUTH~\n"
    )
    assert data.count(b"NM1*71*1*JONES*JOHN*J***XX*1122334455~\nREF*1G*U12345~\n") == 1
    edited = data.replace(b"NM1*71*1*JONES*JOHN*J***XX*1122334455~\nREF*1G*U12345~\n", cob)
    claims = parse(edited).table("claims").sort("claim_seq")
    assert claims.select("original_claim_number", "prior_authorization").rows()[0] == (None, None)
    assert claims["rendering_npi"][0] == "1122334455"  # the 2310A attending, before the SBR
    own = edited.replace(b"CL1*1**01~", b"CL1*1**01~\nREF*F8*OWNCLAIM~", 1)
    assert parse(own).table("claims").sort("claim_seq")["original_claim_number"][0] == "OWNCLAIM"


def test_shifted_service_line_and_claim_composites_are_read() -> None:
    """SV2 with no revenue code (the procedure composite in SV201) and a CLM05 composite one
    element late (CLM06) are read where they are, with x12.shifted_element."""
    data = sample(TWO_CLAIMS_I).replace(b"SV2*0305*HC:85025*13.39*UN*1.00", b"SV2*HC:85025*13.39*UN*1.00", 1)
    data = data.replace(b"CLM*756048Q*89.95***13:A:1*Y*C*Y*Y", b"CLM*756048Q*89.95****13:A:1*C*Y*Y", 1)
    r = parse(data)
    line = r.table("claim_lines").sort("line_seq").row(0, named=True)
    assert (line["revenue_code"], line["procedure_code"], line["charge_amount"], line["units"]) == (
        None, "85025", Decimal("13.39"), Decimal("1.000"))
    claim = r.table("claims").sort("claim_seq").row(0, named=True)
    assert (claim["type_of_bill"], claim["frequency_code"]) == ("131", "1")
    shifted = sorted(p.element for p in r.problems if p.code == "x12.shifted_element")
    assert shifted == ["CLM05", "SV201"]
    assert "x12.bad_amount" not in r.codes() and r.table("claims").height == 2


def test_claims_lacking_what_makes_them_usable_are_warned() -> None:
    """An empty CLM01, a claim with no line, a unit basis that is a number: kept and warned;
    a quarantined claim is not also called unbalanced."""
    data = sample(TWO_CLAIMS_I).replace(b"CLM*756048Q*", b"CLM**", 1)
    data = data.replace(b"SV2*0305*HC:85025*13.39*UN*1.00", b"SV2*0305*HC:85025*13.39*13.39*1.00", 1)
    r = parse(data)
    got = sorted((p.code, p.element) for p in r.problems if p.code in ("x12.missing_element", "x12.misplaced_element"))
    assert got == [("x12.misplaced_element", "SV103/SV204"), ("x12.missing_element", "CLM01")]
    no_lines = sample(TWO_CLAIMS_I)
    at = no_lines.index(b"LX*1", no_lines.index(b"CLM*756049Q"))
    end = no_lines.index(b"SE*")
    r = parse(no_lines[:at] + no_lines[end:])
    [p] = [p for p in r.problems if p.code == "x12.missing_element"]
    assert (p.element, p.claim_id) == ("LX", "756049Q")
    bad = parse(sample(TWO_CLAIMS_I).replace(b"*13.39*UN*1.00", b"*13.3X*UN*1.00", 1))
    assert "x12.bad_amount" in bad.codes() and "x12.unbalanced_claim" not in bad.codes()


def test_text_is_trimmed_ndc_normalised_and_a_patient_without_dob_keyed() -> None:
    data = sample(TWO_CLAIMS_I).replace(b"NM1*PR*2*TRICARE*", b"NM1*PR*2* TRICARE *", 1)
    data = data.replace(b"DTP*472*D8*20050315", b"DTP*472*D8*20050315~\nLIN**N4*0093-0051-05", 1)
    no_id = data.replace(b"NM1*IL*1*DOE*JON*T***MI*030005074", b"NM1*IL*1*DOE*JON*T", 1)
    r = parse(no_id.replace(b"DMG*D8*19681111*M~", b"", 1))  # a name, no member id, no DMG
    claims = r.table("claims").sort("claim_seq")
    assert claims["payer_name"].to_list()[0] == "TRICARE"
    assert r.table("claim_lines").sort("line_seq")["ndc"].to_list()[0] == "00093005105"
    assert claims["patient_key"].null_count() == 0


def test_a_claim_without_its_own_subscriber_loop_is_warned() -> None:
    """A claim right under a new billing provider (HL 20) with no HL 22 between: its payer and
    patient are unknown (or the earlier subscriber's), so x12.missing_hl names it."""
    data = sample(TWO_CLAIMS_I)
    at = data.index(b"CLM*756049Q")
    r = parse(data[:at] + b"HL*3**20*1~\nNM1*85*2*OTHER HOSPITAL*****XX*1234567893~\n" + data[at:])
    [p] = [p for p in r.problems if p.code == "x12.missing_hl"]
    assert p.claim_id == "756049Q" and p.element == "HL"
    assert "x12.missing_hl" not in parse(data).codes()


def test_a_claim_outside_any_transaction_is_not_read() -> None:
    """A CLM after the SE (a lost ST?) belongs to no transaction: an error, and no claim."""
    data = sample("LinuxForHealth__x12__src_tests_resources_837_005010X222A2_demo.example1.837")
    stray = data.replace(b"GE*", b"CLM*STRAY*100***11:B:1*Y*A*Y*Y~\nLX*1~\nSV1*HC:99213*100*UN*1***1~\nGE*", 1)
    r = parse(stray)
    [p] = [p for p in r.problems if p.code == "x12.orphan_segment"]
    assert (p.severity, p.segment_id) == ("error", "CLM") and "3 segments (CLM ... SV1)" in p.message
    assert r.table("claims")["claim_id"].to_list() == ["26463774"]
    assert r.table("claim_lines").height == parse(data).table("claim_lines").height


def test_a_line_before_the_first_claim_of_a_transaction_is_an_orphan() -> None:
    """An SV1 between an ST and its first CLM is no line of the previous transaction's claim."""
    data = sample("LinuxForHealth__x12__src_tests_resources_837_005010X222A2_demo.example1.837")
    second = data[data.index(b"ST*837") : data.index(b"GE*")]
    second = second.replace(b"HL*1**20*1~", b"LX*1~\nSV1*HC:99499*150*UN*1***1~\nHL*1**20*1~", 1)
    assert b"SV1*HC:99499*150" in second
    r = parse(data.replace(b"GE*1*", second + b"GE*2*", 1))
    assert [p.code for p in r.problems if p.code == "x12.orphan_segment"] == ["x12.orphan_segment"]
    assert "99499" not in r.table("claim_lines")["procedure_code"].to_list()
    assert r.table("claim_lines").height == 2 * parse(data).table("claim_lines").height
    assert "x12.unbalanced_claim" not in r.codes()


EXAMPLE1 = "LinuxForHealth__x12__src_tests_resources_837_005010X222A2_demo.example1.837"
INSTITUTIONAL = "LinuxForHealth__x12__src_tests_resources_837_005010X223A3_institutional-claim.837i"


def _edit(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data
    return data.replace(old, new, 1)


def test_an_nm1_without_entity_type_is_read_one_place_right() -> None:
    """NM1*PR*KEY INSURANCE*****PI*999996666 (NM102 left out): the payer is kept."""
    data = _edit(sample(EXAMPLE1), b"NM1*PR*2*KEY INSURANCE COMPANY*****PI*999996666",
                 b"NM1*PR*KEY INSURANCE COMPANY*****PI*999996666")
    r = parse(data)
    claim = r.table("claims").row(0, named=True)
    assert (claim["payer_name"], claim["payer_id"]) == ("KEY INSURANCE COMPANY", "999996666")
    [p] = [p for p in r.problems if p.code == "x12.shifted_element"]
    assert (p.segment_id, p.element, p.segment_number) == ("NM1", "NM102", 20)


def test_a_backwards_date_range_is_read_in_order_and_warned() -> None:
    data = _edit(sample(EXAMPLE1), b"DTP*472*D8*20061003~\nLX*2", b"DTP*472*RD8*20061005-20061003~\nLX*2")
    r = parse(data)
    line = r.table("claim_lines").sort("line_seq").row(0, named=True)
    assert (line["service_date_from"], line["service_date_to"]) == (date(2006, 10, 3), date(2006, 10, 5))
    [p] = [p for p in r.problems if p.code == "x12.bad_date"]
    assert "ends before it starts" in p.message and p.claim_id == "26463774"


def test_a_professional_claims_attending_is_not_its_rendering_provider() -> None:
    data = _edit(sample(EXAMPLE1), b"HI*BK:0340*BF:V7389~", b"HI*BK:0340*BF:V7389~\nNM1*71*1*JONES*JOHN****XX*1234567893~")
    claim = parse(data).table("claims").row(0, named=True)
    assert claim["claim_type"] == "professional" and claim["rendering_npi"] is None
    inst = _edit(sample(INSTITUTIONAL), b"NM1*71*1*JONES*JOHN*J~", b"NM1*71*1*JONES*JOHN*J***XX*1234567893~")
    claim = parse(inst).table("claims").row(0, named=True)
    assert (claim["claim_type"], claim["rendering_npi"]) == ("institutional", "1234567893")


def test_a_drg_in_a_later_composite_of_a_diagnosis_hi_is_read() -> None:
    data = _edit(sample(INSTITUTIONAL), b"HI*BG:09", b"HI*BG:09*DR:470")
    assert parse(data).table("claims")["drg_code"].to_list() == ["470"]


def test_a_cut_in_the_next_subscribers_loop_quarantines_no_claim() -> None:
    data = sample("LinuxForHealth__x12__src_tests_resources_837_005010X223A3_institutional-claim.837i")
    whole = parse(data).table("claims").height
    cut = data[: data.index(b"SE*")] + b"HL*9*1*22*0~\nSBR*P*18*******CH~\nNM1*IL*1*SMITH*JOE"
    r = parse(cut)
    [p] = [p for p in r.problems if p.code == "x12.missing_se"]
    assert "no claim was affected" in p.message
    assert r.table("claims").height == whole


def test_a_file_cut_in_a_segment_says_so() -> None:
    data = sample(EXAMPLE1)
    cut = data[: data.index(b"NM1*QC*1*SMITH*TED") + len(b"NM1*QC*1*SMI")]
    [p] = [p for p in parse(cut).problems if p.code == "x12.truncated"]
    assert (p.segment_id, p.loop) == ("NM1", "transaction") and "(NM1)" in p.message
    assert "x12.truncated" not in parse(data[: data.index(b"IEA*") + len(b"IEA*1*000000907")]).codes()
