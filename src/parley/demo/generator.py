"""Generate the deterministic demo organisation: 837P claims, 835 remits, extracts, truth.

Output layout under ``out_dir``::

    837/837P_<contract>_<YYYY-MM>.837     claims by submission month (one ST per submission day)
    835/835_<contract>_<YYYY-MM>.835      remits by payment month (one ST per payment run)
    appointments.csv                       scheduling extract
    quality_measures.csv                   8 quarters of quality measures, per payer and all
    ground_truth_underpayments.csv         every planted underpaid line
    ground_truth_kpis.json                 per-payer KPI truths tallied from the generator's records
    contracts.json                         contract terms as data (enough to reprice every line)
    manifest.json                          what was written, counts, seed

Generation streams month by month.  Claims of a service month are submitted and paid later,
so each claim's 837 and 835 text is spooled by (payer, month) and a month's files are written
once no earlier service month can add to them.  The spool keeps at most
``spool.SPOOL_MEMORY_RECORDS`` records in memory and spills the rest to disk, so memory is
bounded (plus one payer-month's records while its file is written, and the patient panels,
capped at ``PANEL_CAP`` patients).
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from parley.demo import claims as C
from parley.demo.catalog import PAYERS, PRACTICE, PROVIDERS
from parley.demo.contracts import build_contracts, contracts_document
from parley.demo.extras import AppointmentWriter, write_quality
from parley.demo.patients import Panel, build_panel
from parley.demo.spool import Spool
from parley.demo.truth import TruthBook
from parley.demo.x12_writer import InterchangeWriter, money

T = C.T
PANEL_CAP = 300_000  # unique patients at most: a large group's panel, whatever the volume
SEASON = (1.08, 1.02, 1.05, 1.0, 1.0, 0.97, 0.9, 0.9, 1.0, 1.05, 1.02, 0.9)  # Jan..Dec
TRUTH_HEADER = (
    "file",
    "clp01_claim_id",
    "line_number",
    "ref_6r_line_control",
    "payer",
    "contract_id",
    "procedure_code",
    "modifier",
    "units_billed",
    "units_paid",
    "service_date",
    "payment_date",
    "expected_allowed",
    "actual_allowed",
    "underpaid_amount",
    "reason",
)


@dataclass(frozen=True)
class DemoSpec:
    seed: int = 20261123
    lines: int = 200_000
    months: int = 24
    end_date: date = date(2026, 10, 31)


@dataclass
class DemoManifest:
    out_dir: Path
    seed: int
    spec: DemoSpec
    files_837: list[Path] = field(default_factory=list)
    files_835: list[Path] = field(default_factory=list)
    appointments_csv: Path | None = None
    quality_csv: Path | None = None
    ground_truth_csv: Path | None = None
    ground_truth_kpis_json: Path | None = None
    contracts_json: Path | None = None
    manifest_json: Path | None = None
    counts: dict[str, int] = field(default_factory=dict)
    counts_by_payer: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        rel = self.out_dir
        return {
            "seed": self.seed,
            "spec": {
                "seed": self.spec.seed,
                "lines": self.spec.lines,
                "months": self.spec.months,
                "end_date": self.spec.end_date.isoformat(),
            },
            "files_837": [str(p.relative_to(rel)) for p in self.files_837],
            "files_835": [str(p.relative_to(rel)) for p in self.files_835],
            "appointments_csv": "appointments.csv",
            "quality_csv": "quality_measures.csv",
            "ground_truth_csv": "ground_truth_underpayments.csv",
            "ground_truth_kpis_json": "ground_truth_kpis.json",
            "contracts_json": "contracts.json",
            "counts": self.counts,
            "counts_by_payer": self.counts_by_payer,
        }


_JULIAN: dict[date, str] = {}


def _julian(d: date) -> str:
    s = _JULIAN.get(d)
    if s is None:
        s = _JULIAN[d] = d.strftime("%y%j")
    return s


def _mkey(d: date) -> int:
    return d.year * 12 + d.month - 1


def _month_start(k: int) -> date:
    return date(k // 12, k % 12 + 1, 1)


def _adjudication(cl: C.Claim, pay: date) -> tuple[date, bool, list[int | None], int]:
    """(payment date, claim denied, allowed cents per line (None = denied), paid cents) for the truth."""
    return pay, cl.status == "4", [ln.allowed for ln in cl.lines], sum(ln.paid for ln in cl.lines)


class _Run:
    """State of one generation run."""

    def __init__(self, out_dir: Path, spec: DemoSpec) -> None:
        self.out = out_dir
        self.spec = spec
        self.end = spec.end_date
        last = _mkey(spec.end_date)
        self.month_keys = list(range(last - spec.months + 1, last + 1))
        self.window_start = _month_start(self.month_keys[0])
        self.contracts = build_contracts(self.window_start, self.end)
        years = list(range(self.window_start.year, self.end.year + 1))
        self.st = C.Static(self.contracts, years)
        self.panels = self._panels()
        self.spool = Spool(out_dir / ".spool")
        self.control = 0
        self.manifest = DemoManifest(out_dir, spec.seed, spec)
        self.counts: dict[str, int] = dict.fromkeys(
            (
                "claims_billed",
                "lines_billed",
                "claims_unbilled_at_end",
                "remit_files",
                "remit_transactions",
                "claim_payments",
                "claims_denied_initial",
                "appeals_overturned",
                "reversals",
                "recoded_lines",
                "planted_underpayments",
                "claims_with_interest",
                "plb_recoupments",
                "claims_awaiting_payment",
                "claim_files",
            ),
            0,
        )
        self.by_payer = {
            p.key: {
                "claims": 0,
                "lines": 0,
                "denied_claims": 0,
                "planted": 0,
                "remit_claims": 0,
                "paid_cents": 0,
            }
            for p in PAYERS
        }
        self.recent_paid: list[deque[tuple[str, int]]] = [deque(maxlen=400) for _ in PAYERS]
        self.carry = [0] * len(PAYERS)  # negative balances forwarded (PLB FB) to the next remit
        self.carry_ref = [""] * len(PAYERS)
        self.truth_fh = (out_dir / "ground_truth_underpayments.csv").open("w", newline="")
        self.truth = csv.writer(self.truth_fh, lineterminator="\n")
        self.truth.writerow(TRUTH_HEADER)
        self.book = TruthBook()
        self.appts = AppointmentWriter(out_dir / "appointments.csv", self.panels, spec.seed, self.book)

    def _panels(self) -> list[Panel]:
        total = min(PANEL_CAP, max(1_500, self.spec.lines // 5))
        return [
            build_panel(p, i, max(150, int(total * p.volume_share)), self.spec.seed, self.end)
            for i, p in enumerate(PAYERS)
        ]

    # ------------------------------------------------------------------ month loop

    def month_targets(self) -> list[int]:
        w = np.array([SEASON[k % 12] for k in self.month_keys])
        cum = np.round(np.cumsum(w) / w.sum() * self.spec.lines).astype(int)
        return [int(x) for x in np.diff(np.concatenate([[0], cum]))]

    def run(self, progress: Callable[[int, int], None] | None) -> DemoManifest:
        done = 0
        for mi, (mk, target) in enumerate(zip(self.month_keys, self.month_targets(), strict=True)):
            appts = self.generate_month(mi, mk, target)
            self.appts.month(mi, self.business_days(mk), appts)
            self.flush_month(mk)
            done += target
            if progress:
                progress(done, self.spec.lines)
        self.counts["claims_awaiting_payment"] = self._drain_future()
        self.appts.scheduled(self.end, max(3, self.spec.lines // (self.spec.months * 66)))
        return self.finish()

    def business_days(self, mk: int) -> list[date]:
        d = _month_start(mk)
        out = []
        while d.month == _month_start(mk).month and d <= self.end:
            if d.weekday() < 5 or (d.weekday() == 5 and d.day % 2 == 0):
                out.append(d)
            d += timedelta(days=1)
        return out

    def generate_month(self, mi: int, mk: int, target: int) -> list[tuple[Any, ...]]:
        rng = np.random.default_rng([self.spec.seed, 1, mi])
        u = C.make_draws(rng)
        days = self.business_days(mk)
        month_tag = f"{_month_start(mk):%y%m}"
        produced = seq = 0
        appts: list[tuple[Any, ...]] = []
        while produced < target:
            seq += 1
            cl = C.sample_claim(seq, month_tag, days, self.st, u, self.panels, self.end)
            if produced + len(cl.lines) > target:
                del cl.lines[target - produced :]
            produced += len(cl.lines)
            self.process_claim(cl, u, seq, appts)
        return appts

    # ------------------------------------------------------------------ one claim

    def process_claim(
        self, cl: C.Claim, u: C.Draws, seq: int, appts: list[tuple[Any, ...]]
    ) -> None:
        p = PAYERS[cl.payer_i]
        if cl.pos in C.OFFICE_POS:
            appts.append(
                (
                    cl.svc,
                    cl.prov,
                    cl.payer_i,
                    cl.patient,
                    "completed",
                    "new" if cl.tpl.new_patient else "established",
                    cl.tpl.visit_type,
                    cl.pos,
                )
            )
        late = ""
        if p.timely_filing_days <= 180 and u() < p.denial_rate * 0.05:
            cl.sub = cl.svc + timedelta(days=p.timely_filing_days + 5 + int(u() * 50))
            late = "29"
        if cl.sub > self.end:
            self.counts["claims_unbilled_at_end"] += 1
            return
        text, nseg = C.claim_837(cl, self.panels[cl.payer_i])
        self.spool.add(
            ("837", cl.payer_i, _mkey(cl.sub)), (cl.sub.toordinal(), cl.claim_id, nseg, text)
        )
        self.counts["claims_billed"] += 1
        self.counts["lines_billed"] += len(cl.lines)
        bp = self.by_payer[p.key]
        bp["claims"] += 1
        bp["lines"] += len(cl.lines)
        ded = 0
        if p.deductible_cents and cl.svc.month <= 4 and u() < 0.3:
            ded = int(p.deductible_cents * (0.2 + 0.8 * u()))
        C.adjudicate(self.st, cl, u, late_carc=late, deductible=ded)
        pay = self.pay_date(cl, u)
        if pay > self.end:
            self.counts["claims_awaiting_payment"] += 1
            self._truth(cl, [], 0)
            return
        adjs = [_adjudication(cl, pay)]
        reversed_paid = 0
        self.remit(cl, pay, seq, interest=True)
        if cl.status == "4":
            self.counts["claims_denied_initial"] += 1
            bp["denied_claims"] += 1
            if cl.denial in C.APPEAL_OVERTURN_CARCS and u() < p.appeal_overturn_rate:
                pay2 = C.next_weekday(pay + timedelta(days=35 + int(u() * 60)), p.pay_weekday)
                if pay2 <= self.end:
                    C.adjudicate(self.st, cl, u, force_pay=True)
                    self.remit(cl, pay2, seq + 500_000, interest=False)
                    adjs.append(_adjudication(cl, pay2))
                    self.counts["appeals_overturned"] += 1
        elif not any(ln.plant for ln in cl.lines) and u() < p.reversal_rate:
            pay2 = C.next_weekday(pay + timedelta(days=21 + int(u() * 50)), p.pay_weekday)
            if pay2 <= self.end:
                reversed_paid = adjs[0][3]
                self.reverse_and_correct(cl, pay2, seq, u)
                adjs.append(_adjudication(cl, pay2))
        self._truth(cl, adjs, reversed_paid)

    def _truth(self, cl: C.Claim, adjs: list[tuple[date, bool, list[int | None], int]], reversed_paid: int) -> None:
        p = PAYERS[cl.payer_i]
        charges = [ln.charge for ln in cl.lines]
        self.book.claim(
            p.payer_name,
            member_id=self.panels[cl.payer_i].member_id[cl.patient],
            service_date=cl.svc,
            submitted=cl.sub,
            charge_cents=sum(charges),
            line_charges=charges,
            codes=[ln.code for ln in cl.lines],
            prior_auth_codes=p.prior_auth_codes,
            adjudications=adjs,
            reversed_paid_cents=reversed_paid,
            prompt_pay_days=p.prompt_pay_days,
        )

    def pay_date(self, cl: C.Claim, u: C.Draws) -> date:
        p = PAYERS[cl.payer_i]
        lo, hi = p.lag_days
        if u() < p.slow_share:
            lag = p.prompt_pay_days + 3 + int(u() ** 1.5 * 75)
        else:
            lag = lo + int(u() * (hi - lo))
        if cl.status == "4":
            lag = max(5, lag * 2 // 3)
        return C.next_weekday(cl.sub + timedelta(days=lag), p.pay_weekday)

    def _pcn(self, cl: C.Claim, pay: date, seq: int) -> str:
        return f"{PAYERS[cl.payer_i].payer_id}{_julian(pay)}{cl.claim_id[3:7]}{seq:07d}"

    def remit(self, cl: C.Claim, pay: date, seq: int, *, interest: bool) -> None:
        p = PAYERS[cl.payer_i]
        text, nseg, paid = C.claim_835(cl, self.panels[cl.payer_i], self._pcn(cl, pay, seq))
        inter = 0
        if interest and p.pays_interest:
            inter = C.interest_cents(paid, (pay - cl.sub).days, p.prompt_pay_days)
        truth: list[tuple[object, ...]] = []
        for ln in cl.lines:
            if ln.paid_code != ln.code and ln.allowed is not None:
                self.counts["recoded_lines"] += 1
            if ln.plant:
                truth.append(
                    (
                        cl.claim_id,
                        ln.n,
                        ln.lcn,
                        p.payer_name,
                        p.key,
                        ln.code,
                        ln.pmod,
                        ln.units,
                        ln.units_paid,
                        cl.svc.isoformat(),
                        pay.isoformat(),
                        money(ln.expected or 0),
                        money(ln.allowed or 0),
                        money((ln.expected or 0) - (ln.allowed or 0)),
                        ln.plant,
                    )
                )
        self.spool.add(
            ("835", cl.payer_i, _mkey(pay)),
            C.RemitItem(pay, seq, paid, inter, nseg, text, cl.claim_id, truth),
        )

    def reverse_and_correct(self, cl: C.Claim, pay2: date, seq: int, u: C.Draws) -> None:
        p = PAYERS[cl.payer_i]
        panel = self.panels[cl.payer_i]
        rev, n1, paid1 = C.claim_835(cl, panel, self._pcn(cl, pay2, seq + 700_000), reversal=True)
        ded = int(p.deductible_cents * 0.5 * u()) if p.deductible_cents else 0
        C.adjudicate(self.st, cl, u, deductible=ded, force_pay=True)
        cor, n2, paid2 = C.claim_835(cl, panel, self._pcn(cl, pay2, seq + 800_000))
        self.spool.add(
            ("835", cl.payer_i, _mkey(pay2)),
            C.RemitItem(pay2, seq + 700_000, paid1 + paid2, 0, n1 + n2, rev + cor, cl.claim_id, []),
        )
        self.counts["reversals"] += 1

    # ------------------------------------------------------------------ files

    def _next_control(self) -> int:
        self.control += 1
        return self.control

    def flush_month(self, mk: int) -> None:
        for i, p in enumerate(PAYERS):
            recs = self.spool.take(("837", i, mk))
            if recs:
                self.write_837(i, p.key, mk, recs)
            items = self.spool.take(("835", i, mk))
            if items:
                self.write_835(i, mk, items)

    def write_837(self, payer_i: int, key: str, mk: int, recs: list[Any]) -> None:
        p = PAYERS[payer_i]
        m = _month_start(mk)
        path = self.out / "837" / f"837P_{key}_{m:%Y-%m}.837"
        recs.sort(key=lambda r: (r[0], r[1]))
        last = date.fromordinal(recs[-1][0])
        with path.open("w", newline="") as fh:
            w = InterchangeWriter(
                fh,
                sender=PRACTICE.submitter_id,
                receiver=p.payer_id,
                functional_id="HC",
                version="005010X222A1",
                control_number=self._next_control(),
                when=last,
                time="2030",
            )
            i = 0
            while i < len(recs):
                j = i
                while j < len(recs) and recs[j][0] == recs[i][0]:
                    j += 1
                body, n = self._837_body(p, date.fromordinal(recs[i][0]), recs[i:j], w.n_tx + 1)
                w.transaction("837", body)
                i = j
            w.close()
        self.manifest.files_837.append(path)
        self.counts["claim_files"] += 1

    def _837_body(self, p: Any, sub: date, recs: list[Any], st_no: int) -> tuple[str, int]:
        out = [
            f"BHT*0019*00*{sub:%Y%m%d}{p.payer_id}{st_no:03d}*{sub:%Y%m%d}*2030*CH{T}",
            f"NM1*41*2*{PRACTICE.name}*****46*{PRACTICE.submitter_id}{T}",
            f"PER*IC*BILLING OFFICE*TE*{PRACTICE.phone}{T}",
            f"NM1*40*2*{p.payer_name}*****46*{p.payer_id}{T}",
            f"HL*1**20*1{T}PRV*BI*PXC*193200000X{T}",
            f"NM1*85*2*{PRACTICE.name}*****XX*{PRACTICE.npi}{T}",
            f"N3*{PRACTICE.address}{T}N4*{PRACTICE.city}*{PRACTICE.state}*{PRACTICE.zip9}{T}",
            f"REF*EI*{PRACTICE.tin}{T}",
        ]
        n = 10
        for k, (_, _, nseg, text) in enumerate(recs):
            out.append(f"HL*{k + 2}*1*22*0{T}")
            out.append(text)
            n += nseg + 1
        return "".join(out), n

    def write_835(self, payer_i: int, mk: int, items: list[C.RemitItem]) -> None:
        p = PAYERS[payer_i]
        m = _month_start(mk)
        path = self.out / "835" / f"835_{p.key}_{m:%Y-%m}.835"
        items.sort(key=lambda r: (r.pay, r.claim_id, r.seq))
        rng = np.random.default_rng([self.spec.seed, 2, payer_i, mk])
        with path.open("w", newline="") as fh:
            w = InterchangeWriter(
                fh,
                sender=p.payer_id,
                receiver=PRACTICE.submitter_id,
                functional_id="HP",
                version="005010X221A1",
                control_number=self._next_control(),
                when=items[-1].pay,
                time="0415",
            )
            i = 0
            while i < len(items):
                j = i
                while j < len(items) and items[j].pay == items[i].pay:
                    j += 1
                body, n = self._835_body(payer_i, items[i:j], rng, w.n_tx + 1)
                w.transaction("835", body)
                for it in items[i:j]:
                    for row in it.truth:
                        self.truth.writerow((str(path.relative_to(self.out)), *row))
                        self.counts["planted_underpayments"] += 1
                        self.by_payer[p.key]["planted"] += 1
                i = j
            w.close()
        self.manifest.files_835.append(path)
        self.counts["remit_files"] += 1

    def _plb(
        self,
        payer_i: int,
        items: list[C.RemitItem],
        rng: np.random.Generator,
        total: int,
        trace: str,
    ) -> list[tuple[str, int]]:
        """Provider-level adjustments of one remit; at most 5, so they fit one PLB segment.

        Interest (L6, negative = paid to us) is per claim when at most 3 claims earned it,
        else one total referencing the payment trace.  Recoupments (WO, or 72 for refunds)
        reference the claim they recover; at most 2 per remit.
        """
        p = PAYERS[payer_i]
        late = [(f"L6:{it.claim_id}", -it.interest) for it in items if it.interest]
        self.counts["claims_with_interest"] += len(late)
        if len(late) > 3:
            late = [(f"L6:{trace}", sum(a for _, a in late))]
        adj = late
        recent = self.recent_paid[payer_i]
        n_recoup = min(2, int(rng.binomial(len(items), p.recoup_rate))) if recent else 0
        net = total + sum(-a for _, a in adj)
        for _ in range(n_recoup):
            cid, paid = recent[int(rng.integers(len(recent)))]
            amt = int(paid * (0.15 + 0.85 * rng.random()))
            if 0 < amt < net - 100:
                reason = "WO" if rng.random() < 0.8 else "72"
                adj.append((f"{reason}:{cid}", amt))
                net -= amt
                self.counts["plb_recoupments"] += 1
        return adj

    def _835_body(
        self, payer_i: int, items: list[C.RemitItem], rng: np.random.Generator, st_no: int
    ) -> tuple[str, int]:
        p = PAYERS[payer_i]
        pay = items[0].pay
        total = sum(it.paid for it in items)
        d = f"{pay:%Y%m%d}"
        trace = f"{p.payer_id}{d}{st_no:03d}"
        plb = self._plb(payer_i, items, rng, total, trace)
        carry = self.carry[payer_i]
        if carry and total - sum(a for _, a in plb) > carry + 100:
            plb.append(
                (f"FB:{carry_ref}", carry)
                if (carry_ref := self.carry_ref[payer_i])
                else ("FB", carry)
            )
            self.carry[payer_i] = 0
        bpr_amt = total - sum(a for _, a in plb)
        if bpr_amt < 0:  # reversals exceed payments: forward the balance to the next remit
            plb.append((f"FB:{trace}", bpr_amt))
            self.carry[payer_i] += -bpr_amt
            self.carry_ref[payer_i] = trace
            bpr_amt = 0
        ein = f"1{int(hashlib.sha256(p.payer_id.encode()).hexdigest()[:8], 16) % 10**9:09d}"
        if bpr_amt > 0:
            bpr = (
                f"BPR*I*{money(bpr_amt)}*C*ACH*CCP*01*021000021*DA*{4_000_000 + payer_i}"
                f"*{ein}**01*026009593*DA*7732018*{d}{T}"
            )
        else:
            bpr = f"BPR*H*0*C*NON************{d}{T}"
        out = [
            bpr,
            f"TRN*1*{trace}*{ein}{T}",
            f"DTM*405*{d}{T}",
            f"N1*PR*{p.payer_name}{T}N3*PO BOX {7000 + 37 * payer_i}{T}"
            f"N4*ALBANY*NY*12201{T}PER*BL*PROVIDER SERVICES*TE*800555{1000 + payer_i:04d}{T}",
            f"N1*PE*{PRACTICE.name}*XX*{PRACTICE.npi}{T}REF*TJ*{PRACTICE.tin}{T}LX*1{T}",
        ]
        n = 11
        for it in items:
            out.append(it.text)
            n += it.nseg
            if it.paid > 0:
                self.recent_paid[payer_i].append((it.claim_id, it.paid))
            self.counts["claim_payments"] += it.text.count("CLP*")
            self.by_payer[p.key]["remit_claims"] += it.text.count("CLP*")
            self.by_payer[p.key]["paid_cents"] += it.paid
        for reason, amount in plb:
            self.book.plb(p.payer_name, reason.split(":")[0], amount)
        if plb:  # one PLB segment: pyx12 (and some payers' readers) expect a single one
            assert len(plb) <= 6
            pairs = "*".join(f"{r}*{money(a)}" for r, a in plb)
            out.append(f"PLB*{PRACTICE.npi}*{pay.year}1231*{pairs}{T}")
            n += 1
        self.counts["remit_transactions"] += 1
        return "".join(out), n

    def _drain_future(self) -> int:
        """Claims adjudicated but paid after ``end`` (A/R outstanding at the extract date)."""
        return self.counts["claims_awaiting_payment"] + self.spool.count("835")

    # ------------------------------------------------------------------ finish

    def finish(self) -> DemoManifest:
        self.truth_fh.close()
        self.appts.close()
        shutil.rmtree(self.spool.root, ignore_errors=True)
        man = self.manifest
        man.appointments_csv = self.out / "appointments.csv"
        man.ground_truth_csv = self.out / "ground_truth_underpayments.csv"
        man.ground_truth_kpis_json = self.book.write(self.out / "ground_truth_kpis.json")
        man.quality_csv = write_quality(
            self.out / "quality_measures.csv", self.spec.seed, self.month_keys[-1]
        )
        man.contracts_json = self.out / "contracts.json"
        man.contracts_json.write_text(
            json.dumps(contracts_document(self.contracts, seed=self.spec.seed), indent=1) + "\n"
        )
        self.counts["payers"] = len({p.payer_name for p in PAYERS})
        self.counts["product_lines"] = len(PAYERS)
        self.counts["providers"] = len(PROVIDERS)
        self.counts["claims"] = self.counts["claims_billed"]
        self.counts["lines"] = self.counts["lines_billed"]
        self.counts["remits"] = self.counts["remit_transactions"]
        man.counts = dict(sorted(self.counts.items()))
        man.counts_by_payer = self.by_payer
        man.manifest_json = self.out / "manifest.json"
        man.manifest_json.write_text(json.dumps(man.to_dict(), indent=1) + "\n")
        return man


def generate_demo(
    out_dir: Path, spec: DemoSpec, *, progress: Callable[[int, int], None] | None = None
) -> DemoManifest:
    """Write the demo organisation's files under ``out_dir``; deterministic from ``spec``.

    ``progress(done_lines, total_lines)`` is called after each generated month.
    """
    out_dir = Path(out_dir)
    for sub in ("837", "835"):
        d = out_dir / sub
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    return _Run(out_dir, spec).run(progress)
