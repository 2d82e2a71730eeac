"""Code catalogue of the demo: chargemaster, carve-out references, diagnoses, visit templates.

CPT codes appear as codes only (no AMA descriptors); HCPCS Level II, ICD-10-CM and place of
service codes are public.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CodeInfo:
    code: str
    modifier: str  # "" / "26" / "TC"
    kind: str  # em, prev, awv, proc, img, lab, drug, pt, inj
    chargemaster_cents: int  # unit charge (2026 chargemaster; earlier years scaled)
    ndc: str = ""
    ndc_units: str = ""  # CTP unit qualifier and quantity per HCPCS unit, e.g. "ML:1"


def _c(dollars: float) -> int:
    return int(round(dollars * 100))


# Unit charges: roughly 2.5-3x the 2025 Manhattan Medicare non-facility amount, whole dollars.
CODES: tuple[CodeInfo, ...] = (
    CodeInfo("99202", "", "em", _c(240)),
    CodeInfo("99203", "", "em", _c(365)),
    CodeInfo("99204", "", "em", _c(545)),
    CodeInfo("99205", "", "em", _c(720)),
    CodeInfo("99211", "", "em", _c(75)),
    CodeInfo("99212", "", "em", _c(185)),
    CodeInfo("99213", "", "em", _c(290)),
    CodeInfo("99214", "", "em", _c(410)),
    CodeInfo("99215", "", "em", _c(575)),
    CodeInfo("99384", "", "prev", _c(420)),
    CodeInfo("99385", "", "prev", _c(445)),
    CodeInfo("99386", "", "prev", _c(510)),
    CodeInfo("99387", "", "prev", _c(560)),
    CodeInfo("99394", "", "prev", _c(390)),
    CodeInfo("99395", "", "prev", _c(405)),
    CodeInfo("99396", "", "prev", _c(440)),
    CodeInfo("99397", "", "prev", _c(475)),
    CodeInfo("G0438", "", "awv", _c(560)),
    CodeInfo("G0439", "", "awv", _c(380)),
    CodeInfo("20610", "", "proc", _c(320)),
    CodeInfo("20611", "", "proc", _c(465)),
    CodeInfo("17110", "", "proc", _c(395)),
    CodeInfo("17000", "", "proc", _c(235)),
    CodeInfo("11102", "", "proc", _c(330)),
    CodeInfo("11104", "", "proc", _c(405)),
    CodeInfo("29881", "", "proc", _c(2650)),
    CodeInfo("45378", "", "proc", _c(1350)),
    CodeInfo("45380", "", "proc", _c(1700)),
    CodeInfo("43239", "", "proc", _c(1450)),
    CodeInfo("43235", "", "proc", _c(1150)),
    CodeInfo("93000", "", "proc", _c(85)),
    CodeInfo("93015", "", "proc", _c(295)),
    CodeInfo("93306", "", "img", _c(890)),
    CodeInfo("93306", "26", "img", _c(290)),
    CodeInfo("93880", "", "img", _c(870)),
    CodeInfo("96372", "", "inj", _c(75)),
    CodeInfo("71046", "", "img", _c(155)),
    CodeInfo("71046", "26", "img", _c(60)),
    CodeInfo("71046", "TC", "img", _c(105)),
    CodeInfo("73030", "", "img", _c(160)),
    CodeInfo("73030", "26", "img", _c(55)),
    CodeInfo("73562", "", "img", _c(175)),
    CodeInfo("72148", "", "img", _c(1050)),
    CodeInfo("72148", "26", "img", _c(310)),
    CodeInfo("72148", "TC", "img", _c(760)),
    CodeInfo("73721", "", "img", _c(1080)),
    CodeInfo("73721", "26", "img", _c(290)),
    CodeInfo("70450", "", "img", _c(560)),
    CodeInfo("70450", "26", "img", _c(180)),
    CodeInfo("74177", "", "img", _c(1480)),
    CodeInfo("74177", "26", "img", _c(380)),
    CodeInfo("74177", "TC", "img", _c(1120)),
    CodeInfo("77067", "", "img", _c(470)),
    CodeInfo("77067", "26", "img", _c(150)),
    CodeInfo("76700", "", "img", _c(540)),
    CodeInfo("80053", "", "lab", _c(42)),
    CodeInfo("85025", "", "lab", _c(32)),
    CodeInfo("83036", "", "lab", _c(40)),
    CodeInfo("80061", "", "lab", _c(55)),
    CodeInfo("84443", "", "lab", _c(68)),
    CodeInfo("36415", "", "lab", _c(18)),
    CodeInfo("J1885", "", "drug", _c(4), "00409379501", "ML:1"),
    CodeInfo("J3301", "", "drug", _c(12), "00003029305", "ML:0.25"),
    CodeInfo("J0897", "", "drug", _c(58), "55513071001", "ML:0.0167"),
    CodeInfo("J1100", "", "drug", _c(3), "63323016501", "ML:0.25"),
    CodeInfo("97161", "", "pt", _c(330)),
    CodeInfo("97162", "", "pt", _c(330)),
    CodeInfo("97110", "", "pt", _c(95)),
    CodeInfo("97140", "", "pt", _c(88)),
    CodeInfo("97530", "", "pt", _c(105)),
)

CODE_INDEX: dict[tuple[str, str], int] = {(c.code, c.modifier): i for i, c in enumerate(CODES)}

# Codes not priced from the Medicare PFS by percent-of-Medicare contracts (carve-outs):
# clinical lab (CLFS), Part B drugs (ASP), preventive visits (status N, not covered by Medicare).
# Reference amounts per unit: approximate 2025 CLFS national limits and ASP+0% per HCPCS unit.
CARVE_OUT_REFERENCE_CENTS: dict[str, int] = {
    "80053": 1056,
    "85025": 777,
    "83036": 971,
    "80061": 1339,
    "84443": 1680,
    "36415": 300,
    "J1885": 35,
    "J3301": 155,
    "J0897": 1930,
    "J1100": 11,
    # preventive: payer-set amounts (Medicare status N)
    "99384": 16800,
    "99385": 16400,
    "99386": 18900,
    "99387": 20600,
    "99394": 15200,
    "99395": 14800,
    "99396": 15900,
    "99397": 17100,
}

# --------------------------------------------------------------------------- diagnoses

DIAGNOSES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "pcp": (
        (
            "I10",
            "E119",
            "E785",
            "J069",
            "Z0000",
            "Z0001",
            "E6601",
            "F419",
            "M545",
            "J029",
            "E039",
            "K219",
            "R0789",
            "N390",
        ),
        (14, 12, 12, 8, 9, 4, 6, 6, 6, 5, 5, 5, 3, 5),
    ),
    "card": (
        ("I10", "I2510", "I480", "I5022", "R0789", "R002", "E785", "I350", "R0602"),
        (18, 16, 14, 10, 12, 8, 10, 6, 6),
    ),
    "ortho": (
        ("M1711", "M1712", "M25561", "M25562", "S83241A", "M7541", "M545", "M19011", "S92501A"),
        (14, 12, 10, 9, 10, 10, 14, 8, 4),
    ),
    "rad": (
        ("R0789", "M545", "R109", "R51", "Z1231", "M25561", "J189", "R0600", "S0990XA", "N200"),
        (10, 14, 12, 10, 16, 8, 8, 8, 6, 8),
    ),
    "gi": (
        ("Z1211", "K219", "K5790", "D125", "K921", "R1310", "K5900", "Z8601"),
        (24, 16, 12, 10, 8, 10, 8, 12),
    ),
    "derm": (
        ("L821", "L570", "B079", "D485", "L700", "L400", "C44311", "D225"),
        (18, 20, 14, 12, 10, 8, 6, 12),
    ),
    "pt": (
        ("M545", "M25561", "M6281", "M2551", "S83241D", "M7541", "Z9889", "M5416"),
        (20, 14, 12, 12, 8, 12, 10, 12),
    ),
    "lab": (
        ("E119", "E785", "I10", "Z0000", "E039", "D649", "R7303", "Z131"),
        (18, 16, 12, 14, 12, 10, 10, 8),
    ),
}

# --------------------------------------------------------------------------- visit templates
# A template is one claim: lines as (code, modifier, units choices, unit weights, probability
# that the line is present).  Code "EM_EST"/"EM_NEW"/"PREV" are resolved at generation time.


@dataclass(frozen=True)
class LineTpl:
    code: str
    modifier: str = ""
    units: tuple[int, ...] = (1,)
    unit_w: tuple[float, ...] = (1.0,)
    p: float = 1.0


@dataclass(frozen=True)
class VisitTpl:
    name: str
    weight: float
    pos: tuple[str, ...]
    pos_w: tuple[float, ...]
    lines: tuple[LineTpl, ...]
    visit_type: str
    new_patient: bool = False
    prior_auth: bool = False


_OFFICE = ("11", "02", "10")
_OFFICE_W = (0.90, 0.04, 0.06)
_FAC = ("22", "19", "21", "24")

TEMPLATES: dict[str, tuple[VisitTpl, ...]] = {
    "pcp": (
        VisitTpl(
            "est visit",
            50,
            _OFFICE,
            _OFFICE_W,
            (LineTpl("EM_EST"), LineTpl("36415", p=0.25), LineTpl("93000", p=0.05)),
            "office visit",
        ),
        VisitTpl(
            "new visit",
            8,
            ("11",),
            (1.0,),
            (LineTpl("EM_NEW"), LineTpl("36415", p=0.3)),
            "new patient visit",
            new_patient=True,
        ),
        VisitTpl(
            "preventive",
            14,
            ("11",),
            (1.0,),
            (LineTpl("PREV"), LineTpl("36415", p=0.5)),
            "preventive visit",
        ),
        VisitTpl(
            "injection",
            5,
            ("11",),
            (1.0,),
            (
                LineTpl("EM_EST", modifier="25"),
                LineTpl("96372"),
                LineTpl("J1885", units=(1, 2), unit_w=(0.8, 0.2)),
            ),
            "office visit",
        ),
        VisitTpl(
            "bone density",
            2,
            ("11",),
            (1.0,),
            (LineTpl("EM_EST", modifier="25"), LineTpl("96372"), LineTpl("J0897", units=(60,))),
            "office visit",
            prior_auth=True,
        ),
        VisitTpl("inpatient visit", 4, ("21",), (1.0,), (LineTpl("EM_EST"),), "hospital visit"),
    ),
    "card": (
        VisitTpl(
            "est visit",
            40,
            ("11", "10"),
            (0.93, 0.07),
            (LineTpl("EM_EST"), LineTpl("93000", p=0.35)),
            "office visit",
        ),
        VisitTpl(
            "new visit",
            10,
            ("11",),
            (1.0,),
            (LineTpl("EM_NEW"), LineTpl("93000", p=0.6)),
            "new patient visit",
            new_patient=True,
        ),
        VisitTpl("echo", 16, ("11",), (1.0,), (LineTpl("93306"),), "imaging", prior_auth=True),
        VisitTpl("echo read", 8, ("22", "21"), (0.6, 0.4), (LineTpl("93306", "26"),), "imaging"),
        VisitTpl("stress", 9, ("11",), (1.0,), (LineTpl("93015"),), "procedure", prior_auth=True),
        VisitTpl("carotid", 5, ("11",), (1.0,), (LineTpl("93880"),), "imaging"),
    ),
    "ortho": (
        VisitTpl(
            "est visit",
            34,
            ("11",),
            (1.0,),
            (LineTpl("EM_EST"), LineTpl("73030", p=0.12), LineTpl("73562", p=0.18)),
            "office visit",
        ),
        VisitTpl(
            "new visit",
            14,
            ("11",),
            (1.0,),
            (LineTpl("EM_NEW"), LineTpl("73562", p=0.4)),
            "new patient visit",
            new_patient=True,
        ),
        VisitTpl(
            "injection",
            20,
            ("11",),
            (1.0,),
            (
                LineTpl("EM_EST", modifier="25", p=0.5),
                LineTpl("20610", units=(1,)),
                LineTpl("J3301", units=(4, 8), unit_w=(0.6, 0.4)),
                LineTpl("J1100", units=(4, 8), unit_w=(0.5, 0.5), p=0.2),
            ),
            "procedure",
        ),
        VisitTpl(
            "small joint",
            5,
            ("11",),
            (1.0,),
            (LineTpl("20611"), LineTpl("J3301", units=(2, 4), unit_w=(0.5, 0.5))),
            "procedure",
        ),
        VisitTpl(
            "arthroscopy",
            6,
            ("24", "22"),
            (0.7, 0.3),
            (LineTpl("29881", modifier="RT"),),
            "surgery",
            prior_auth=True,
        ),
        VisitTpl("mri knee", 5, ("11",), (1.0,), (LineTpl("73721"),), "imaging", prior_auth=True),
    ),
    "rad": (
        VisitTpl("chest xray", 22, ("11", "22"), (0.6, 0.4), (LineTpl("71046"),), "imaging"),
        VisitTpl(
            "chest xray read",
            12,
            ("22", "23", "19"),
            (0.55, 0.3, 0.15),
            (LineTpl("71046", "26"),),
            "imaging",
        ),
        VisitTpl("chest xray tech", 3, ("11",), (1.0,), (LineTpl("71046", "TC"),), "imaging"),
        VisitTpl("mammo", 16, ("11",), (1.0,), (LineTpl("77067"),), "imaging"),
        VisitTpl("mammo read", 4, ("22",), (1.0,), (LineTpl("77067", "26"),), "imaging"),
        VisitTpl("mri lumbar", 8, ("11",), (1.0,), (LineTpl("72148"),), "imaging", prior_auth=True),
        VisitTpl("mri lumbar read", 4, ("22",), (1.0,), (LineTpl("72148", "26"),), "imaging"),
        VisitTpl(
            "mri lumbar tech",
            2,
            ("11",),
            (1.0,),
            (LineTpl("72148", "TC"),),
            "imaging",
            prior_auth=True,
        ),
        VisitTpl(
            "ct head read",
            7,
            ("23", "22", "19"),
            (0.55, 0.3, 0.15),
            (LineTpl("70450", "26"),),
            "imaging",
        ),
        VisitTpl("ct head", 3, ("11",), (1.0,), (LineTpl("70450"),), "imaging", prior_auth=True),
        VisitTpl("ct abd", 6, ("11",), (1.0,), (LineTpl("74177"),), "imaging", prior_auth=True),
        VisitTpl("ct abd read", 4, ("22",), (1.0,), (LineTpl("74177", "26"),), "imaging"),
        VisitTpl(
            "ct abd tech", 1, ("11",), (1.0,), (LineTpl("74177", "TC"),), "imaging", prior_auth=True
        ),
        VisitTpl("wrist", 5, ("11",), (1.0,), (LineTpl("73030"),), "imaging"),
        VisitTpl("wrist read", 2, ("22",), (1.0,), (LineTpl("73030", "26"),), "imaging"),
        VisitTpl("abd us", 5, ("11",), (1.0,), (LineTpl("76700"),), "imaging"),
    ),
    "gi": (
        VisitTpl("est visit", 30, ("11", "10"), (0.9, 0.1), (LineTpl("EM_EST"),), "office visit"),
        VisitTpl(
            "new visit",
            14,
            ("11",),
            (1.0,),
            (LineTpl("EM_NEW"),),
            "new patient visit",
            new_patient=True,
        ),
        VisitTpl("colonoscopy", 20, ("24", "22"), (0.75, 0.25), (LineTpl("45378"),), "procedure"),
        VisitTpl(
            "colonoscopy biopsy", 12, ("24", "22"), (0.75, 0.25), (LineTpl("45380"),), "procedure"
        ),
        VisitTpl(
            "egd biopsy",
            12,
            ("24", "22"),
            (0.75, 0.25),
            (LineTpl("43239"),),
            "procedure",
            prior_auth=True,
        ),
        VisitTpl("egd", 6, ("24", "22"), (0.75, 0.25), (LineTpl("43235"),), "procedure"),
    ),
    "derm": (
        VisitTpl("est visit", 34, ("11", "10"), (0.92, 0.08), (LineTpl("EM_EST"),), "office visit"),
        VisitTpl(
            "new visit",
            12,
            ("11",),
            (1.0,),
            (LineTpl("EM_NEW"),),
            "new patient visit",
            new_patient=True,
        ),
        VisitTpl(
            "destruction",
            18,
            ("11",),
            (1.0,),
            (LineTpl("EM_EST", modifier="25", p=0.4), LineTpl("17000"), LineTpl("17110", p=0.3)),
            "procedure",
        ),
        VisitTpl("warts", 10, ("11",), (1.0,), (LineTpl("17110"),), "procedure"),
        VisitTpl(
            "biopsy",
            16,
            ("11",),
            (1.0,),
            (LineTpl("EM_EST", modifier="25", p=0.5), LineTpl("11102"), LineTpl("11104", p=0.2)),
            "procedure",
        ),
    ),
    "pt": (
        VisitTpl(
            "eval",
            12,
            ("11",),
            (1.0,),
            (LineTpl("97161"), LineTpl("97110", units=(1, 2), unit_w=(0.5, 0.5))),
            "therapy evaluation",
            new_patient=True,
            prior_auth=True,
        ),
        VisitTpl(
            "eval moderate",
            6,
            ("11",),
            (1.0,),
            (LineTpl("97162"),),
            "therapy evaluation",
            new_patient=True,
            prior_auth=True,
        ),
        VisitTpl(
            "treatment",
            70,
            ("11", "02"),
            (0.97, 0.03),
            (
                LineTpl("97110", modifier="GP", units=(1, 2, 3, 4), unit_w=(0.15, 0.4, 0.35, 0.1)),
                LineTpl("97140", modifier="GP", units=(1, 2), unit_w=(0.7, 0.3), p=0.7),
                LineTpl("97530", modifier="GP", units=(1, 2, 3), unit_w=(0.4, 0.45, 0.15), p=0.5),
            ),
            "therapy visit",
        ),
    ),
    "lab": (
        VisitTpl(
            "panel",
            40,
            ("11",),
            (1.0,),
            (
                LineTpl("36415"),
                LineTpl("80053", p=0.7),
                LineTpl("85025", p=0.6),
                LineTpl("80061", p=0.45),
                LineTpl("83036", p=0.3),
                LineTpl("84443", p=0.3),
            ),
            "lab draw",
        ),
        VisitTpl(
            "a1c",
            20,
            ("11",),
            (1.0,),
            (LineTpl("36415"), LineTpl("83036"), LineTpl("80061", p=0.4)),
            "lab draw",
        ),
    ),
}

# E/M level distributions (established 99211-99215, new 99202-99205)
EM_EST = (("99211", 0.02), ("99212", 0.08), ("99213", 0.38), ("99214", 0.41), ("99215", 0.11))
EM_NEW = (("99202", 0.06), ("99203", 0.40), ("99204", 0.42), ("99205", 0.12))

# POS considered "facility" for the Medicare PFS site-of-service differential.  POS 02
# (telehealth outside the home) is paid at the facility rate; POS 10 (in the home) non-facility.
FACILITY_POS = frozenset({"02", "19", "21", "22", "23", "24"})
