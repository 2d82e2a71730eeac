#!/usr/bin/env python3
"""Effect of the plausibility rule (docs/market.md) on a TiC file and on the CMS examples.

    python bench/plausibility_tic.py --file /tmp/tic_1gb.json [--examples tests/data] [--json]

For the generated benchmark file there is no real NPI registry (its NPIs are
fake), so a registry extract is derived from the file itself: each provider
group's ``business_name`` ("Riverside Imaging", "Lakeview Physical Therapy")
gives a NUCC taxonomy code (NAME_TAXONOMY below); individual NPIs without a
business name stay without taxonomy and are never judged.  The file is
ingested with the CMS shoppable-services basket, then the rule runs without
and with taxonomies: rows flagged per reason, and the rows the taxonomy rule
adds.  The CMS examples (TiC and hospital files) are ingested with every code
and reported the same way (they carry no taxonomies: NPIs are placeholders).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

#: business-name word -> NUCC taxonomy (for the synthetic file only)
NAME_TAXONOMY = {
    "Imaging": "2085R0202X",
    "Radiology": "2085R0202X",
    "Orthopedics": "207X00000X",
    "Family Practice": "207Q00000X",
    "Surgical Associates": "208600000X",
    "Hospital": "282N00000X",
    "Physical Therapy": "225100000X",
    "Cardiology": "207RC0000X",
    "Pediatrics": "208000000X",
    "Laboratory Services": "291U00000X",
    "Anesthesia Associates": "207L00000X",
    "Urgent Care": "261QU0200X",
    "Medical Group": "193200000X",
    "Health Partners": "193200000X",
}


def derived_registry(path: Path, out: Path) -> dict[str, int]:
    """npi,taxonomy rows from the file's provider_references business names."""
    from parley.ingest.tic.reader import iter_items

    rows: dict[int, str] = {}
    with open(path, "rb") as stream:
        for key, item, _ in iter_items(stream, ("provider_references", "in_network")):
            if key != "provider_references":
                break
            for group in json.loads(item).get("provider_groups") or []:
                name = ((group.get("tin") or {}).get("business_name")) or ""
                tax = next((t for word, t in NAME_TAXONOMY.items() if name.endswith(word)), None)
                for npi in group.get("npi") or []:
                    if tax:
                        rows[int(npi)] = tax
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["npi", "taxonomy"])
        w.writerows(sorted(rows.items()))
    by_tax: dict[str, int] = {}
    for t in rows.values():
        by_tax[t] = by_tax.get(t, 0) + 1
    return by_tax


def effect(ws: Any, registry: Path | None) -> dict[str, Any]:
    from parley.engine.market import flag, flag_summary, load_rates, medicare_amounts
    from parley.ingest.tic.options import registry_market

    con = ws.connect()
    rates = load_rates(con)
    medicare = medicare_amounts(
        rates["billing_code"].unique().to_list(), year=2025, practice_zip=None
    )
    out: dict[str, Any] = {"without_taxonomy": flag_summary(flag(rates, medicare))}
    if registry is not None:
        taxonomy = registry_market(registry).taxonomy
        flagged = flag(rates, medicare, taxonomy=taxonomy)
        out["with_taxonomy"] = flag_summary(flagged)
        ghosts = flagged.filter(flagged["flag"] == "taxonomy_does_not_bill")
        out["taxonomy_flags_by_provider_type"] = dict(
            sorted(ghosts.group_by("provider_type").len().iter_rows(), key=lambda r: -r[1])
        )
    return out


def ingest(paths: list[Path], basket: str) -> Any:
    from parley.ingest.tic import MarketOptions, shoppable_codes
    from parley.services.market import ingest_market
    from parley.store.workspace import init_workspace

    tmp = tempfile.mkdtemp(prefix="parley-plaus-")
    ws = init_workspace(Path(tmp) / "ws")
    codes = shoppable_codes() if basket == "shoppable" else None
    report = ingest_market(workspace=ws, paths=paths, options=MarketOptions(codes=codes, workers=1))
    return ws, report.totals().get("market_rates", 0)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--file", type=Path, default=Path("/tmp/tic_1gb.json"))
    ap.add_argument("--examples", type=Path, default=HERE.parent / "tests" / "data")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    report: dict[str, Any] = {}
    if args.file.exists():
        registry = Path(tempfile.mkdtemp(prefix="parley-reg-")) / "registry.csv"
        report["registry_npis_by_taxonomy"] = derived_registry(args.file, registry)
        ws, rows = ingest([args.file], "shoppable")
        report["generated_file"] = {"rows": rows, **effect(ws, registry)}
    examples = sorted((args.examples / "tic").glob("*.json")) + sorted(
        (args.examples / "hpt").glob("*")
    )
    ws, rows = ingest(examples, "all")
    report["cms_examples"] = {"files": len(examples), "rows": rows, **effect(ws, None)}
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
