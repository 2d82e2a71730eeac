"""Provider identifiers (pure: no I/O).

The NPI (National Provider Identifier, 45 CFR 162.406) is ten digits, the last a
check digit: the Luhn formula (ISO/IEC 7812) over the card-issuer prefix 80840
followed by the first nine digits.  CMS publishes 1234567893 as its example.
A number that fails the check was mistyped or invented; it cannot be matched to
NPPES, so rate and volume joins by NPI miss it.
"""

from __future__ import annotations

NPI_PREFIX = "80840"


def npi_check_digit(first9: str) -> str:
    """The NPI check digit for a nine-digit stem (Luhn over '80840' + stem)."""
    total = 0
    for i, ch in enumerate(reversed(NPI_PREFIX + first9)):
        d = int(ch)
        if i % 2 == 0:  # every second digit from the right, starting with the rightmost stem digit
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def npi_is_valid(npi: str) -> bool:
    """Ten ASCII digits whose last is the check digit of the first nine."""
    return len(npi) == 10 and npi.isascii() and npi.isdigit() and npi_check_digit(npi[:9]) == npi[9]
