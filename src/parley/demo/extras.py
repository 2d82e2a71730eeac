"""Non-claim extracts of the demo: the appointment extract and the quality-measure trend file."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from parley.demo.catalog import PAYERS, PROVIDERS, TEMPLATES
from parley.demo.patients import Panel
from parley.demo.truth import TruthBook

NO_SHOW_RATE = {
    "KNH-PPO": 0.06,
    "KNH-HMO": 0.075,
    "SUM-PPO": 0.06,
    "HBS-PPO": 0.055,
    "LSA-MA": 0.085,
    "HCH-MCD": 0.15,
    "ATL-DTE": 0.05,
}

APPOINTMENT_HEADER = (
    "appointment_id",
    "appointment_date",
    "provider_npi",
    "specialty",
    "payer",
    "payer_name",
    "product_line",
    "patient_key",
    "status",
    "patient_type",
    "visit_type",
    "place_of_service",
    "referral_source",
)
#: share of new-patient appointments referred by another provider, by payer (HMOs require referrals)
REFERRAL_RATE = {"KNH-HMO": 0.78, "LSA-MA": 0.62, "HCH-MCD": 0.55}
REFERRAL_DEFAULT = 0.40
OTHER_SOURCES = ("self", "payer directory", "emergency department follow-up")
CANCEL_RATE = 0.07
UNBILLED_RATE = 0.03  # completed visits that never reach a claim


class AppointmentWriter:
    """Streams ``appointments.csv``.

    Each billed office / telehealth / ASC visit is a completed appointment (facility reads and
    inpatient visits are not scheduled).  Per month it adds no-shows (rate by payer),
    cancellations and completed-but-never-billed visits; after ``end`` four weeks are
    ``scheduled``.  A row tuple is (date, provider index, payer index, patient index, status,
    new/established, visit type, place of service).
    """

    def __init__(self, path: Path, panels: list[Panel], seed: int, book: TruthBook | None = None) -> None:
        self.fh = path.open("w", newline="")
        self.csv = csv.writer(self.fh, lineterminator="\n")
        self.csv.writerow(APPOINTMENT_HEADER)
        self.panels = panels
        self.seed = seed
        self.seq = 0
        self.book = book

    def month(self, mi: int, days: list[date], billed: list[tuple[Any, ...]]) -> None:
        rng = np.random.default_rng([self.seed, 3, mi])
        extra: list[tuple[Any, ...]] = []
        for a in billed:
            # rates are shares of all scheduled visits; draws are per billed (kept) visit
            ns_rate = NO_SHOW_RATE[PAYERS[a[2]].key]
            kept = 1.0 - ns_rate - CANCEL_RATE
            ns, cancel = ns_rate / kept, CANCEL_RATE / kept
            r = rng.random()
            if r < ns:
                status = "no-show"
            elif r < ns + cancel:
                status = "cancelled"
            elif r < ns + cancel + UNBILLED_RATE:
                status = "completed"
            else:
                continue
            d = days[int(rng.integers(len(days)))]
            extra.append((d, *a[1:4], status, *a[5:]))
        for a in sorted(billed + extra, key=lambda a: (a[0], a[1], a[3])):
            self.row(a)

    def row(self, a: tuple[Any, ...]) -> None:
        d, prov_i, payer_i, pat, status, ptype, vtype, pos = a
        self.seq += 1
        p = PAYERS[payer_i]
        prov = PROVIDERS[prov_i]
        source = ""
        if ptype == "new":  # a hash of the row number: no draw from the shared random streams
            h = ((self.seq * 2654435761 + self.seed) % 2**32) / 2**32
            rate = REFERRAL_RATE.get(p.key, REFERRAL_DEFAULT)
            source = "provider referral" if h < rate else OTHER_SOURCES[int((h - rate) / (1 - rate) * 3) % 3]
        self.csv.writerow((
            f"AP{self.seq:08d}", d.isoformat(), prov.npi, prov.specialty, p.key, p.payer_name,
            p.product_line, self.panels[payer_i].key[pat], status, ptype, vtype, pos, source,
        ))  # fmt: skip
        if self.book is not None:
            self.book.appointment(p.payer_name, status, ptype, source)

    def scheduled(self, end: date, per_day: int) -> None:
        rng = np.random.default_rng([self.seed, 4])
        payer_w = np.array([q.volume_share for q in PAYERS])
        offices = [i for i, pr in enumerate(PROVIDERS) if pr.specialty not in ("lab", "rad")]
        d = end + timedelta(days=1)
        for _ in range(28):
            if d.weekday() < 5:
                for _ in range(per_day):
                    payer_i = int(rng.choice(len(PAYERS), p=payer_w / payer_w.sum()))
                    prov_i = offices[int(rng.integers(len(offices)))]
                    tpl = TEMPLATES[PROVIDERS[prov_i].specialty][0]
                    pat = int(rng.integers(len(self.panels[payer_i])))
                    new = "new" if rng.random() < 0.15 else "established"
                    self.row((d, prov_i, payer_i, pat, "scheduled", new, tpl.visit_type, "11"))
            d += timedelta(days=1)

    def close(self) -> None:
        self.fh.close()


# id, name, higher_is_better, baseline rate, yearly improvement (rate points), peer, target,
# denominator per quarter (all payers), unit
MEASURES = (
    ("READM-30", "30-day all-cause readmission rate", False, 0.142, -0.012, 0.151, 0.130, 420),
    ("COMP-PROC", "Procedural complication rate", False, 0.021, -0.003, 0.024, 0.020, 1_900),
    (
        "HCAHPS-TOP",
        "Patient experience: top-box overall rating",
        True,
        0.71,
        0.02,
        0.73,
        0.75,
        1_300,
    ),
    ("CDC-HBA1C-9", "Diabetes: HbA1c control (<8.0%)", True, 0.62, 0.03, 0.60, 0.66, 1_100),
    ("CBP", "Controlling high blood pressure (<140/90)", True, 0.66, 0.025, 0.64, 0.70, 2_300),
    ("AWV", "Annual wellness visit completion (65+)", True, 0.48, 0.05, 0.45, 0.55, 1_600),
    (
        "TRC",
        "Transitions of care: follow-up within 7 days of discharge",
        True,
        0.54,
        0.04,
        0.52,
        0.60,
        380,
    ),
)

PAYER_ELIGIBLE = {"AWV": {"LSA-MA"}}


def _quarters(last_month_key: int, n: int = 8) -> list[str]:
    y, m = divmod(last_month_key, 12)
    q = m // 3  # 0-based quarter of the last month; use the last complete quarter
    if m % 3 != 2:
        q -= 1
        if q < 0:
            q, y = 3, y - 1
    out = []
    for _ in range(n):
        out.append(f"{y}Q{q + 1}")
        q -= 1
        if q < 0:
            q, y = 3, y - 1
    return out[::-1]


def write_quality(path: Path, seed: int, last_month_key: int) -> Path:
    rng = np.random.default_rng([seed, 5])
    quarters = _quarters(last_month_key)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            (
                "measure_id",
                "measure_name",
                "period",
                "scope",
                "numerator",
                "denominator",
                "rate",
                "baseline",
                "peer_benchmark",
                "payer_target",
                "higher_is_better",
            )
        )
        for mid, name, hib, base, slope, peer, target, den in MEASURES:
            scopes = ["ALL"] + [
                p.key for p in PAYERS if mid not in PAYER_ELIGIBLE or p.key in PAYER_ELIGIBLE[mid]
            ]
            for scope in scopes:
                share = (
                    1.0
                    if scope == "ALL"
                    else next(p.volume_share for p in PAYERS if p.key == scope)
                )
                if mid == "AWV":
                    share = 1.0
                offset = 0.0 if scope == "ALL" else float(rng.normal(0, 0.015))
                if scope == "HCH-MCD":
                    offset += -0.03 if hib else 0.02
                ptarget = target + (0.0 if scope == "ALL" else float(rng.choice([-0.01, 0, 0.01])))
                for qi, period in enumerate(quarters):
                    rate = base + offset + slope * qi / 4 + float(rng.normal(0, 0.006))
                    rate = min(max(rate, 0.001), 0.999)
                    d = max(20, int(den * share * (0.9 + 0.2 * rng.random())))
                    num = int(round(rate * d))
                    w.writerow(
                        (
                            mid,
                            name,
                            period,
                            scope,
                            num,
                            d,
                            f"{num / d:.4f}",
                            f"{min(max(base + offset, 0.001), 0.999):.4f}",  # a rate, never negative
                            f"{peer:.4f}",
                            f"{ptarget:.4f}",
                            "true" if hib else "false",
                        )
                    )
    return path
