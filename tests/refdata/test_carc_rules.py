"""CARC root-cause categories: the rules and the packaged CSV."""

from __future__ import annotations

import polars as pl
import pytest

import parley.refdata as refdata
from parley.refdata.carc_rules import CATEGORIES, CATEGORY_LABELS, OVERRIDES, classify

EXPECTED = {
    "1": "patient_responsibility", "2": "patient_responsibility", "3": "patient_responsibility",
    "45": "contractual", "59": "contractual", "253": "contractual", "131": "contractual",
    "16": "missing_information", "252": "missing_information", "226": "missing_information",
    "18": "duplicate", "B13": "duplicate",
    "22": "coordination_of_benefits", "23": "coordination_of_benefits",
    "27": "eligibility", "31": "eligibility", "32": "eligibility", "33": "eligibility",
    "177": "eligibility",
    "29": "timely_filing",
    "50": "medical_necessity", "55": "medical_necessity", "56": "medical_necessity",
    "150": "medical_necessity", "151": "medical_necessity",
    "96": "non_covered", "204": "non_covered", "B1": "non_covered",
    "97": "coding_bundling", "B15": "coding_bundling", "234": "coding_bundling",
    "236": "coding_bundling", "4": "coding_bundling", "11": "coding_bundling",
    "15": "authorization", "197": "authorization", "198": "authorization", "62": "authorization",
    "94": "other", "A1": "other",
}  # fmt: skip


@pytest.mark.parametrize(("code", "category"), sorted(EXPECTED.items()))
def test_domain_categories(code: str, category: str) -> None:
    assert classify(code)[0] == category
    assert refdata.carc_category(code) == category


def test_every_packaged_carc_has_one_valid_category() -> None:
    c = refdata.carc()
    assert c["code"].n_unique() == c.height
    assert set(c["category"]) <= set(CATEGORIES)
    assert set(c["category"]) == set(CATEGORIES)  # every category is used
    assert set(OVERRIDES.values()) <= set(CATEGORIES)
    assert c.filter(pl.col("rule") != "override").height <= 5
    for cat, label in CATEGORY_LABELS.items():
        assert cat in CATEGORIES and len(label) < 50


def test_recoverable_rule() -> None:
    rec = {r["code"]: r["recoverable"] for r in refdata.carc().iter_rows(named=True)}
    assert rec["16"] and rec["197"] and rec["97"] and rec["27"] and rec["22"] and rec["50"]
    assert not rec["45"] and not rec["1"] and not rec["18"] and not rec["29"]
    assert not rec["96"] and not rec["55"]  # experimental: final despite medical necessity
    assert rec["147"]  # contract rate not on file: fixable


def test_keyword_rules_for_unknown_codes() -> None:
    assert classify("999", "Exact duplicate claim")[0] == "duplicate"
    assert classify("998", "Prior authorization absent")[:1] == ("authorization",)
    assert classify("997", "Something entirely new")[0] == "other"
    cat, rec, rule = classify("996", "Claim lacks the referring provider's NPI")
    assert (cat, rule) == ("missing_information", "keyword:lacks")
    assert rec


def test_code_normalisation() -> None:
    assert classify("045")[0] == "contractual"
    assert classify(" b13 ")[0] == "duplicate"
