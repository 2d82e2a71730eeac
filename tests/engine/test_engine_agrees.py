"""The vectorised engine equals the scalar reference to the cent (property test)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import duckdb
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.domain.contracts import Contract
from parley.domain.pricing import Line, classify, price_claim
from parley.engine.compile import compile_rates
from parley.engine.reprice import Tolerance, prepare, reprice_sql

CODES = ["10001", "10002", "20001", "20002", "J0001", "99999"]
MPPR_CODES = {"20001", "20002"}
FACILITY = {"21", "22", "23", "24"}


@dataclass(frozen=True)
class Quote:
    amount: Decimal
    explanation: tuple[str, ...] = ()


class FakeContext:
    """Reference values for tests: a Medicare amount per code / modifier / year / setting."""

    def __init__(self, table: dict[tuple[str, str, int, bool], Decimal]) -> None:
        self.table = table

    def medicare(self, code, modifier, *, year, quarter, locality, zip, facility):  # noqa: A002
        amt = self.table.get((code, modifier, year, facility))
        return None if amt is None else Quote(amt, (f"medicare {code} {year}: ${amt}",))

    def pfs_years(self) -> list[int]:
        return [2024, 2025]

    def is_facility(self, pos: str | None) -> bool:
        return pos in FACILITY

    def mppr_indicator(self, code: str, year: int) -> str | None:
        return "2" if code in MPPR_CODES else "0"


money = st.integers(min_value=0, max_value=500_000).map(lambda c: Decimal(c) / 100)
pct = st.integers(min_value=0, max_value=300_000).map(lambda m: Decimal(m) / 1000)
charge_pct = st.integers(min_value=0, max_value=100_000).map(lambda m: Decimal(m) / 1000)


@st.composite
def medicare_tables(draw):
    out = {}
    for code in CODES[:4]:
        for mod in ("", "26", "TC"):
            for year in (2024, 2025):
                if draw(st.booleans()) or mod == "":
                    for fac in (False, True):
                        out[(code, mod, year, fac)] = draw(money)
    return out


@st.composite
def methods(draw, allow_fee=True):
    kind = draw(st.sampled_from(["fee_schedule", "percent_of_medicare", "percent_of_charges"] if allow_fee else ["percent_of_charges"]))
    if kind == "percent_of_charges":
        return {"method": kind, "percent": draw(charge_pct)}
    if kind == "percent_of_medicare":
        return {"method": kind, "percent": draw(pct), "pfs_year": draw(st.sampled_from(["current", 2024])),
                "if_year_unavailable": "latest_available"}
    rates = []
    for code in draw(st.lists(st.sampled_from(CODES), max_size=6, unique=True)):
        for mod in draw(st.lists(st.sampled_from(["", "26", "TC"]), min_size=1, max_size=2, unique=True)):
            site = draw(st.sampled_from(["any", "facility", "non_facility"]))
            rates.append({"code": code, "modifier": mod, "site": site, "amount": draw(money)})
            if draw(st.booleans()):
                rates.append({"code": code, "modifier": mod, "pos": draw(st.sampled_from(["11", "22"])), "amount": draw(money)})
    return {"method": "fee_schedule", "rates": rates}


@st.composite
def contracts(draw):
    adj = {}
    if draw(st.booleans()):
        adj["multiple_procedure"] = {"schedule": draw(st.lists(pct, min_size=1, max_size=3))}
    for key in ("bilateral_percent", "assistant_at_surgery_percent", "npp_percent",
                "professional_component_percent", "technical_component_percent"):
        if draw(st.booleans()):
            adj[key] = draw(pct)
    if "npp_percent" in adj:
        adj["npp_npis"] = ["1111111111"]
    prof = {"methodology": draw(methods()), "lesser_of_billed": draw(st.booleans()), "adjustments": adj}
    if draw(st.booleans()):
        prof["default"] = draw(methods(allow_fee=False))
    if draw(st.booleans()):
        prof["carve_outs"] = [{"name": "drugs", "select": {"prefixes": ["J"]}, "escalate": draw(st.booleans()),
                               "pricing": {"method": "percent_of_reference", "reference": "ASP", "percent": draw(pct),
                                           "prices": [{"code": "J0001", "amount": draw(money)},
                                                      {"code": "J0001", "amount": draw(money),
                                                       "from": draw(st.dates(dt.date(2024, 1, 2), dt.date(2025, 12, 1)))}]}}]
    doc = {"contract_id": "T1", "payer": {"name": "TEST", "payer_ids": ["P1"]}, "product_lines": ["Commercial PPO"],
           "claim_filing_indicators": ["12"], "effective": dt.date(2024, 1, 1), "renewal": {"type": "evergreen"},
           "professional": prof}
    if draw(st.booleans()):
        doc["escalator"] = {"amount": draw(st.integers(0, 10_000).map(lambda m: Decimal(m) / 1000)),
                            "unit": draw(st.sampled_from(["percent", "percentage_points"])),
                            "anniversary": draw(st.sampled_from(["01-01", "07-01", "04-15"]))}
    if draw(st.booleans()):
        doc["amendments"] = [{"effective": draw(st.dates(dt.date(2024, 2, 1), dt.date(2025, 11, 30))),
                              "changes": {"professional": {"methodology": draw(methods()),
                                                           "lesser_of_billed": draw(st.booleans())}}}]
    return Contract.model_validate(doc)


@st.composite
def claims(draw):
    out = []
    for c in range(draw(st.integers(1, 4))):
        day = draw(st.dates(dt.date(2023, 12, 1), dt.date(2025, 12, 31)))
        pos = draw(st.sampled_from(["11", "22", "21", None]))
        for n in range(1, draw(st.integers(1, 4)) + 1):
            mods = tuple(draw(st.lists(st.sampled_from(["26", "TC", "50", "80", "AS", "25"]), max_size=2, unique=True)))
            units = draw(st.one_of(st.integers(1, 4).map(Decimal), st.integers(1, 5000).map(lambda m: Decimal(m) / 1000)))
            out.append(Line(procedure_code=draw(st.sampled_from(CODES)), service_date=day, units=units,
                            charge_amount=draw(money), modifiers=mods, place_of_service=pos,
                            rendering_npi=draw(st.sampled_from(["1111111111", "2222222222", None])),
                            patient_responsibility=draw(money), line_number=n, claim_key=f"C{c}"))
    return out


def _engine(lines: list[Line], contract: Contract, ctx: FakeContext, actual: list[Decimal], tol: Tolerance):
    cols = {
        "line_key": [f"{ln.claim_key}:{i:04d}" for i, ln in enumerate(lines)],
        "claim_key": [ln.claim_key for ln in lines],
        "line_number": [ln.line_number for ln in lines],
        "payer_id": ["P1"] * len(lines), "filing_indicator": ["12"] * len(lines),
        "service_date": [ln.service_date for ln in lines],
        "procedure_code": [ln.procedure_code for ln in lines],
        **{f"modifier_{i}": [ln.modifiers[i - 1] if len(ln.modifiers) >= i else None for ln in lines] for i in range(1, 5)},
        "units": pa.array([ln.units for ln in lines], pa.decimal128(12, 3)),
        "charge_amount": pa.array([ln.charge_amount for ln in lines], pa.decimal128(14, 2)),
        "place_of_service": [ln.place_of_service for ln in lines],
        "rendering_npi": [ln.rendering_npi for ln in lines],
        "patient_responsibility": pa.array([ln.patient_responsibility for ln in lines], pa.decimal128(14, 2)),
        "actual_allowed": pa.array(actual, pa.decimal128(14, 2)),
        "paid_amount": pa.array(actual, pa.decimal128(14, 2)),
        "denied": [False] * len(lines),
    }
    table = pa.table(cols)
    pmod = [next((m for m in ln.modifiers if m in ("26", "TC")), "") for ln in lines]
    keys = {("P1", "12", ln.procedure_code, pm, ln.place_of_service or "") for ln, pm in zip(lines, pmod, strict=True)}
    rates = compile_rates([contract], keys, ctx, until=max(ln.service_date for ln in lines))
    con = duckdb.connect()
    con.register("lines_in", table)
    con.register("rates", rates)
    rows = con.execute(f"SELECT line_key, expected_allowed, expected_paid, status FROM ({reprice_sql('lines_in', 'rates', tol)})").fetchall()
    streamed = con.execute(f"SELECT line_key, expected_allowed, expected_paid, status FROM ({prepare(con, 'lines_in', 'rates', tol)})").fetchall()
    con.close()
    assert sorted(rows) == sorted(streamed)
    return {k: (a, p, s) for k, a, p, s in rows}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(table=medicare_tables(), contract=contracts(), lines=claims(), data=st.data())
def test_engine_equals_scalar_to_the_cent(table, contract, lines, data):
    ctx = FakeContext(table)
    tol = Tolerance(Decimal("1.00"), Decimal("1.0"))
    actual = [data.draw(money) for _ in lines]
    engine = _engine(lines, contract, ctx, actual, tol)
    by_claim: dict[str, list[int]] = {}
    for i, ln in enumerate(lines):
        by_claim.setdefault(ln.claim_key, []).append(i)
    for idx in by_claim.values():
        exps = price_claim([lines[i] for i in idx], contract, ctx)
        for i, e in zip(idx, exps, strict=True):
            key = f"{lines[i].claim_key}:{i:04d}"
            got_allowed, got_paid, got_status = engine[key]
            assert got_allowed == e.expected_allowed, (lines[i], e.steps, got_allowed)
            assert got_paid == e.expected_paid
            if e.expected_allowed is None:
                assert got_status == "not_priceable"
            else:
                assert got_status == classify(e.expected_allowed, actual[i], tolerance_dollars=tol.dollars,
                                              tolerance_percent=tol.percent)
                assert e.expected_allowed >= 0


# --------------------------------------------------------------------------- facility claims

REVS = ["0120", "0200", "0206", "0250", "0278", "0450", "0636"]


@st.composite
def facility_contracts(draw):
    fac: dict = {}
    if draw(st.booleans()):
        weights = {d: Decimal(draw(st.integers(1, 90_000))) / 10_000 for d in draw(st.lists(st.sampled_from(["470", "871", "065"]), max_size=3, unique=True))}
        fac["inpatient_drg"] = {"base_rate": draw(money), "weights": weights}
    if draw(st.booleans()):
        fac["per_diems"] = [{"level_of_care": "ICU", "revenue_code_ranges": [["0200", "0219"]], "amount": draw(money)},
                            {"level_of_care": "medical", "revenue_codes": ["120"], "amount": draw(money)}][: draw(st.integers(1, 2))]
    if draw(st.booleans()):
        fac["percent_of_charges"] = draw(charge_pct)
    if draw(st.booleans()):
        fac["outlier"] = {"threshold": draw(money), "percent": draw(charge_pct),
                          "applies_to": draw(st.sampled_from(["excess", "all_charges"])),
                          "claims": draw(st.sampled_from(["inpatient", "outpatient", "all"]))}
    if draw(st.booleans()):
        fac["revenue_code_carve_outs"] = {draw(st.sampled_from(["0278", "636"])): draw(money)}
    fac["lesser_of_billed"] = draw(st.booleans())
    doc = {"contract_id": "H1", "payer": {"name": "TEST", "payer_ids": ["P1"]}, "product_lines": ["Commercial PPO"],
           "claim_filing_indicators": ["12"], "effective": dt.date(2024, 1, 1), "renewal": {"type": "evergreen"},
           "facility": fac, **({"professional": {"methodology": {"method": "percent_of_charges", "percent": 50}}} if not fac else {})}
    if draw(st.booleans()):
        doc["escalator"] = {"amount": draw(st.integers(0, 10_000).map(lambda m: Decimal(m) / 1000)),
                            "unit": draw(st.sampled_from(["percent", "percentage_points"])), "anniversary": "07-01"}
    return Contract.model_validate(doc)


@st.composite
def facility_claims(draw):
    from parley.domain.pricing_facility import FacilityClaim, FacilityLine

    out = []
    for c in range(draw(st.integers(1, 4))):
        start = draw(st.one_of(st.none(), st.dates(dt.date(2023, 12, 1), dt.date(2025, 12, 31))))
        to = None if start is None or draw(st.integers(0, 5)) == 0 else start + dt.timedelta(days=draw(st.integers(0, 30)))
        lines = tuple(FacilityLine(draw(st.sampled_from([*REVS, None])), draw(money), Decimal(draw(st.integers(1, 5))), n)
                      for n in range(1, draw(st.integers(0, 4)) + 1))
        out.append(FacilityClaim(
            claim_key=f"F{c}", charge_amount=draw(st.integers(0, 30_000_000).map(lambda x: Decimal(x) / 100)),
            type_of_bill=draw(st.sampled_from(["111", "0111", "131", "121", "831", None])),
            drg_code=draw(st.sampled_from(["470", "871", "65", "999", None])), statement_from=start, statement_to=to,
            admission_date=draw(st.one_of(st.none(), st.just(dt.date(2024, 3, 1)))),
            patient_responsibility=draw(money), lines=lines))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(contract=facility_contracts(), fclaims=facility_claims(), data=st.data())
def test_facility_engine_equals_scalar_to_the_cent(contract, fclaims, data):
    from parley.domain.pricing_facility import expected_facility
    from parley.engine.facility import compile_facility, facility_sql, register

    tol = Tolerance(Decimal("1.00"), Decimal("1.0"))
    actual = [data.draw(money) for _ in fclaims]
    claims_t = pa.table({
        "claim_key": [c.claim_key for c in fclaims], "payer_id": ["P1"] * len(fclaims), "filing_indicator": ["12"] * len(fclaims),
        "type_of_bill": [c.type_of_bill for c in fclaims], "drg_code": [c.drg_code for c in fclaims],
        "statement_from": pa.array([c.statement_from for c in fclaims], pa.date32()),
        "statement_to": pa.array([c.statement_to for c in fclaims], pa.date32()),
        "admission_date": pa.array([c.admission_date for c in fclaims], pa.date32()),
        "charge_amount": pa.array([c.charge_amount for c in fclaims], pa.decimal128(14, 2)),
        "patient_responsibility": pa.array([c.patient_responsibility for c in fclaims], pa.decimal128(14, 2)),
        "actual_allowed": pa.array(actual, pa.decimal128(14, 2)), "denied": [False] * len(fclaims),
    })
    flat = [(c.claim_key, ln) for c in fclaims for ln in c.lines]
    lines_t = pa.table({
        "claim_key": pa.array([k for k, _ in flat], pa.string()),
        "revenue_code": pa.array([ln.revenue_code for _, ln in flat], pa.string()),
        "charge_amount": pa.array([ln.charge_amount for _, ln in flat], pa.decimal128(14, 2)),
        "units": pa.array([ln.units for _, ln in flat], pa.decimal128(12, 3)),
    })
    con = duckdb.connect()
    register(con, compile_facility([contract], {("P1", "12")}, until=dt.date(2026, 1, 31)))
    con.register("fc", claims_t)
    con.register("fl", lines_t)
    got = {k: (a, p, s) for k, a, p, s in con.execute(
        f"SELECT claim_key, expected_allowed, expected_paid, status FROM ({facility_sql('fc', 'fl', tol)})").fetchall()}
    con.close()
    for claim, act in zip(fclaims, actual, strict=True):
        e = expected_facility(claim, contract)
        a, p, s = got[claim.claim_key]
        assert a == e.expected_allowed, (claim, e.steps, a)
        assert p == e.expected_paid
        if e.expected_allowed is None:
            assert s == "not_priceable"
        else:
            assert s == classify(e.expected_allowed, act, tolerance_dollars=tol.dollars, tolerance_percent=tol.percent)
