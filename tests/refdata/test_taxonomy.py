"""The packaged taxonomy -> specialty family -> code range rule (docs/market.md, Plausibility)."""

from __future__ import annotations

import pytest

from parley.refdata.taxonomy import bills, code_range, code_ranges, family_of, taxonomy_families


def test_tables_are_complete_and_consistent() -> None:
    families = {f for _, f, _ in taxonomy_families()}
    assert len(taxonomy_families()) >= 60 and len(code_ranges()) >= 40
    for r in code_ranges():
        assert r.first <= r.last and len(r.first) == len(r.last), r
        assert r.billed_by <= families, (r.code_family, r.billed_by - families)
    for prefix, _, _ in taxonomy_families():
        assert prefix.isalnum() and prefix == prefix.upper()


@pytest.mark.parametrize(
    ("code", "taxonomy", "expected"),
    [
        ("99214", "207Q00000X", True),  # family medicine: office visit
        ("99214", "2085R0202X", False),  # diagnostic radiologist: no office visits
        ("99214", "2085R0204X", True),  # interventional radiologist: clinic visits
        ("99213", "225100000X", False),  # physical therapist: no E/M
        ("97110", "225100000X", True),  # ...but therapeutic exercise
        ("70551", "103T00000X", False),  # psychologist: no MRI
        ("73560", "207X00000X", True),  # orthopaedist: office X-ray
        ("88305", "207ZP0102X", True),  # pathologist: surgical pathology
        ("00790", "207L00000X", True),  # anesthesiologist: anesthesia
        ("00790", "207Q00000X", False),
        ("90837", "1041C0700X", True),  # clinical social worker: psychotherapy
        ("90837", "207X00000X", False),
        ("99213", "282N00000X", True),  # hospital: anything
        ("99213", "207Q00000X;2085R0202X", True),  # any taxonomy that bills it
        ("99213", "9999X0000X", True),  # unknown taxonomy: not judged
        ("12345X", "2085R0202X", True),  # code outside every range: not judged
        ("E0601", "332B00000X", True),
    ],
)
def test_bills(code: str, taxonomy: str, expected: bool) -> None:
    assert bills(code, taxonomy) is expected


def test_longest_prefix_wins() -> None:
    assert (
        family_of("207RC0000X") == "cardiology" and family_of("207R00000X") == "internal_medicine"
    )
    assert family_of("2084P0800X") == "psychiatry" and family_of("2084N0400X") == "neurology"
    assert code_range("99213").code_family == "evaluation_management"


def test_venipuncture_is_open_to_labs_and_primary_care() -> None:
    """36415 sits inside the cardiovascular surgery section but nearly every clinician and lab bills it."""
    from parley.refdata.taxonomy import bills

    assert bills("36415", "291U00000X")  # clinical medical laboratory
    assert bills("36415", "207Q00000X")  # family medicine
    assert not bills("36556", "225100000X")  # a central line by a physical therapist stays flagged
