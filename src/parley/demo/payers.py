"""The demo's payers and product lines: contract method, denial behaviour, payment habits."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PayerSpec:
    key: str
    payer_name: str
    payer_id: str
    product_line: str
    claim_filing: str  # SBR09 / CLP06
    method: str  # fee_schedule | percent_of_medicare | percent_of_charges
    volume_share: float
    denial_rate: float
    denial_mix: tuple[tuple[str, float], ...]
    lag_days: tuple[int, int]  # typical min / max adjudication lag (days from submission)
    slow_share: float  # share of claims paid beyond prompt-pay days
    pays_interest: bool
    timely_filing_days: int
    prompt_pay_days: int
    pay_weekday: int  # 0 = Monday
    copay_cents: int  # office E/M copay
    coinsurance_pct: int
    deductible_cents: int
    member_prefix: str
    group_number: str
    age_band: tuple[int, int]
    escalator_pct: str = "0"
    anniversary: tuple[int, int] | None = None  # (month, day) of rate anniversaries
    pfs_year_basis: str = "service_year"  # "service_year" or a pinned year like "2024"
    base_factor_pct: str = "100"  # % of Medicare / % of charges / FS base vs Medicare 2024
    plants: tuple[str, ...] = ()
    recode_rate: float = 0.01
    appeal_overturn_rate: float = 0.35
    reversal_rate: float = 0.004
    recoup_rate: float = 0.0
    prior_auth_codes: tuple[str, ...] = ()
    lesser_of_billed: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def remit_filing(self) -> str:
        """CLP06: the 835 code set has no BL / CI (837 SBR09 does)."""
        return {"BL": "12", "CI": "15"}.get(self.claim_filing, self.claim_filing)


_DEN_COMMERCIAL = (
    ("27", 0.10),
    ("31", 0.05),
    ("197", 0.14),
    ("15", 0.04),
    ("50", 0.12),
    ("97", 0.14),
    ("B15", 0.05),
    ("29", 0.05),
    ("18", 0.10),
    ("22", 0.08),
    ("16", 0.13),
)
_PA_STANDARD = (
    "72148",
    "73721",
    "74177",
    "70450",
    "93306",
    "93015",
    "29881",
    "43239",
    "J0897",
    "97161",
    "97162",
)

PAYERS: tuple[PayerSpec, ...] = (
    PayerSpec(
        key="KNH-PPO",
        payer_name="KEYSTONE NATIONAL HEALTH",
        payer_id="KNH01",
        product_line="Commercial PPO",
        claim_filing="12",
        method="fee_schedule",
        volume_share=0.22,
        denial_rate=0.08,
        denial_mix=_DEN_COMMERCIAL,
        lag_days=(12, 28),
        slow_share=0.03,
        pays_interest=False,
        timely_filing_days=180,
        prompt_pay_days=30,
        pay_weekday=1,
        copay_cents=3000,
        coinsurance_pct=20,
        deductible_cents=50000,
        member_prefix="KNH",
        group_number="K7781200",
        age_band=(0, 64),
        escalator_pct="3",
        anniversary=(1, 1),
        base_factor_pct="142",
        plants=("underpay_codes",),
        recode_rate=0.012,
        recoup_rate=0.02,
        prior_auth_codes=_PA_STANDARD,
    ),
    PayerSpec(
        key="KNH-HMO",
        payer_name="KEYSTONE NATIONAL HEALTH",
        payer_id="KNH01",
        product_line="Commercial HMO",
        claim_filing="HM",
        method="percent_of_medicare",
        volume_share=0.12,
        denial_rate=0.11,
        denial_mix=_DEN_COMMERCIAL,
        lag_days=(10, 25),
        slow_share=0.02,
        pays_interest=False,
        timely_filing_days=120,
        prompt_pay_days=30,
        pay_weekday=1,
        copay_cents=2500,
        coinsurance_pct=0,
        deductible_cents=0,
        member_prefix="KNH",
        group_number="K7781300",
        age_band=(0, 64),
        base_factor_pct="125",
        recode_rate=0.015,
        prior_auth_codes=_PA_STANDARD + ("20610", "45378", "45380"),
    ),
    PayerSpec(
        key="SUM-PPO",
        payer_name="SUMMIT MUTUAL INSURANCE CO",
        payer_id="SMI77",
        product_line="Commercial PPO",
        claim_filing="12",
        method="percent_of_medicare",
        volume_share=0.15,
        denial_rate=0.09,
        denial_mix=_DEN_COMMERCIAL,
        lag_days=(20, 52),
        slow_share=0.35,
        pays_interest=False,
        timely_filing_days=90,
        prompt_pay_days=30,
        pay_weekday=3,
        copay_cents=3500,
        coinsurance_pct=20,
        deductible_cents=75000,
        member_prefix="SMM",
        group_number="SM40055",
        age_band=(0, 64),
        escalator_pct="3",
        anniversary=(7, 1),
        pfs_year_basis="2024",
        base_factor_pct="140",
        plants=("stale_escalator",),
        recoup_rate=0.03,
        prior_auth_codes=_PA_STANDARD,
    ),
    PayerSpec(
        key="HBS-PPO",
        payer_name="HUDSON BLUE CROSS BLUE SHIELD",
        payer_id="HBCBS",
        product_line="Commercial PPO (Blue)",
        claim_filing="BL",
        method="fee_schedule",
        volume_share=0.16,
        denial_rate=0.07,
        denial_mix=_DEN_COMMERCIAL,
        lag_days=(9, 24),
        slow_share=0.06,
        pays_interest=True,
        timely_filing_days=180,
        prompt_pay_days=30,
        pay_weekday=2,
        copay_cents=3000,
        coinsurance_pct=20,
        deductible_cents=60000,
        member_prefix="HBX",
        group_number="HB120099",
        age_band=(0, 64),
        escalator_pct="2.5",
        anniversary=(4, 1),
        base_factor_pct="150",
        recode_rate=0.008,
        prior_auth_codes=_PA_STANDARD,
    ),
    PayerSpec(
        key="LSA-MA",
        payer_name="LIBERTY SENIOR ADVANTAGE",
        payer_id="LSA55",
        product_line="Medicare Advantage HMO",
        claim_filing="16",
        method="percent_of_medicare",
        volume_share=0.18,
        denial_rate=0.12,
        denial_mix=(
            ("27", 0.06),
            ("31", 0.04),
            ("197", 0.20),
            ("15", 0.05),
            ("50", 0.18),
            ("97", 0.14),
            ("B15", 0.04),
            ("29", 0.03),
            ("18", 0.10),
            ("22", 0.08),
            ("16", 0.08),
        ),
        lag_days=(14, 35),
        slow_share=0.10,
        pays_interest=True,
        timely_filing_days=365,
        prompt_pay_days=30,
        pay_weekday=4,
        copay_cents=1500,
        coinsurance_pct=20,
        deductible_cents=0,
        member_prefix="LSA",
        group_number="LSA2026",
        age_band=(65, 92),
        base_factor_pct="102",
        plants=("unit_reduction",),
        recoup_rate=0.02,
        prior_auth_codes=_PA_STANDARD + ("97110", "97140", "97530", "45380"),
    ),
    PayerSpec(
        key="HCH-MCD",
        payer_name="HARBORVIEW COMMUNITY HEALTH PLAN",
        payer_id="HCH31",
        product_line="Managed Medicaid",
        claim_filing="MC",
        method="fee_schedule",
        volume_share=0.12,
        denial_rate=0.17,
        denial_mix=(
            ("27", 0.16),
            ("31", 0.10),
            ("197", 0.16),
            ("15", 0.04),
            ("50", 0.10),
            ("97", 0.10),
            ("B15", 0.03),
            ("29", 0.08),
            ("18", 0.06),
            ("22", 0.07),
            ("16", 0.10),
        ),
        lag_days=(25, 70),
        slow_share=0.55,
        pays_interest=True,
        timely_filing_days=90,
        prompt_pay_days=45,
        pay_weekday=0,
        copay_cents=0,
        coinsurance_pct=0,
        deductible_cents=0,
        member_prefix="HCH",
        group_number="MCD001",
        age_band=(0, 64),
        base_factor_pct="72",
        appeal_overturn_rate=0.25,
        recoup_rate=0.04,
        prior_auth_codes=_PA_STANDARD + ("20610", "20611"),
    ),
    PayerSpec(
        key="ATL-DTE",
        payer_name="ATLAS FREIGHT EMPLOYEE HEALTH PLAN",
        payer_id="ATLDE",
        product_line="Direct-to-employer",
        claim_filing="CI",
        method="percent_of_charges",
        volume_share=0.05,
        denial_rate=0.065,
        denial_mix=_DEN_COMMERCIAL,
        lag_days=(7, 20),
        slow_share=0.01,
        pays_interest=False,
        timely_filing_days=365,
        prompt_pay_days=30,
        pay_weekday=0,
        copay_cents=2000,
        coinsurance_pct=10,
        deductible_cents=25000,
        member_prefix="ATF",
        group_number="ATLAS01",
        age_band=(0, 64),
        escalator_pct="2",
        anniversary=(11, 1),
        base_factor_pct="60",
        recode_rate=0.0,
        prior_auth_codes=("29881", "72148", "73721"),
    ),
)

PAYER_INDEX = {p.key: i for i, p in enumerate(PAYERS)}

# RARCs that accompany each CARC on denials (LQ*HE)
DENIAL_RARC: dict[str, str] = {
    "27": "N30",
    "31": "N382",
    "197": "N54",
    "15": "M62",
    "50": "N115",
    "97": "M15",
    "B15": "M80",
    "29": "",
    "18": "N522",
    "22": "MA04",
    "16": "MA130",
}
DENIAL_GROUP: dict[str, str] = {"27": "PR", "22": "OA"}
DENIAL_CATEGORY: dict[str, str] = {
    "27": "eligibility",
    "31": "eligibility",
    "197": "authorization",
    "15": "authorization",
    "50": "medical_necessity",
    "97": "coding_bundling",
    "B15": "coding_bundling",
    "29": "timely_filing",
    "18": "duplicate",
    "22": "coordination_of_benefits",
    "16": "missing_information",
}
LINE_LEVEL_CARCS = frozenset({"50", "97", "B15"})
