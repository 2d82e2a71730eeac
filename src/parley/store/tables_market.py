"""Canonical table of market rates from price-transparency files (issue 7).

One table, ``market_rates``, holds every published rate Parley keeps, from
payers' Transparency-in-Coverage files (in-network rates and out-of-network
allowed amounts) and from hospitals' standard-charge files, so benchmarks read
one shape whatever the source (``source`` says which).

Import :mod:`parley.store.tables` (which registers this module's tables), not
this module directly.
"""

from __future__ import annotations

import pyarrow as pa

from parley.store.tables import _KEY, MONEY, Table, _f

MARKET_RATES = Table(
    "market_rates",
    "One row per published rate x provider: a payer's negotiated rate (TiC in-network), an "
    "out-of-network allowed amount (TiC allowed-amounts), or a hospital's payer-specific standard "
    "charge (hospital price transparency).  Kept only for the user's code basket and market.",
    pa.schema(
        [
            _KEY,
            _f(
                "rate_seq",
                pa.int64(),
                "the row's number within the file, unique per file: 0, 1, 2... when read in "
                "one process; with a process pool, batch number x 2^32 + row within the batch",
            ),
            _f("source", pa.string(), "tic-in-network, tic-allowed-amounts or hpt"),
            _f(
                "schema_version",
                pa.string(),
                "the file's schema version (TiC version, HPT version)",
            ),
            _f("last_updated_on", pa.date32(), "the file's last_updated_on date"),
            _f("payer_name", pa.string(), "TiC reporting_entity_name; HPT payer_name"),
            _f(
                "payer",
                pa.string(),
                "canonical payer from the payer-alias table at ingestion (docs/market.md); "
                "benchmarks re-resolve payer_name with the current table",
            ),
            _f(
                "reporting_entity_type",
                pa.string(),
                "TiC reporting_entity_type (health insurance issuer...)",
            ),
            _f("plan_name", pa.string(), "plan name (TiC single-plan files; HPT plan_name)"),
            _f("plan_id", pa.string(), "TiC plan_id (EIN or HIOS)"),
            _f("plan_id_type", pa.string(), "TiC plan_id_type: ein or hios"),
            _f("plan_market_type", pa.string(), "TiC plan_market_type: group or individual"),
            _f("issuer_name", pa.string(), "TiC issuer_name"),
            _f(
                "billing_code_type",
                pa.string(),
                "CPT, HCPCS, MS-DRG, RC, APC, NDC, ICD... (HPT: code type)",
            ),
            _f("billing_code_type_version", pa.string(), "code set version"),
            _f("billing_code", pa.string(), "the code"),
            _f("modifiers", pa.string(), "billing code modifiers, comma separated"),
            _f("negotiation_arrangement", pa.string(), "ffs, bundle or capitation (TiC)"),
            _f(
                "billing_class",
                pa.string(),
                "TiC billing class: professional, institutional or both",
            ),
            _f("setting", pa.string(), "inpatient, outpatient or both"),
            _f(
                "service_codes",
                pa.string(),
                "places of service the rate applies to, comma separated (CSTM-00 = all)",
            ),
            _f(
                "negotiated_type",
                pa.string(),
                "negotiated, derived, fee schedule, percentage, per diem, allowed amount; HPT: dollar, percentage, algorithm",
            ),
            _f("rate", MONEY, "the rate in dollars (a percent when negotiated_type is percentage)"),
            _f("expiration_date", pa.date32(), "TiC expiration_date (9999-12-31 = evergreen)"),
            _f("provider_npi", pa.string(), "the provider's NPI (HPT: the hospital's NPI)"),
            _f(
                "provider_tin",
                pa.string(),
                "the provider's TIN (digits only) or NPI when tin_type is npi",
            ),
            _f("tin_type", pa.string(), "ein or npi"),
            _f("billed_charge", MONEY, "TiC allowed-amounts billed charge; HPT gross charge"),
            _f("discounted_cash", MONEY, "HPT discounted cash price"),
            _f("minimum", MONEY, "HPT de-identified minimum negotiated charge"),
            _f("maximum", MONEY, "HPT de-identified maximum negotiated charge"),
            _f(
                "median_amount",
                MONEY,
                "HPT 3.0 median allowed amount (replaces the estimated amount)",
            ),
            _f("p10_amount", MONEY, "HPT 3.0 10th percentile allowed amount"),
            _f("p90_amount", MONEY, "HPT 3.0 90th percentile allowed amount"),
            _f(
                "claims_count",
                pa.string(),
                "HPT 3.0 count of allowed amounts (a number or '1 through 10')",
            ),
            _f("estimated_amount", MONEY, "HPT 2.x estimated allowed amount"),
            _f(
                "methodology",
                pa.string(),
                "HPT standard charge methodology (case rate, fee schedule, percent of total billed charges...)",
            ),
            _f("hospital_name", pa.string(), "HPT hospital name"),
            _f(
                "additional_information",
                pa.string(),
                "TiC additional_information / HPT additional notes",
            ),
        ]
    ),
)

TABLES = (MARKET_RATES,)
