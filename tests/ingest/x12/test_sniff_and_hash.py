"""sniff_x12 and the fast patient hash."""

from __future__ import annotations

import polars as pl
import pytest
from x12_support import sample

from parley.ingest.base import PatientHasher
from parley.ingest.x12 import sniff_x12
from parley.ingest.x12._frames import hash_ids

CASES = [
    ("LinuxForHealth__x12__src_tests_resources_835_005010X221A1_managed-care.835", "x12-835"),
    ("slott56__TigerShark__tests_835-example.txt", "x12-835"),
    ("LinuxForHealth__x12__src_tests_resources_837_005010X222A2_demo.example1.837", "x12-837p"),
    (
        "LinuxForHealth__x12__src_tests_resources_837_005010X223A3_institutional-claim.837i",
        "x12-837i",
    ),
    ("LinuxForHealth__x12__src_tests_resources_837_004010X096A1_institutional.837", "x12-837i"),
    (
        "LinuxForHealth__x12__src_tests_resources_837_004010X098A1_patient-is-subscriber.837",
        "x12-837p",
    ),
    ("imsweb__x12-parser__src_test_resources_837_5010_x12_no_isa_line.txt", "x12-837p"),
    ("imsweb__x12-parser__src_test_resources_837_5010_x12_bad_first_line.txt", "x12-837p"),
    (
        "imsweb__x12-parser__src_test_resources_837_5010_x12_valid_different_separators.txt",
        "x12-837p",
    ),
]


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_sniff(name: str, kind: str) -> None:
    assert sniff_x12(sample(name)[:4096]) == kind


def test_sniff_headless_st() -> None:
    assert sniff_x12(b"ST*835*0001~BPR*I*1*C*CHK~") == "x12-835"
    assert sniff_x12(b"\xef\xbb\xbf\r\nST|837|1|005010X223A2\nBHT|0019\n") == "x12-837i"


@pytest.mark.parametrize(
    "head", [b"", b"hello", b"ISA", b"%PDF-1.7", b"GS", b"\x00" * 100, b"ISA*" * 50]
)
def test_sniff_rejects(head: bytes) -> None:
    assert sniff_x12(head) is None


@pytest.mark.parametrize("secret", [b"0123456789abcdef", b"k" * 64, b"k" * 100])
def test_fast_hash_equals_hasher(secret: bytes) -> None:
    hasher = PatientHasher(secret)
    ids = pl.Series("id", [" a1 ", "B2", None, "", "a1", "ÉLAN"])
    assert hash_ids(hasher, ids).to_list() == hasher.hash_series(ids).to_list()


@pytest.mark.parametrize("secret", [b"0123456789abcdef", b"k" * 64, b"k" * 100])
def test_compiled_hash_lengths(secret: bytes) -> None:
    """The compiled HMAC across SHA-256 block edges (55/56/64/119/120 bytes) and mixed ids."""
    hasher = PatientHasher(secret)
    values = [c * n for n in (1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 200) for c in "aZ9"]
    ids = pl.Series("id", [*values, None, " x ", "MiXeD-09"])
    assert hash_ids(hasher, ids).to_list() == hasher.hash_series(ids).to_list()


_ISA = (
    b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240810*1200*^*00501*"
    b"000000001*0*P*:~"
)


@pytest.mark.parametrize(
    ("head", "says"),
    [
        (_ISA + b"GS*HS*A*B*20240810*1200*1*X*005010X279A1~ST*270*0001*005010X279A1~", "transaction set 270 (005010X279A1)"),
        (_ISA.replace(b"*", b"|") + b"GS*HP*A*B*20240810*1200*1*X*005010X221A1~ST*835*0001~", "no GS or ST segment follows"),
        (b"ISA*00*short~GS*HP*A*B~", "interchange header cannot be read"),
        (_ISA + b"TA1*000000001*240810*1200*A*000~IEA*0*000000001~", "only TA1 segments"),
        (  # an 837 of dental claims, whatever its GS08 says
            b"\xef\xbb\xbf" + _ISA + b"GS*HC*A*B*20070816*1615*31*X*004010X096A1~ST*837*1~"
            b"CLM*26403774*150***11::1*Y**Y*Y~LX*1~SV3*AD:D0120*40~",
            "837 dental claim file",
        ),
        (_ISA + b"GS*HC*A*B*20240101*1200*1*X*005010X224A2~ST*837*1*005010X224A2~", "837 dental"),
    ],
)
def test_why_x12_looking_bytes_are_not_read(head: bytes, says: str) -> None:
    from parley.ingest.x12 import sniff_x12, why_not_x12

    assert sniff_x12(head) is None
    assert says in (why_not_x12(head) or "")


def test_why_not_x12_is_silent_for_other_bytes_and_readable_x12() -> None:
    from parley.ingest.x12 import why_not_x12

    assert why_not_x12(b"claim_id,charge\n1,2\n") is None
    assert why_not_x12(b"STATUS,claim_id\nok,1\n") is None  # a CSV header, not an ST segment
    assert why_not_x12(b"GSX|claim\n") is None
    assert why_not_x12(b"\x00\x01 this is not X12 at all") is None
    assert why_not_x12(_ISA + b"GS*HP*A*B*20240810*1200*1*X*005010X221A1~ST*835*0001~") is None
