"""The demo's market: price-transparency files for the demo organisation's payers and peers.

Deterministic from the demo's spec (seed, end date) and catalogue::

    market = write_demo_market(inputs / "market", DemoSpec(...))
    market.files          # TiC v2 in-network .json.gz per payer file, hospital CSVs
    market.tally          # what the generator wrote: rows per file, planted ghosts, duplicates

Written under ``out_dir`` (the price files in ``out_dir/prices/``, the folder to ingest):

* ``prices/tic_<payer>_<plan>.json.gz``: a Transparency-in-Coverage **v2.0.0** in-network
  rates file per demo payer (Keystone publishes two plans, PPO and HMO), listing
  negotiated rates for the demo's codes for the demo organisation (its group NPI
  and TIN: its current contract rate, a dollar amount or, for the percent-of-charges
  plan, a ``percentage``) and for 18-26 synthetic peer groups in the same market
  (Manhattan).  Each peer has a specialty (NUCC taxonomy), an organisation NPI and
  1-3 individual NPIs (Luhn-valid, prefix 80840) and publishes the codes its
  specialty bills, at a rate drawn lognormally around a payer-specific level
  (codes the demo performs only in a facility at the facility PFS amount, place of
  service 22 / 24).
  Real files' imperfections are planted and counted in the tally: rates for codes
  outside the demo's basket (skipped while reading), the same rates under both
  Keystone plans and a Summit group listed twice (``duplicate``), a $0.01
  placeholder and a decimal-shift (x100) rate (``implausible_vs_medicare``), a lab
  rate 40x the market (``outlier_vs_market``), and office visits / MRIs "published"
  for a physical-therapy group (``taxonomy_does_not_bill``, with the registry).
* ``prices/hpt_<hospital>_standardcharges.csv``: two hospitals' standard charges, CMS template 3.0.0 and
  2.2.0, tall, with payer names as hospitals write them (``KNH``, ``Hudson BCBS``,
  ``UHC``...), a revenue code paired with a CPT code, two plans of one payer at the
  same rate (``duplicate``).
* ``npi_registry.csv``: an NPI registry extract (npi, entity type, name, state,
  ZIP, taxonomy, TIN) of every NPI in the files, for ``--registry``.
* ``payer_aliases.csv``: the demo payers' spellings (``payer,alias``), the file a user
  puts in ``<workspace>/refdata/`` so market and remittance names meet.
* ``market_tally.json``: :attr:`DemoMarket.tally`.

The story follows how :mod:`parley.demo.payers` made each payer: the organisation
sits below the payer's market median with Keystone (a fee schedule at 142% of the
2024 PFS), Summit (pinned to the 2024 PFS, stale escalators) and Harborview
(Medicaid at 72%), and above it with Hudson Blue (150% plus escalators), Liberty
(Medicare Advantage at 102%, a little above its market) and Atlas (60% of charges,
against peers paid on reference-based fee schedules).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np

from parley.demo.catalog import (
    CARVE_OUT_REFERENCE_CENTS,
    CODES,
    PAYERS,
    PRACTICE,
    PROVIDERS,
    make_npi,
)
from parley.demo.codes import FACILITY_POS, TEMPLATES
from parley.demo.contracts import Contract, build_contracts
from parley.demo.generator import DemoSpec
from parley.demo.medicare import medicare_amount

CENT = Decimal("0.01")
MARKET_PFS_YEAR = 2025
EXPIRATION = "9999-12-31"
PRICES = "prices"  # the price-transparency files' folder under out_dir (what 'parley market ingest' reads)

#: market median / the organisation's own level, per contract (below 1: the org is above market)
MARKET_VS_ORG: dict[str, float] = {
    "KNH-PPO": 1.16,
    "KNH-HMO": 1.16,
    "SUM-PPO": 1.12,
    "HBS-PPO": 0.82,
    "LSA-MA": 0.92,
    "HCH-MCD": 1.10,
    "ATL-DTE": 0.80,
}
#: share of the peers in each payer's network
NETWORK_SHARE: dict[str, float] = {"KNH": 0.9, "SUM": 0.85, "HBS": 0.9, "LSA": 0.7, "HCH": 0.6, "ATL": 0.75}

#: how each payer is published: TiC reporting entity, plan, and how hospitals write it
PUBLISHED: dict[str, dict[str, str]] = {
    "KNH-PPO": {"entity": "Keystone National Health Insurance Company", "type": "health insurance issuer",
                "plan": "Keystone Choice PPO", "plan_id": "13882NY0040001", "id_type": "hios", "market": "group",
                "hospital": "KNH", "hospital_plan": "Commercial PPO"},
    "KNH-HMO": {"entity": "Keystone National Health Plan of New York, Inc.", "type": "health insurance issuer",
                "plan": "Keystone Select HMO", "plan_id": "13882NY0050002", "id_type": "hios", "market": "group",
                "hospital": "KNH", "hospital_plan": "Commercial HMO"},
    "SUM-PPO": {"entity": "Summit Mutual Insurance Company", "type": "health insurance issuer",
                "plan": "Summit Open Access PPO", "plan_id": "27110NY0010003", "id_type": "hios", "market": "group",
                "hospital": "Summit Mutual", "hospital_plan": "PPO"},
    "HBS-PPO": {"entity": "Hudson Blue Cross Blue Shield of New York", "type": "health insurance issuer",
                "plan": "Hudson Blue PPO", "plan_id": "40211NY0020001", "id_type": "hios", "market": "group",
                "hospital": "Hudson BCBS", "hospital_plan": "PPO"},
    "LSA-MA": {"entity": "Liberty Senior Advantage Health Plan, Inc.", "type": "health insurance issuer",
               "plan": "Liberty Senior Advantage HMO", "plan_id": "H3388-001", "id_type": "contract", "market": "individual",
               "hospital": "Liberty Senior Adv", "hospital_plan": "Medicare Advantage HMO"},
    "HCH-MCD": {"entity": "Harborview Community Health Plan of New York", "type": "health insurance issuer",
                "plan": "Harborview Medicaid Managed Care", "plan_id": "HCH-MMC-01", "id_type": "state", "market": "individual",
                "hospital": "Harborview CHP", "hospital_plan": "Medicaid Managed Care"},
    "ATL-DTE": {"entity": "Atlas Freight Employee Health Plan", "type": "group health plan",
                "plan": "Atlas Freight Employee Health Plan", "plan_id": "36-4417720", "id_type": "ein", "market": "group",
                "hospital": "Atlas Freight EHP", "hospital_plan": "Self-funded"},
}

#: the demo payers' spellings, as a user writes them in <workspace>/refdata/payer_aliases.csv
ALIASES: tuple[tuple[str, str], ...] = (
    ("KEYSTONE NATIONAL HEALTH", "keystone national"),
    ("KEYSTONE NATIONAL HEALTH", "knh"),
    ("SUMMIT MUTUAL INSURANCE CO", "summit mutual"),
    ("HUDSON BLUE CROSS BLUE SHIELD", "hudson blue cross"),
    ("HUDSON BLUE CROSS BLUE SHIELD", "hudson bcbs"),
    ("LIBERTY SENIOR ADVANTAGE", "liberty senior"),
    ("HARBORVIEW COMMUNITY HEALTH PLAN", "harborview"),
    ("ATLAS FREIGHT EMPLOYEE HEALTH PLAN", "atlas freight"),
)


@dataclass(frozen=True)
class PeerSpecialty:
    key: str
    label: str
    taxonomy: str  # individual NPIs
    kinds: tuple[str, ...]  # CodeInfo.kind billed
    codes: tuple[str, ...] = ()  # extra codes billed
    excludes: tuple[str, ...] = ()  # codes of its kinds it does not publish
    individuals: bool = True  # listed with individual NPIs (else its organisation NPI only)


PEER_SPECIALTIES: tuple[PeerSpecialty, ...] = (
    PeerSpecialty("pcp", "Primary Care", "207Q00000X", ("em", "prev", "awv", "inj"),
                  ("93000", "85025", "80053", "83036", "80061", "17110", "20610", "J1885", "J3301")),
    PeerSpecialty("im", "Internal Medicine", "207R00000X", ("em", "prev", "awv", "inj"), ("93000", "36415", "83036")),
    PeerSpecialty("card", "Cardiology", "207RC0000X", ("em",), ("93000", "93015", "93306", "93880")),
    PeerSpecialty("ortho", "Orthopaedics", "207X00000X", ("em",),
                  ("20610", "20611", "29881", "73030", "73562", "73721", "72148", "J1100", "J3301", "96372")),
    PeerSpecialty("rad", "Imaging", "2085R0202X", ("img",), ()),
    PeerSpecialty("gi", "Gastroenterology", "207RG0100X", ("em",), ("45378", "45380", "43239", "43235")),
    PeerSpecialty("derm", "Dermatology", "207N00000X", ("em",), ("17110", "17000", "11102", "11104")),
    PeerSpecialty("pt", "Physical Therapy", "225100000X", ("pt",), ()),
    # venipuncture (36415) is left to internists and groups: Parley's taxonomy table places it in the
    # cardiovascular-surgery range, which family medicine and laboratories do not bill
    PeerSpecialty("lab", "Laboratory", "291U00000X", ("lab",), (), ("36415",)),
    PeerSpecialty("multi", "Medical Group", "193200000X", ("em", "prev", "awv", "proc", "img", "lab", "drug", "pt", "inj"),
                  (), (), False),
)
#: peers per specialty (a Manhattan market of 18-26 groups, drawn from the seed)
PEER_MIX = ("pcp", "pcp", "pcp", "im", "im", "card", "card", "ortho", "ortho", "rad", "rad", "gi", "gi",
            "derm", "derm", "pt", "pt", "lab", "multi", "multi", "pcp", "card", "ortho", "rad", "gi", "multi")
_NAMES = ("Gramercy", "Murray Hill", "Kips Bay", "Tribeca", "Hudson Yards", "Flatiron", "Yorkville", "Lenox Hill",
          "Inwood", "Soho", "Battery Park", "Turtle Bay", "Union Square", "Columbus Circle", "Morningside",
          "Hamilton Heights", "Sutton Place", "Washington Heights", "Greenwich", "Nolita", "Carnegie Hill",
          "Stuyvesant", "Madison Square", "Bowery", "Astor Place", "Riverside Park")
#: codes in the payers' files that the demo does not bill (skipped by the basket)
OUTSIDE_BASKET = ("27447", "70551", "99283")

KIND_LABEL = {"em": "Office or outpatient visit", "prev": "Preventive medicine visit", "awv": "Annual wellness visit",
              "proc": "Procedure", "img": "Imaging", "lab": "Laboratory test", "drug": "Drug, per unit",
              "pt": "Physical therapy", "inj": "Injection"}
#: hospitals' outpatient prices vs the payer's professional market level
HOSPITAL_CODES: dict[str, float] = {
    "99203": 1.4, "99213": 1.4, "99214": 1.4, "71046": 2.2, "72148": 3.0, "73721": 3.0, "70450": 2.6, "74177": 2.8,
    "77067": 1.8, "93306": 2.2, "45378": 2.0, "45380": 2.0, "43239": 2.0, "29881": 2.4, "80053": 2.0,
    "85025": 2.0, "80061": 2.0,
}
HOSPITALS = (
    {"key": "lower-manhattan", "name": "Lower Manhattan Community Hospital", "version": "3.0.0", "npi_stems": (197_330_101, 197_330_202),
     "license": "330101|NY", "address": "170 William St, New York, NY 10038", "factor": 1.0},
    {"key": "st-brendan", "name": "St. Brendan Medical Center", "version": "2.2.0", "npi_stems": (197_450_303,),
     "license": "330455|NY", "address": "460 W 34th St, New York, NY 10001", "factor": 1.15},
)
HOSPITAL_EXTRA_PAYERS = (("UHC", "Choice Plus"), ("Aetna Life Insurance Company", "Open Access"),
                         ("Empire BCBS", "PPO"), ("Cigna", "OAP"))


@dataclass
class Peer:
    index: int
    name: str
    specialty: PeerSpecialty
    tin: str
    org_npi: str
    npis: tuple[str, ...]  # individual NPIs
    factor: float  # the group's negotiating strength (lognormal)

    @property
    def all_npis(self) -> tuple[str, ...]:
        return (self.org_npi, *self.npis)

    def bills(self, code: str, kind: str) -> bool:
        sp = self.specialty
        return (kind in sp.kinds or code in sp.codes) and code not in sp.excludes


@dataclass
class DemoMarket:
    out_dir: Path
    files: list[Path] = field(default_factory=list)
    registry: Path | None = None
    aliases: Path | None = None
    codes: tuple[str, ...] = ()
    tally: dict[str, Any] = field(default_factory=dict)


def _rng(seed: int, label: str) -> np.random.Generator:
    h = int.from_bytes(hashlib.sha256(f"{seed}|market|{label}".encode()).digest()[:8], "big")
    return np.random.default_rng(h)


def _money(x: float | Decimal) -> Decimal:
    return Decimal(str(x)).quantize(CENT, rounding=ROUND_HALF_UP)


def _tin(t: str) -> str:
    return f"{t[:2]}-{t[2:]}"


def demo_codes() -> tuple[str, ...]:
    """The demo's billed codes (its chargemaster, without modifiers)."""
    return tuple(dict.fromkeys(c.code for c in CODES))


def facility_codes() -> frozenset[str]:
    """Codes the demo bills only in a facility (endoscopy, arthroscopy): priced at the facility PFS amount."""
    sites: dict[str, set[bool]] = {}
    for templates in TEMPLATES.values():
        for t in templates:
            for line in t.lines:
                sites.setdefault(line.code, set()).update(p in FACILITY_POS for p, w in zip(t.pos, t.pos_w, strict=True) if w)
    return frozenset(c for c, s in sites.items() if s == {True})


def _kind(code: str) -> str:
    return next(c.kind for c in CODES if c.code == code)


def _org_rates(spec: DemoSpec) -> tuple[dict[str, dict[str, Decimal]], dict[str, Decimal]]:
    """The organisation's current rate per contract and code (non-facility), and % of charges."""
    last = spec.end_date.year * 12 + spec.end_date.month - 1 - (spec.months - 1)
    start = date(last // 12, last % 12 + 1, 1)
    contracts: list[Contract] = build_contracts(start, spec.end_date)
    rates: dict[str, dict[str, Decimal]] = {}
    pct: dict[str, Decimal] = {}
    for c in contracts:
        period = c.periods[-1]
        if c.payer.method == "percent_of_charges":
            pct[c.payer.key] = period.percent
            rates[c.payer.key] = {
                code.code: _money(Decimal(code.chargemaster_cents) / 100 * period.percent / 100)
                for code in CODES if code.modifier == ""
            }
            continue
        fac = facility_codes()
        rates[c.payer.key] = {
            code.code: Decimal(f if code.code in fac else nf) / 100
            for code, (nf, f) in zip(CODES, period.unit_cents, strict=True) if code.modifier == ""
        }
    return rates, pct


def _medicare() -> dict[str, Decimal]:
    """Medicare for the practice's locality at the site the demo bills each code (PFS codes only)."""
    fac = facility_codes()
    return {c: medicare_amount(c, "", MARKET_PFS_YEAR, c in fac) for c in demo_codes() if c not in CARVE_OUT_REFERENCE_CENTS}


def _peers(seed: int) -> list[Peer]:
    rng = _rng(seed, "peers")
    n = int(rng.integers(18, 27))
    spec_by_key = {s.key: s for s in PEER_SPECIALTIES}
    peers = []
    for i in range(n):
        sp = spec_by_key[PEER_MIX[i]]
        k = int(rng.integers(1, 4)) if sp.individuals else 0
        npis = tuple(make_npi(165_200_000 + 7_717 * (i * 4 + j + 1)) for j in range(k))
        peers.append(Peer(
            index=i, name=f"{_NAMES[i]} {sp.label} {'PLLC' if sp.key in ('pt', 'lab') else 'PC'}".upper(),
            specialty=sp, tin=f"{821_000_000 + 104_729 * (i + 1)}", org_npi=make_npi(158_100_000 + 6_113 * (i + 1)),
            npis=npis, factor=float(np.exp(rng.normal(0.0, 0.13))),
        ))
    return peers


def _levels(org: dict[str, dict[str, Decimal]], mcr: dict[str, Decimal]) -> dict[str, float]:
    """Each contract's own level: the median of its rate / Medicare over the PFS codes."""
    out = {}
    for key, rates in org.items():
        ratios = [float(rates[c] / mcr[c]) for c in mcr if rates.get(c) and mcr[c] > 0]
        out[key] = float(np.median(ratios))
    return out


def _center(key: str, code: str, org: dict[str, dict[str, Decimal]], mcr: dict[str, Decimal],
            level: dict[str, float]) -> float:
    """The payer's market median for a code (dollars)."""
    if code in mcr:
        return float(mcr[code]) * level[key] * MARKET_VS_ORG[key]
    if key == "ATL-DTE":  # peers on reference-based pricing: ASP + 25%, 150% of the lab fee schedule
        ref = CARVE_OUT_REFERENCE_CENTS[code] / 100
        return ref * (1.25 if code.startswith("J") else 1.5 if not code.startswith("99") else 1.0)
    return float(org[key][code]) * MARKET_VS_ORG[key]


def write_demo_market(out_dir: Path, spec: DemoSpec) -> DemoMarket:
    """Write the demo market's files under ``out_dir`` (see the module doc); byte-identical per spec."""
    root = Path(out_dir)
    out = root / PRICES
    out.mkdir(parents=True, exist_ok=True)
    org, pct = _org_rates(spec)
    mcr = _medicare()
    level = _levels(org, mcr)
    peers = _peers(spec.seed)
    codes = demo_codes()
    updated = date(spec.end_date.year, spec.end_date.month, 1).isoformat()
    market = DemoMarket(root, codes=codes)
    tally: dict[str, Any] = {"files": {}, "ghosts": [], "duplicates": 0, "peers": len(peers),
                             "peer_npis": sum(len(p.all_npis) for p in peers), "codes": list(codes),
                             "org_vs_market": {}}
    # peers' per-payer rates (shared by the two Keystone plans, so the HMO file repeats them)
    peer_rates: dict[str, dict[tuple[int, str], Decimal]] = {}
    for payer in PAYERS:
        key = payer.key
        fam = key.split("-")[0]
        rng = _rng(spec.seed, f"rates|{fam if fam == 'KNH' else key}")
        net = _rng(spec.seed, f"network|{fam}")
        in_net = [p for p in peers if net.random() < NETWORK_SHARE[fam]]
        rates: dict[tuple[int, str], Decimal] = {}
        for p in in_net:
            for code in codes:
                if p.bills(code, _kind(code)):
                    base = _center(key if fam != "KNH" else "KNH-PPO", code, org, mcr, level)
                    rates[(p.index, code)] = _money(base * p.factor * float(np.exp(rng.normal(0.0, 0.05))))
        peer_rates[key] = rates
        tally["org_vs_market"][key] = "below" if MARKET_VS_ORG[key] > 1 else "above"
    for payer in PAYERS:
        path, info = _write_tic(out, payer.key, spec, org, pct, peers, peer_rates, updated, mcr, tally)
        market.files.append(path)
        tally["files"][path.name] = info
    for h in HOSPITALS:
        path, info = _write_hospital(out, h, spec, peer_rates, updated, tally)
        market.files.append(path)
        tally["files"][path.name] = info
    market.registry = _write_registry(root / "npi_registry.csv", peers)
    market.aliases = _write_aliases(root / "payer_aliases.csv")
    tally["rows"] = sum(f["rows"] for f in tally["files"].values())
    tally["rows_outside_basket"] = sum(f["rows_outside_basket"] for f in tally["files"].values())
    market.tally = tally
    (root / "market_tally.json").write_text(json.dumps(tally, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return market


def _price(rate: Decimal | str, *, kind: str = "negotiated", facility: bool = False) -> dict[str, Any]:
    return {"negotiated_type": kind, "negotiated_rate": float(rate), "expiration_date": EXPIRATION,
            "service_code": ["22", "24"] if facility else ["11"], "billing_class": "professional", "setting": "outpatient"}


def _write_tic(out: Path, key: str, spec: DemoSpec, org: dict[str, dict[str, Decimal]], pct: dict[str, Decimal],
               peers: list[Peer], peer_rates: dict[str, dict[tuple[int, str], Decimal]], updated: str,
               mcr: dict[str, Decimal], tally: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
    pub = PUBLISHED[key]
    rng = _rng(spec.seed, f"tic|{key}")
    rates = peer_rates["KNH-PPO" if key.startswith("KNH") else key]
    if key == "KNH-HMO":  # the HMO network: most groups at the PPO rates (duplicates), some 8% lower
        lower = {p.index for p in peers if rng.random() < 0.3}
        rates = {(i, c): (_money(r * Decimal("0.92")) if i in lower else r) for (i, c), r in rates.items()}
    in_net = sorted({i for i, _c in rates})
    by_index = {p.index: p for p in peers}
    refs: list[dict[str, Any]] = [{
        "provider_group_id": 1, "network_name": [pub["plan"]],
        "provider_groups": [{"npi": [int(PRACTICE.npi)], "tin": {"type": "ein", "value": _tin(PRACTICE.tin),
                                                                  "business_name": PRACTICE.name}}]}]
    for i in in_net:
        p = by_index[i]
        refs.append({"provider_group_id": i + 2, "network_name": [pub["plan"]],
                     "provider_groups": [{"npi": [int(n) for n in p.all_npis],
                                          "tin": {"type": "ein", "value": _tin(p.tin), "business_name": p.name}}]})
    # Summit lists two groups twice (a second network name): the same rates again
    twice = list(in_net[:2]) if key == "SUM-PPO" else []
    for n, i in enumerate(twice):
        p = by_index[i]
        refs.append({"provider_group_id": 900 + n, "network_name": ["Summit Value Network"],
                     "provider_groups": [{"npi": [int(x) for x in p.all_npis],
                                          "tin": {"type": "ein", "value": _tin(p.tin), "business_name": p.name}}]})
    rows = outside = dups = 0
    items = []
    own = org[key]
    percent = pct.get(key)
    ghosts = _ghost_plan(key, peers, in_net, rates, mcr)
    fac = facility_codes()
    for code in (*tally["codes"], *OUTSIDE_BASKET):
        kind = _kind(code) if code not in OUTSIDE_BASKET else "proc"
        site = code in fac
        negotiated: list[dict[str, Any]] = []
        n_rows = 0
        if code not in OUTSIDE_BASKET:
            if percent is not None:
                negotiated.append({"provider_references": [1], "negotiated_prices": [_price(percent, kind="percentage", facility=site)]})
            else:
                negotiated.append({"provider_references": [1], "negotiated_prices": [_price(own[code], facility=site)]})
            n_rows += 1
        for i in in_net:
            r = rates.get((i, code))
            if r is None and code in OUTSIDE_BASKET and by_index[i].specialty.key in ("ortho", "rad", "multi"):
                r = _money(1000 + 37 * i)
            if r is None:
                continue
            negotiated.append({"provider_references": [i + 2], "negotiated_prices": [_price(r, facility=site)]})
            n_rows += len(by_index[i].all_npis)
            if i in twice:
                negotiated.append({"provider_references": [900 + twice.index(i)], "negotiated_prices": [_price(r, facility=site)]})
                n_rows += len(by_index[i].all_npis)
                if code not in OUTSIDE_BASKET:
                    dups += len(by_index[i].all_npis)
        for g in ghosts.get(code, []):
            p = by_index[g["peer"]]
            refs.append({"provider_group_id": 1000 + len(refs), "network_name": [pub["plan"]],
                         "provider_groups": [{"npi": [int(g["npi"])],
                                              "tin": {"type": "ein", "value": _tin(p.tin), "business_name": p.name}}]})
            negotiated.append({"provider_references": [refs[-1]["provider_group_id"]],
                               "negotiated_prices": [_price(g["rate"])]})
            n_rows += 1
            tally["ghosts"].append({"file": "", "payer": key, "payer_name": pub["entity"], "npi": g["npi"], "code": code, "rate": str(g["rate"]),
                                    "expect": g["expect"]})
        if not negotiated:
            continue
        if code in OUTSIDE_BASKET:
            outside += n_rows
        else:
            rows += n_rows
        items.append({"negotiation_arrangement": "ffs", "name": f"{KIND_LABEL[kind]} {code}",
                      "billing_code_type": "HCPCS" if code[0].isalpha() else "CPT",
                      "billing_code_type_version": str(spec.end_date.year), "billing_code": code,
                      "description": f"{KIND_LABEL[kind]} ({code})", "negotiated_rates": negotiated})
    if key == "KNH-HMO":  # peers (and by chance the org) at the PPO rate: the same rate under a second plan
        ppo = peer_rates["KNH-PPO"]
        cross = sum(len(by_index[i].all_npis) for (i, c), r in rates.items() if ppo.get((i, c)) == r)
        cross += sum(1 for c in tally["codes"] if org["KNH-PPO"][c] == own[c])
        dups += cross
    tally["duplicates"] += dups
    doc = {"reporting_entity_name": pub["entity"], "reporting_entity_type": pub["type"], "plan_name": pub["plan"],
           "plan_id_type": pub["id_type"], "plan_id": pub["plan_id"], "plan_market_type": pub["market"],
           "issuer_name": pub["entity"], "plan_sponsor_name": pub["entity"], "last_updated_on": updated,
           "version": "2.0.0", "provider_references": refs, "in_network": items}
    name = f"tic_{key.lower()}.json.gz"
    for g in tally["ghosts"]:
        if not g["file"] and g["payer"] == key:
            g["file"] = name
    path = out / name
    raw = json.dumps(doc, separators=(",", ":")).encode()
    path.write_bytes(gzip.compress(raw, compresslevel=6, mtime=0))
    return path, {"kind": "tic", "contract": key, "payer_name": pub["entity"], "plan": pub["plan"], "rows": rows,
                  "rows_outside_basket": outside, "duplicates": dups, "bytes": len(raw)}


def _ghost_plan(key: str, peers: list[Peer], in_net: list[int], rates: dict[tuple[int, str], Decimal],
                mcr: dict[str, Decimal]) -> dict[str, list[dict[str, Any]]]:
    """Planted ghost / implausible rates of one file: code -> rows (one NPI each)."""
    if not in_net or key == "KNH-HMO":  # the HMO file repeats the PPO's rates; its ghosts would be duplicates
        return {}
    by_index = {p.index: p for p in peers}
    out: dict[str, list[dict[str, Any]]] = {}

    def add(code: str, peer: Peer, npi: str, rate: Decimal, expect: str) -> None:
        out.setdefault(code, []).append({"peer": peer.index, "npi": npi, "rate": rate, "expect": expect})

    first = by_index[in_net[0]]
    # a $0.01 placeholder and a decimal-shift typo on an office visit
    add("99213", first, first.all_npis[-1], Decimal("0.01"), "implausible_vs_medicare")
    if key in ("KNH-PPO", "HBS-PPO", "SUM-PPO"):
        add("99214", first, first.all_npis[0], _money(mcr["99214"] * 100 * Decimal("1.4")), "implausible_vs_medicare")
    # a laboratory rate 40x the market (no Medicare PFS amount: judged against the market median)
    labs = [i for i in in_net if (i, "80053") in rates]
    if labs and key in ("KNH-PPO", "HCH-MCD", "ATL-DTE"):
        p = by_index[labs[0]]
        add("80053", p, p.all_npis[-1], _money(rates[(p.index, "80053")] * 40), "outlier_vs_market")
    # a physical-therapy group "publishing" an office visit and an MRI (the classic ghost rate)
    pts = [by_index[i] for i in in_net if by_index[i].specialty.key == "pt"]
    if pts:
        p = pts[0]
        add("99214", p, p.npis[0], _money(mcr["99214"] * Decimal("1.5")), "taxonomy_does_not_bill")
        add("72148", p, p.npis[0], _money(mcr["72148"] * Decimal("1.5")), "taxonomy_does_not_bill")
    return out


def _write_hospital(out: Path, h: dict[str, Any], spec: DemoSpec, peer_rates: dict[str, dict[tuple[int, str], Decimal]],
                    updated: str, tally: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
    rng = _rng(spec.seed, f"hpt|{h['key']}")
    npis = " | ".join(make_npi(s) for s in h["npi_stems"])
    v3 = h["version"].startswith("3")
    general = ["hospital_name", "last_updated_on", "version", "location_name", "hospital_address",
               f"license_number | {h['license'].split('|')[1]}", "type_2_npi"]
    values = [h["name"], updated, h["version"], h["name"], h["address"], h["license"].split("|")[0], npis]
    if v3:
        general += ["attestation", "attester_name"]
        values += ["true", "Compliance Officer"]
    header = ["description", "code | 1", "code | 1 | type", "code | 2", "code | 2 | type", "setting",
              "drug_unit_of_measurement", "drug_type_of_measurement", "standard_charge | gross",
              "standard_charge | discounted_cash", "payer_name", "plan_name", "modifiers",
              "standard_charge | negotiated_dollar", "standard_charge | negotiated_percentage",
              "standard_charge | negotiated_algorithm"]
    header += (["median_amount", "10th_percentile", "90th_percentile", "count"] if v3 else ["estimated_amount"])
    header += ["standard_charge | min", "standard_charge | max", "standard_charge | methodology", "additional_generic_notes"]
    rows: list[list[str]] = []
    n_rows = dups = 0
    payers: list[tuple[str, str, str | None]] = [(PUBLISHED[p.key]["hospital"], PUBLISHED[p.key]["hospital_plan"], p.key)
                                                 for p in PAYERS]
    payers += [(n, plan, None) for n, plan in HOSPITAL_EXTRA_PAYERS]
    for code, mult in HOSPITAL_CODES.items():
        kind = _kind(code)
        prices: list[tuple[str, str, Decimal]] = []
        for pname, plan, key in payers:
            ref = peer_rates["KNH-PPO" if key and key.startswith("KNH") else key] if key else peer_rates["KNH-PPO"]
            vals = [float(r) for (_i, c), r in ref.items() if c == code] or [float(r) for (_i, c), r in peer_rates["KNH-PPO"].items() if c == code]
            if not vals:
                continue
            base = float(np.median(vals)) * mult * h["factor"] * float(np.exp(rng.normal(0.0, 0.06)))
            if key == "HCH-MCD":
                base *= 0.8
            prices.append((pname, plan, _money(base)))
        if not prices:
            continue
        gross = _money(max(p for _n, _pl, p in prices) * Decimal("2.4"))
        cash = _money(gross * Decimal("0.55"))
        lo, hi = min(p for *_x, p in prices), max(p for *_x, p in prices)
        rc = "0320" if kind == "img" else ("0300" if kind == "lab" else ("0510" if kind == "em" else "0360"))
        for pname, plan, price in prices:
            row = [f"{KIND_LABEL[kind]} {code}", rc, "RC", code, "HCPCS" if code[0].isalpha() else "CPT", "outpatient",
                   "", "", str(gross), str(cash), pname, plan, "", str(price), "", ""]
            row += (["", "", "", ""] if v3 else [""])
            row += [str(lo), str(hi), "fee schedule", ""]
            rows.append(row)
            n_rows += 1
            if pname == "KNH" and plan == "Commercial PPO":  # the same charge listed for KNH's EPO plan
                dup = list(row)
                dup[11] = "Commercial EPO"
                rows.append(dup)
                n_rows += 1
                dups += 1
    tally["duplicates"] += dups
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(general)
    w.writerow(values)
    w.writerow(header)
    w.writerows(rows)
    path = out / f"hpt_{h['key']}_standardcharges.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    # every item also carries a revenue code (code | 1), outside the basket: one skipped row per item
    return path, {"kind": "hpt", "hospital": h["name"], "version": h["version"], "rows": n_rows,
                  "rows_outside_basket": n_rows, "duplicates": dups, "bytes": len(buf.getvalue())}


def _write_registry(path: Path, peers: list[Peer]) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["npi", "entity_type", "name", "state", "zip", "taxonomy", "tin"])
    w.writerow([PRACTICE.npi, "2", PRACTICE.name, PRACTICE.state, PRACTICE.zip5, "193200000X", PRACTICE.tin])
    for pr in PROVIDERS:
        w.writerow([pr.npi, "1", f"{pr.last}, {pr.first}", PRACTICE.state, PRACTICE.zip5, pr.taxonomy, PRACTICE.tin])
    for i, p in enumerate(peers):
        zip5 = f"100{(i * 7) % 40 + 10:02d}"
        org_taxonomy = "291U00000X" if p.specialty.key == "lab" else ("193400000X" if p.specialty.individuals else p.specialty.taxonomy)
        w.writerow([p.org_npi, "2", p.name, "NY", zip5, org_taxonomy, p.tin])
        for n in p.npis:
            w.writerow([n, "1", f"{p.name} clinician", "NY", zip5, p.specialty.taxonomy, p.tin])
    for h in HOSPITALS:
        for s in h["npi_stems"]:
            w.writerow([make_npi(s), "2", h["name"], "NY", h["address"][-5:], "282N00000X", ""])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _write_aliases(path: Path) -> Path:
    lines = ["# The demo payers as written in price-transparency files and hospitals' files;",
             "# copy to <workspace>/refdata/payer_aliases.csv (parley demo does) - see docs/market.md.",
             "payer,alias"]
    lines += [f"{p},{a}" for p, a in ALIASES]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
