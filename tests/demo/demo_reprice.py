"""An independent repricer driven only by contracts.json (used to check the ground truth)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")


def rhu(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


class Repricer:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.facility_pos = set(doc["pricing"]["facility_pos"])
        self.pricing_mods = set(doc["pricing"]["pricing_modifiers"])
        self.mcr = {
            (int(y), r["code"], r["modifier"], site): Decimal(r[site])
            for y, rows in doc["medicare_reference"].items()
            for r in rows
            for site in ("facility", "non_facility")
        }
        self.contracts = {c["contract_id"]: c for c in doc["contracts"]}
        self.rows: dict[tuple[str, int], dict[tuple[str, str, str], Decimal]] = {}
        for c in doc["contracts"]:
            for k, p in enumerate(c["periods"]):
                self.rows[(c["contract_id"], k)] = {
                    (r["code"], r["modifier"], r["site"]): Decimal(r["rate"])
                    for r in p.get("fee_schedule", [])
                }

    def expected(
        self,
        contract_id: str,
        *,
        code: str,
        modifiers: list[str],
        units: int,
        charge: Decimal,
        pos: str,
        service_date: date,
    ) -> Decimal:
        c = self.contracts[contract_id]
        k, period = next(
            (k, p)
            for k, p in enumerate(c["periods"])
            if date.fromisoformat(p["start"]) <= service_date <= date.fromisoformat(p["end"])
        )
        if c["method"] == "percent_of_charges":
            return rhu(charge * Decimal(period["percent_of_charges"]) / 100)
        site = "facility" if pos in self.facility_pos else "non_facility"
        mod = next((m for m in modifiers if m in self.pricing_mods), "")
        row = self.rows[(contract_id, k)].get((code, mod, site))
        if row is None:
            mcr = self.mcr[(period["pfs_year"], code, mod, site)]
            row = rhu(mcr * Decimal(period["percent_of_medicare"]) / 100)
        amount = row * units
        if c["lesser_of_billed_charges"]:
            amount = min(amount, charge)
        return amount
