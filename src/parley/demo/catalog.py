"""Static catalogue of the synthetic demo organisation: practice, providers, codes, payers.

Codes live in :mod:`parley.demo.codes` and payers in :mod:`parley.demo.payers`; this module
re-exports them so ``parley.demo.catalog`` is the one place to look things up.

Everything here is fictitious except public code sets (CPT/HCPCS codes shown as codes only,
ICD-10-CM, place of service, CARC/RARC codes) and the Medicare locality.  Names, NPIs and
TINs are invented; NPIs carry a valid Luhn check digit (prefix 80840) so validators accept them.
"""

from __future__ import annotations

from dataclasses import dataclass

from parley.demo.codes import (
    CARVE_OUT_REFERENCE_CENTS,
    CODE_INDEX,
    CODES,
    DIAGNOSES,
    EM_EST,
    EM_NEW,
    FACILITY_POS,
    TEMPLATES,
    CodeInfo,
    LineTpl,
    VisitTpl,
)
from parley.demo.payers import (
    DENIAL_CATEGORY,
    DENIAL_GROUP,
    DENIAL_RARC,
    LINE_LEVEL_CARCS,
    PAYER_INDEX,
    PAYERS,
    PayerSpec,
)
from parley.domain.identifiers import npi_check_digit, npi_is_valid

__all__ = [
    "CARVE_OUT_REFERENCE_CENTS",
    "CODES",
    "CODE_INDEX",
    "DENIAL_CATEGORY",
    "DENIAL_GROUP",
    "DENIAL_RARC",
    "DIAGNOSES",
    "EM_EST",
    "EM_NEW",
    "FACILITY_POS",
    "LINE_LEVEL_CARCS",
    "PATIENT_FIRST_F",
    "PATIENT_FIRST_M",
    "PATIENT_LAST",
    "PAYERS",
    "PAYER_INDEX",
    "PRACTICE",
    "PROVIDERS",
    "SPECIALTIES",
    "TEMPLATES",
    "CodeInfo",
    "LineTpl",
    "PayerSpec",
    "Practice",
    "Provider",
    "Specialty",
    "VisitTpl",
    "make_npi",
    "npi_check_digit",
    "npi_is_valid",
]


def make_npi(stem: int) -> str:
    """Build a fake, check-digit-valid NPI from an integer stem (first digit 1 or 2)."""
    first9 = f"{stem:09d}"
    return first9 + npi_check_digit(first9)


# --------------------------------------------------------------------------- practice


@dataclass(frozen=True)
class Practice:
    name: str = "CHELSEA MERIDIAN MEDICAL GROUP PC"
    npi: str = make_npi(199_401_233)
    tin: str = "135550123"  # fake EIN
    address: str = "225 W 29TH ST"
    city: str = "NEW YORK"
    state: str = "NY"
    zip9: str = "100015813"
    phone: str = "2125550142"
    submitter_id: str = "CMMG0001"
    # ZIP 10001 -> Medicare carrier 13202, pricing locality 01 (Manhattan), per ZIP5_OCT2025.
    medicare_carrier: str = "13202"
    medicare_locality: str = "01"

    @property
    def zip5(self) -> str:
        return self.zip9[:5]


PRACTICE = Practice()


# --------------------------------------------------------------------------- providers


@dataclass(frozen=True)
class Specialty:
    key: str
    label: str
    taxonomy: str
    n_providers: int
    visits_per_day: float  # relative claim volume per provider


SPECIALTIES: tuple[Specialty, ...] = (
    Specialty("pcp", "Family / internal medicine", "207Q00000X", 10, 1.00),
    Specialty("card", "Cardiology", "207RC0000X", 4, 0.80),
    Specialty("ortho", "Orthopaedic surgery", "207X00000X", 4, 0.75),
    Specialty("rad", "Diagnostic radiology", "2085R0202X", 3, 1.60),
    Specialty("gi", "Gastroenterology", "207RG0100X", 3, 0.55),
    Specialty("derm", "Dermatology", "207N00000X", 3, 0.90),
    Specialty("pt", "Physical therapy", "225100000X", 4, 0.95),
    Specialty("lab", "Clinical pathology / laboratory", "207ZP0102X", 2, 2.20),
)

_FIRST = (
    "AVERY",
    "JORDAN",
    "PRIYA",
    "MATEO",
    "HANNAH",
    "OLUWASEUN",
    "MEI",
    "RAFAEL",
    "SOFIA",
    "DANIEL",
    "AMARA",
    "KENJI",
    "ELENA",
    "SAMUEL",
    "LEILA",
    "THOMAS",
    "NADIA",
    "VIKRAM",
    "GRACE",
    "MARCUS",
    "ISABEL",
    "OWEN",
    "FATIMA",
    "LUCAS",
    "RUTH",
    "ANDRE",
    "YUKI",
    "CLARA",
    "DMITRI",
    "ZOE",
    "HUGO",
    "ESTHER",
    "IBRAHIM",
    "NORA",
    "PAOLO",
    "ADA",
)
_LAST = (
    "ABERNATHY",
    "BALOGUN",
    "CASTELLANOS",
    "DVORAK",
    "EKWUEME",
    "FONTAINE",
    "GALLAGHER",
    "HALVORSEN",
    "IYER",
    "JANSSEN",
    "KOWALCZYK",
    "LINDQVIST",
    "MORENO",
    "NAKAMURA",
    "OKONKWO",
    "PETERSEN",
    "QUINTERO",
    "RASMUSSEN",
    "SANTORO",
    "TANAKA",
    "UDDIN",
    "VALENTI",
    "WEXLER",
    "XIONG",
    "YILMAZ",
    "ZIMMERMAN",
    "ACHTERBERG",
    "BRENNAN",
    "CIFUENTES",
    "DESROSIERS",
    "ESPOSITO",
    "FAIRWEATHER",
    "GRUNWALD",
    "HOLLOWAY",
    "INGRAM",
    "JUAREZ",
)


@dataclass(frozen=True)
class Provider:
    index: int
    npi: str
    last: str
    first: str
    specialty: str
    taxonomy: str
    weight: float


def build_providers() -> tuple[Provider, ...]:
    out: list[Provider] = []
    i = 0
    for sp in SPECIALTIES:
        for k in range(sp.n_providers):
            npi = make_npi(174_020_000 + 7919 * (i + 1))
            w = sp.visits_per_day * (1.15 - 0.1 * (k % 4))
            out.append(
                Provider(
                    i,
                    npi,
                    _LAST[(i * 7) % len(_LAST)],
                    _FIRST[(i * 5) % len(_FIRST)],
                    sp.key,
                    sp.taxonomy,
                    w,
                )
            )
            i += 1
    return tuple(out)


PROVIDERS = build_providers()

PATIENT_FIRST_F = (
    "MARY",
    "LINDA",
    "SUSAN",
    "KAREN",
    "LISA",
    "ANA",
    "JOY",
    "ROSA",
    "ELLEN",
    "IRIS",
    "GWEN",
    "TESSA",
    "NINA",
    "OPAL",
    "VERA",
    "JUNE",
    "ALMA",
    "DORA",
)
PATIENT_FIRST_M = (
    "JAMES",
    "ROBERT",
    "DAVID",
    "KEVIN",
    "LUIS",
    "OMAR",
    "PAUL",
    "CARL",
    "EZRA",
    "IVAN",
    "NEIL",
    "ROSS",
    "SETH",
    "TODD",
    "VICTOR",
    "WADE",
    "AMOS",
    "BRUNO",
)
PATIENT_LAST = (
    "TESTPERSON",
    "SAMPLEMAN",
    "DEMOWITZ",
    "FICTIONAL",
    "MOCKINGTON",
    "SYNTHETICO",
    "PLACEHOLDER",
    "EXAMPLARIAN",
    "MADEUPSON",
    "NOTREAL",
    "PSEUDONYMA",
    "DUMMYFIELD",
    "INVENTIVA",
    "FAUXBERG",
    "IMAGINARIO",
    "DEMOLAND",
    "PRETENDSKI",
    "CONJURE",
)
