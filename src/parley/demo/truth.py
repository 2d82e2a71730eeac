"""Per-payer ground truth of the demo, tallied from the generator's own in-memory records.

The generator calls :meth:`TruthBook.claim` once per billed claim (after every
adjudication of it is decided), :meth:`TruthBook.plb` for each provider-level
adjustment and :meth:`TruthBook.appointment` for each appointment row it writes.
Nothing here reads Parley's tables or the files written: it is the independent
side of the KPI tests (tests/demo/test_demo_kpi_truth.py).

``ground_truth_kpis.json`` holds, per payer name (the 837 NM1*PR / 835 N1*PR name,
which is what the KPI tables group by) and for ``ALL``, the counts and money of
docs/kpi.md's definitions written in the generator's terms (money in dollars as
strings, exact).  Statistics keep their raw material: ``days_to_pay`` is a
histogram {days: claims}, so a test can apply the same discrete quantile.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

#: E/M codes counted by level (new 99202-99205, established 99211-99215)
EM_CODES = frozenset({"99202", "99203", "99204", "99205", "99211", "99212", "99213", "99214", "99215"})

_COUNTS = (
    "claims", "lines", "adjudicated_claims", "initially_denied_claims", "finally_denied_claims",
    "overturned_claims", "reworked_claims", "appeals", "initial_lines", "initial_denied_lines",
    "final_lines", "final_denied_lines", "paid_claims", "late_claims", "awaiting_claims",
    "final_denied_claims_open", "prior_auths_required", "recoupment_count",
)
_CENTS = (
    "billed", "collected", "initial_line_charges", "initial_denied_dollars", "final_line_charges",
    "final_denied_dollars", "awaiting_balance", "final_denied_balance", "allowed_final", "interest_paid",
    "recoupments", "forward_balance",
)


@dataclass
class _Payer:
    n: Counter[str] = field(default_factory=Counter)
    cents: Counter[str] = field(default_factory=Counter)
    patients: set[str] = field(default_factory=set)
    visits: set[tuple[str, date]] = field(default_factory=set)
    days_to_pay: Counter[int] = field(default_factory=Counter)
    em: Counter[str] = field(default_factory=Counter)
    appointments: Counter[str] = field(default_factory=Counter)


class TruthBook:
    """Tallies per payer name; :meth:`write` dumps ``ground_truth_kpis.json``."""

    def __init__(self) -> None:
        self.payers: dict[str, _Payer] = {}
        self.last_payment = date.min
        self.last_submission = date.min

    def _p(self, name: str) -> _Payer:
        got = self.payers.get(name)
        if got is None:
            got = self.payers[name] = _Payer()
        return got

    def claim(self, payer: str, *, member_id: str, service_date: date, submitted: date, charge_cents: int,
              line_charges: list[int], codes: list[str], prior_auth_codes: frozenset[str] | tuple[str, ...],
              adjudications: list[tuple[date, bool, list[int | None], int]], reversed_paid_cents: int = 0,
              prompt_pay_days: int | None = None) -> None:
        """One billed claim.

        ``adjudications``: the non-reversal adjudications in payment-date order, each
        (payment date, claim denied, allowed cents per line or None when the line is denied,
        paid cents).  ``reversed_paid_cents``: what a reversal took back (counts in collected).
        """
        t = self._p(payer)
        n, c = t.n, t.cents
        self.last_submission = max(self.last_submission, submitted)
        n["claims"] += 1
        n["lines"] += len(line_charges)
        c["billed"] += charge_cents
        t.patients.add(member_id)
        n["prior_auths_required"] += len({k for k in codes if k in prior_auth_codes})
        for k in codes:
            if k in EM_CODES:
                t.em[k] += 1
        if not adjudications:
            n["awaiting_claims"] += 1
            c["awaiting_balance"] += charge_cents
            return
        n["adjudicated_claims"] += 1
        t.visits.add((member_id, service_date))
        first, last = adjudications[0], adjudications[-1]
        self.last_payment = max(self.last_payment, last[0])
        n["initial_lines"] += len(first[2])
        n["final_lines"] += len(last[2])
        c["initial_line_charges"] += charge_cents
        c["final_line_charges"] += charge_cents
        for allowed, charge in zip(first[2], line_charges, strict=True):
            if allowed is None:
                n["initial_denied_lines"] += 1
                c["initial_denied_dollars"] += charge
        for allowed, charge in zip(last[2], line_charges, strict=True):
            if allowed is None:
                n["final_denied_lines"] += 1
                c["final_denied_dollars"] += charge
            else:
                c["allowed_final"] += allowed
        c["collected"] += sum(a[3] for a in adjudications) - reversed_paid_cents
        paid_dates = [a[0] for a in adjudications if a[3] > 0]
        if first[1]:
            n["initially_denied_claims"] += 1
            n["reworked_claims"] += 1
            if len(adjudications) > 1:
                n["appeals"] += 1
            if paid_dates:
                n["overturned_claims"] += 1
            else:
                n["final_denied_claims_open"] += 1
                c["final_denied_balance"] += charge_cents
        if last[1]:
            n["finally_denied_claims"] += 1
        if paid_dates:
            days = (paid_dates[0] - submitted).days
            n["paid_claims"] += 1
            t.days_to_pay[days] += 1
            if prompt_pay_days is not None and days > prompt_pay_days:
                n["late_claims"] += 1

    def plb(self, payer: str, reason: str, cents: int) -> None:
        """A provider-level adjustment as written (L6 negative = interest paid to the provider)."""
        t = self._p(payer)
        if reason == "L6":
            t.cents["interest_paid"] += -cents
        elif reason in ("WO", "72"):
            t.cents["recoupments"] += cents
            t.n["recoupment_count"] += 1
        elif reason == "FB":
            t.cents["forward_balance"] += cents

    def appointment(self, payer: str, status: str, patient_type: str, referral_source: str) -> None:
        a = self._p(payer).appointments
        a[status] += 1
        if status == "completed" and patient_type == "new":
            a["completed_new"] += 1
            if referral_source:
                a["completed_new_with_source"] += 1
                if referral_source == "provider referral":
                    a["completed_new_referred"] += 1

    # ------------------------------------------------------------------ output

    @staticmethod
    def _row(t: _Payer) -> dict[str, Any]:
        return {
            **{k: t.n[k] for k in _COUNTS},
            **{k: str(Decimal(t.cents[k]) / 100) for k in _CENTS},
            "patients": len(t.patients),
            "visits": len(t.visits),
            "days_to_pay": {str(k): v for k, v in sorted(t.days_to_pay.items())},
            "em_lines": dict(sorted(t.em.items())),
            "appointments": dict(sorted(t.appointments.items())),
        }

    def as_dict(self) -> dict[str, Any]:
        total = _Payer()
        for t in self.payers.values():
            total.n.update(t.n)
            total.cents.update(t.cents)
            total.patients |= t.patients
            total.visits |= t.visits
            total.days_to_pay.update(t.days_to_pay)
            total.em.update(t.em)
            total.appointments.update(t.appointments)
        as_of = max(self.last_payment, self.last_submission)
        return {
            "definitions": "see parley.demo.truth and docs/kpi.md; money in dollars; days_to_pay is a histogram",
            "as_of": as_of.isoformat() if as_of > date.min else None,
            "payers": {name: self._row(t) for name, t in sorted(self.payers.items())},
            "ALL": self._row(total),
        }

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(self.as_dict(), indent=1) + "\n")
        return path
