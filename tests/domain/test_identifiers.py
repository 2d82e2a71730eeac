"""NPI check digit (CMS: Luhn over 80840 and the first nine digits)."""

from __future__ import annotations

import pytest

from parley.domain.identifiers import npi_check_digit, npi_is_valid


def test_cms_published_example() -> None:
    assert npi_check_digit("123456789") == "3"
    assert npi_is_valid("1234567893")


@pytest.mark.parametrize(
    "npi",
    [
        "1234567890",  # wrong check digit
        "1234567839",  # two digits swapped: Luhn catches adjacent transpositions
        "123456789",  # nine digits
        "12345678930",  # eleven
        "123456789A",
        "１２３４５６７８９３",  # full-width digits are digits to str.isdigit, not to an NPI
        "",
    ],
)
def test_not_npis(npi: str) -> None:
    assert not npi_is_valid(npi)


def test_every_check_digit_is_reached() -> None:
    digits = {npi_check_digit(f"{stem:09d}") for stem in range(100_000_000, 100_000_040)}
    assert digits == set("0123456789")
