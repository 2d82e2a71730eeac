"""Synthetic patient panels per payer: opaque keys, fake names, member ids, birth dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from parley.demo.catalog import PATIENT_FIRST_F, PATIENT_FIRST_M, PATIENT_LAST, PayerSpec

_STREETS = (
    "W 23RD ST",
    "8TH AVE",
    "W 34TH ST",
    "9TH AVE",
    "W 19TH ST",
    "10TH AVE",
    "W 27TH ST",
    "E 14TH ST",
    "LEXINGTON AVE",
    "2ND AVE",
    "BROADWAY",
    "W 57TH ST",
    "E 86TH ST",
    "AMSTERDAM AVE",
    "RIVERSIDE DR",
    "GRAND ST",
    "HUDSON ST",
    "BLEECKER ST",
)
_ZIPS = (
    "10001",
    "10011",
    "10010",
    "10016",
    "10018",
    "10019",
    "10014",
    "10003",
    "10009",
    "10024",
    "10025",
    "10023",
    "10028",
    "10002",
    "10012",
    "10036",
    "10128",
    "10027",
)


@dataclass
class Panel:
    """Patients of one payer, stored column-wise; row i is one patient."""

    payer: PayerSpec
    key: list[str]
    member_id: list[str]
    last: list[str]
    first: list[str]
    sex: list[str]
    dob: list[str]  # YYYYMMDD
    birth_year: list[int]
    street: list[str]
    zip9: list[str]

    def __len__(self) -> int:
        return len(self.key)


def _member_ids(p: PayerSpec, nums: np.ndarray) -> list[str]:
    if p.claim_filing == "MC":  # New York Medicaid CIN-like: two letters, five digits, letter
        letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
        out = []
        for n in nums.tolist():
            a, b, c = letters[n % 23], letters[(n // 23) % 23], letters[(n // 529) % 23]
            out.append(f"{a}{b}{(n // 12167) % 100000:05d}{c}")
        return out
    return [f"{p.member_prefix}{n:09d}" for n in nums.tolist()]


def build_panel(p: PayerSpec, payer_index: int, size: int, seed: int, ref: date) -> Panel:
    rng = np.random.default_rng([seed, 7, payer_index])
    lo, hi = p.age_band
    if lo >= 65:
        ages = np.clip(65 + rng.gamma(2.2, 4.5, size), 65, hi).astype(int)
    else:
        ages = np.where(
            rng.random(size) < 0.10, rng.integers(12, 18, size), rng.integers(18, hi + 1, size)
        )
    doy = rng.integers(0, 365, size)
    births = [
        date.fromordinal(date(ref.year - int(a), 1, 1).toordinal() + int(d))
        for a, d in zip(ages.tolist(), doy.tolist(), strict=True)
    ]
    female = rng.random(size) < 0.54
    fi = rng.integers(0, len(PATIENT_FIRST_F), size).tolist()
    li = rng.integers(0, len(PATIENT_LAST), size).tolist()
    first = [
        PATIENT_FIRST_F[i] if f else PATIENT_FIRST_M[i]
        for i, f in zip(fi, female.tolist(), strict=True)
    ]
    # unique numbers: an affine permutation of the row index
    idx = np.arange(size, dtype=np.int64)
    nums = (idx * 7_919 + 104_729 * (payer_index + 1)) % 1_000_000_000
    keys = [
        f"PT{((payer_index << 26) + i) * 2_654_435_761 % 4_294_967_296:08X}{payer_index}"
        for i in range(size)
    ]
    st_no = rng.integers(1, 900, size).tolist()
    st = rng.integers(0, len(_STREETS), size).tolist()
    zp = rng.integers(0, len(_ZIPS), size).tolist()
    z4 = rng.integers(1000, 9999, size).tolist()
    return Panel(
        payer=p,
        key=keys,
        member_id=_member_ids(p, nums),
        last=[PATIENT_LAST[i] for i in li],
        first=first,
        sex=["F" if f else "M" for f in female.tolist()],
        dob=[b.strftime("%Y%m%d") for b in births],
        birth_year=[b.year for b in births],
        street=[f"{n} {_STREETS[s]}" for n, s in zip(st_no, st, strict=True)],
        zip9=[f"{_ZIPS[z]}{q}" for z, q in zip(zp, z4, strict=True)],
    )
