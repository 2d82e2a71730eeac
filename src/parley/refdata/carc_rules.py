"""Root-cause categories for Claim Adjustment Reason Codes (CARC).

Every CARC gets exactly one ``category`` from :data:`CATEGORIES` and a
``recoverable`` flag.  The result ships as ``refdata/data/codes/carc.csv``
(code, category, recoverable, rule) — codes and *our* labels only; X12's
description texts are read at build time to classify, and never shipped.

Rules, applied in order
-----------------------
1. **Explicit table** (:data:`OVERRIDES`, ``rule=override``).  Domain
   decisions for the common and the ambiguous codes, notably:

   * 1, 2, 3, 66, 126, 127, 142, 241, 247, 248, 36, 37, 201 -> patient_responsibility
   * 45, 42, 41, 43, 44, A2, 24, 104, 131, 253, 59 ... -> contractual.
     **59** ("processed based on multiple or concurrent procedure rules") is
     the payer applying MPPR / concurrent-anesthesia *pricing* rules: a
     payment-methodology reduction governed by the contract, not a coding
     error -> contractual (the repricer should check the percentage).
     **131** (claim-specific negotiated discount) is a negotiated rate
     reduction -> contractual.  **253** (sequestration) is a legislated
     reduction -> contractual.  Institutional pricing components (DRG weight,
     outliers, IME/DME/DSH, transfer amounts) -> contractual.
   * 16, 17, 125, 226, 227, 252, 250, 251, 163, 164, D1-D21 ... -> missing_information
   * 18, B13 -> duplicate
   * 22, 23, 19, 20, 21, 71, 99, A3, 109, B11, 136, 196, 275, 276, ... -> coordination_of_benefits
   * 26, 27, 28, 30-34, 177-180, 200, 140, 141, 166, 224, B9 ... -> eligibility.
     Eligibility also covers *provider* eligibility / enrollment / certification
     (8, 52, 170, 171, 183-185, 299, B7, B23, P16/W5): the list has no
     credentialing category and these are fixed the same way (correct the
     enrolment data and resubmit).
   * 29, B4, 138, 286 -> timely_filing
   * 50, 55, 56, 57, 150-154, 40, 58, 167, 188, B8, B19, 249, 261 -> medical_necessity
   * 46, 48, 49, 51, 96, 204, B1, 35, 119, 149, 242, 279 ... -> non_covered
   * 4-7, 9-12, 65, 97, 146, 181, 182, 189, 199, 231, 234, 236, B10, B14-B16,
     B18, A8, P14/W3 ... -> coding_bundling
   * 15, 62, 197, 198, 39, 38, 165, 210, 243, 284, 287, 288, 296, 302 -> authorization
   * 94, A1, 133, 63, 64, day/visit counts, refunds, taxes ... -> other

2. **Keyword rules** on X12's description (``rule=keyword:<word>``) for any
   code not in the table (new codes in a user-loaded list), first match wins:
   duplicate -> duplicate; time limit for filing / timely / late filing ->
   timely_filing; authoriz / precertification / referral -> authorization;
   medical necessity / level of service / experimental / investigational ->
   medical_necessity; prior payer / other payer / coordination of benefits /
   liability carrier / workers' compensation -> coordination_of_benefits;
   eligib / coverage terminated / not in effect -> eligibility; deductible /
   coinsurance / co-payment -> patient_responsibility; missing/incomplete/invalid
   -> missing_information (the usual RARC wording); included in the
   payment / bundl / inconsistent with / invalid / modifier / mutually
   exclusive -> coding_bundling; lacks / missing / not provided / incomplete /
   documentation / attachment -> missing_information; not covered /
   non-covered / benefit maximum / exclusion -> non_covered; fee schedule /
   contract / discount / negotiated -> contractual.
3. Otherwise ``other`` (``rule=default``).

Recoverable (fixable and resubmittable / appealable) rule
---------------------------------------------------------
By category: missing_information, coding_bundling, authorization (retro-
authorisation, corrected auth number), eligibility (corrected member or
provider data, bill the right coverage), coordination_of_benefits (bill the
primary / attach the prior payer's EOB) and medical_necessity (appeal with
records) are **recoverable**; contractual, patient_responsibility,
non_covered, duplicate, timely_filing and other are **final**.  Exceptions in
:data:`RECOVERABLE_OVERRIDES`: 55 (experimental / investigational) final;
147 (contract rate not on file) recoverable; 13 (date of death precedes
service) final; 224 (identity theft) final.
"""

from __future__ import annotations

import re

CATEGORIES: tuple[str, ...] = (
    "eligibility",
    "authorization",
    "medical_necessity",
    "coding_bundling",
    "timely_filing",
    "duplicate",
    "coordination_of_benefits",
    "non_covered",
    "missing_information",
    "contractual",
    "patient_responsibility",
    "other",
)

CATEGORY_LABELS: dict[str, str] = {
    "eligibility": "Patient coverage or provider eligibility",
    "authorization": "Prior authorization / referral",
    "medical_necessity": "Medical necessity / level of care",
    "coding_bundling": "Coding, modifier or bundling edit",
    "timely_filing": "Filing or appeal time limit",
    "duplicate": "Duplicate of a processed claim",
    "coordination_of_benefits": "Another payer is responsible (COB)",
    "non_covered": "Not a covered benefit",
    "missing_information": "Missing or invalid claim information",
    "contractual": "Contract / fee schedule pricing",
    "patient_responsibility": "Patient cost sharing",
    "other": "Other / informational",
}

RECOVERABLE_CATEGORIES = frozenset(
    {
        "missing_information",
        "coding_bundling",
        "authorization",
        "eligibility",
        "coordination_of_benefits",
        "medical_necessity",
    }
)


def _codes(spec: str) -> list[str]:
    return spec.split()


_TABLE: dict[str, str] = {
    "patient_responsibility": "1 2 3 36 37 66 126 127 142 201 241 247 248",
    "contractual": (
        "24 25 41 42 43 44 45 59 68 69 70 74 75 76 84 86 87 103 104 122 131 132 139 144 147 161 "
        "172 217 222 232 245 253 256 260 278 262 263 264 265 266 271 274 281 A2 A4 A5 "
        "P5 P12 P18 P19 P22 P23 P24 P25 P26 P28 P29 W1 W7 W8 Y2 Y3"
    ),
    "missing_information": (
        "14 16 17 107 110 112 125 129 148 163 164 173 174 175 176 206 207 208 226 227 250 "
        "251 252 267 268 B12 B17 D1 D2 D3 D4 D5 D6 D7 D8 D9 D10 D11 D12 D14 D15 D16 D17 "
        "D18 D19 D20 D21 P30"
    ),
    "duplicate": "18 B13",
    "coordination_of_benefits": (
        "19 20 21 22 23 71 99 109 136 168 191 196 214 215 228 254 270 275 276 280 289 290 291 "
        "292 297 298 300 301 303 304 305 A3 B11 D23 P2 P3 P4"
    ),
    "eligibility": (
        "8 13 26 27 28 30 31 32 33 34 52 120 140 141 166 170 171 177 178 179 180 183 184 185 "
        "200 224 238 239 257 258 277 283 299 B7 B9 B23 P6 218 P16 W5"
    ),
    "timely_filing": "29 138 286 B4",
    "medical_necessity": (
        "40 50 55 56 57 58 117 150 151 152 153 154 167 188 219 249 261 B8 B19 P15 P31 W4"
    ),
    "non_covered": (
        "35 46 48 49 51 53 54 60 73 78 96 106 108 111 113 114 119 149 157 158 159 160 169 "
        "202 204 211 212 233 242 246 269 272 273 279 A6 B1 B5 P20 W9"
    ),
    "coding_bundling": (
        "4 5 6 7 9 10 11 12 47 65 89 97 128 134 146 181 182 189 190 194 199 220 230 231 234 "
        "236 240 282 306 A8 B10 B14 B15 B16 B18 P7 P9 P14 W3"
    ),
    "authorization": "15 38 39 61 62 165 197 198 210 243 284 287 288 296 302 P17 W6",
    "other": (
        "63 64 67 72 77 79 80 81 82 83 85 88 90 91 92 93 94 95 98 100 101 102 105 115 116 "
        "118 121 123 124 130 133 135 137 143 145 155 156 162 186 187 192 193 195 203 205 "
        "209 213 216 221 223 225 229 235 237 244 255 259 285 293 294 295 A0 A1 A7 B2 B3 B6 "
        "B20 B21 B22 D13 D22 P1 P8 P10 P11 P13 P21 P27 P32 W2 Y1"
    ),
}

OVERRIDES: dict[str, str] = {}
for _cat, _spec in _TABLE.items():
    for _code in _codes(_spec):
        if _code in OVERRIDES:  # pragma: no cover - guarded by tests
            raise RuntimeError(f"CARC {_code} listed twice ({OVERRIDES[_code]}, {_cat})")
        OVERRIDES[_code] = _cat

RECOVERABLE_OVERRIDES: dict[str, bool] = {"55": False, "147": True, "13": False, "224": False}

KEYWORD_RULES: tuple[tuple[str, str], ...] = (
    ("duplicate", "duplicate"),
    ("time limit for filing", "timely_filing"),
    ("timely", "timely_filing"),
    ("late filing", "timely_filing"),
    ("authoriz", "authorization"),
    ("precertification", "authorization"),
    ("pre-certification", "authorization"),
    ("referral", "authorization"),
    ("medical necessity", "medical_necessity"),
    ("level of service", "medical_necessity"),
    ("experimental", "medical_necessity"),
    ("investigational", "medical_necessity"),
    ("coordination of benefits", "coordination_of_benefits"),
    ("prior payer", "coordination_of_benefits"),
    ("other payer", "coordination_of_benefits"),
    ("liability carrier", "coordination_of_benefits"),
    ("workers' compensation", "coordination_of_benefits"),
    ("eligib", "eligibility"),
    ("coverage terminated", "eligibility"),
    ("not in effect", "eligibility"),
    ("deductible", "patient_responsibility"),
    ("coinsurance", "patient_responsibility"),
    ("co-payment", "patient_responsibility"),
    ("missing/incomplete/invalid", "missing_information"),
    ("incomplete/invalid", "missing_information"),
    ("included in the payment", "coding_bundling"),
    ("bundl", "coding_bundling"),
    ("inconsistent with", "coding_bundling"),
    ("invalid", "coding_bundling"),
    ("modifier", "coding_bundling"),
    ("mutually exclusive", "coding_bundling"),
    ("lacks", "missing_information"),
    ("missing", "missing_information"),
    ("not provided", "missing_information"),
    ("incomplete", "missing_information"),
    ("documentation", "missing_information"),
    ("attachment", "missing_information"),
    ("not covered", "non_covered"),
    ("non-covered", "non_covered"),
    ("benefit maximum", "non_covered"),
    ("exclusion", "non_covered"),
    ("fee schedule", "contractual"),
    ("contract", "contractual"),
    ("discount", "contractual"),
    ("negotiated", "contractual"),
)


def normalize_code(code: str) -> str:
    """CARC as it appears in CAS segments: strip, upper-case, drop leading zeros of numbers."""
    c = code.strip().upper()
    return str(int(c)) if c.isdigit() else c


def classify(code: str, description: str | None = None) -> tuple[str, bool, str]:
    """Return (category, recoverable, rule) for one CARC."""
    c = normalize_code(code)
    if c in OVERRIDES:
        cat, rule = OVERRIDES[c], "override"
    else:
        cat, rule = "other", "default"
        text = (description or "").lower()
        # only the definition, not the "Usage:" boilerplate that mentions other codes
        text = re.split(r"\busage:|\bnote:", text)[0]
        for word, category in KEYWORD_RULES:
            if word in text:
                cat, rule = category, f"keyword:{word}"
                break
    recoverable = RECOVERABLE_OVERRIDES.get(c, cat in RECOVERABLE_CATEGORIES)
    return cat, recoverable, rule
