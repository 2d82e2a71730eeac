"""Medicare PFS amounts for the demo's code list, via the packaged reference data.

The demo calls :func:`parley.refdata.medicare_fee` once per (code, modifier, year, site) when it
builds its rate tables, never per claim line.  Service dates in 2026 are priced with the 2025
PFS (the newest packaged year).  The practice is in ZIP 10001: carrier 13202, locality 01
(Manhattan); the locality is passed explicitly because 2024 has no packaged ZIP table.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from parley.demo.catalog import PRACTICE

CENT = Decimal("0.01")
PFS_YEARS = (2024, 2025)
LOCALITY = f"{PRACTICE.medicare_carrier}-{PRACTICE.medicare_locality}"


def pfs_year_for(service_year: int) -> int:
    """PFS year used for a service year (2026 and later use the newest packaged year)."""
    return max(min(service_year, PFS_YEARS[-1]), PFS_YEARS[0])


@lru_cache(maxsize=4096)
def medicare_amount(code: str, modifier: str, year: int, facility: bool) -> Decimal:
    """Medicare allowed amount (dollars, to the cent) for the practice's locality."""
    from parley.refdata import medicare_fee

    fee = medicare_fee(
        code, year=year, modifier=modifier or None, locality=LOCALITY, facility=facility
    )
    return Decimal(fee.amount).quantize(CENT, rounding=ROUND_HALF_UP)
