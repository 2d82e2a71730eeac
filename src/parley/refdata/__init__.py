"""Reference data packaged with Parley: Medicare PFS (2024, 2025), code sets, X12 code lists.

Nothing is read at import time, nor imported: each name loads its module (and Polars) on
first use, so a light module such as :mod:`parley.refdata.payer_aliases` costs no more than
itself.  Every table loads on first use and is cached.
Every function takes an optional ``extra_dir`` (a workspace's ``refdata/``
folder) searched before the packaged data, so a workspace can add a newer
CMS release (:func:`load_cms_release`) or full X12 descriptions
(:func:`load_code_descriptions`).

Packaged PFS releases: 2024 "A" (January, RVUs only) and "C" (July, default),
2025 "D" (October).  See NOTICE.refdata for origins and licences.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parley.refdata.fees import anesthesia_fee, fee_schedule, medicare_fee, rvu_row
    from parley.refdata.loader import (
        Locality,
        anesthesia,
        available_years,
        carc,
        carc_category,
        clear_cache,
        conversion_factor,
        conversion_factor_history,
        default_release,
        gpci,
        group_codes,
        hcpcs_level2,
        inventory,
        load_code_descriptions,
        localities,
        locality_for_zip,
        locality_info,
        ms_drg,
        national_anesthesia_cf,
        oppscap,
        packaged_dir,
        parse_locality,
        pfs_rvus,
        place_of_service,
        plb_reasons,
        pos_is_facility,
        rarc,
        release_meta,
        releases,
        zip_locality,
    )
    from parley.refdata.release import LoadedTable, LoadReport, load_cms_release

_HOME = {
    "LoadReport": "release",
    "LoadedTable": "release",
    "Locality": "loader",
    "anesthesia": "loader",
    "anesthesia_fee": "fees",
    "available_years": "loader",
    "carc": "loader",
    "carc_category": "loader",
    "clear_cache": "loader",
    "conversion_factor": "loader",
    "conversion_factor_history": "loader",
    "default_release": "loader",
    "fee_schedule": "fees",
    "gpci": "loader",
    "group_codes": "loader",
    "hcpcs_level2": "loader",
    "inventory": "loader",
    "load_cms_release": "release",
    "load_code_descriptions": "loader",
    "localities": "loader",
    "locality_for_zip": "loader",
    "locality_info": "loader",
    "medicare_fee": "fees",
    "ms_drg": "loader",
    "national_anesthesia_cf": "loader",
    "oppscap": "loader",
    "packaged_dir": "loader",
    "parse_locality": "loader",
    "pfs_rvus": "loader",
    "place_of_service": "loader",
    "plb_reasons": "loader",
    "pos_is_facility": "loader",
    "rarc": "loader",
    "release_meta": "loader",
    "releases": "loader",
    "rvu_row": "fees",
    "zip_locality": "loader",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'parley.refdata' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"parley.refdata.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "LoadReport",
    "LoadedTable",
    "Locality",
    "anesthesia",
    "anesthesia_fee",
    "available_years",
    "carc",
    "carc_category",
    "clear_cache",
    "conversion_factor",
    "conversion_factor_history",
    "fee_schedule",
    "default_release",
    "gpci",
    "inventory",
    "group_codes",
    "hcpcs_level2",
    "load_cms_release",
    "load_code_descriptions",
    "localities",
    "locality_for_zip",
    "locality_info",
    "medicare_fee",
    "ms_drg",
    "national_anesthesia_cf",
    "oppscap",
    "packaged_dir",
    "parse_locality",
    "pfs_rvus",
    "place_of_service",
    "plb_reasons",
    "pos_is_facility",
    "rarc",
    "release_meta",
    "releases",
    "rvu_row",
    "zip_locality",
]
