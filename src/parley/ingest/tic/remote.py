"""Files named by URL: provider-reference files and the files a table of contents lists.

Plain ``urllib`` (http, https, file).  Network access is off unless the user
asks for it (``--fetch``), because payers' files are large and a workbench
should not download tens of GB unasked.  A URL that fails is a problem row,
never an exception that stops the batch.
"""

from __future__ import annotations

import gzip
import json
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pyarrow as pa

from parley.ingest.tic import items as it
from parley.ingest.tic.options import MarketOptions

MAX_REFERENCE_BYTES = 512 << 20


def _problem(code: str, message: str, severity: str = "error") -> dict[str, Any]:
    return {
        "severity": severity,
        "code": code,
        "message": message,
        "quarantined": severity == "error",
    }


def open_url(url: str, timeout: float) -> Any:
    request = urllib.request.Request(
        url, headers={"User-Agent": "parley-market/1", "Accept-Encoding": "identity"}
    )
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - user-supplied TiC locations


def fetch_provider_reference(
    group_id: float, url: str, options: MarketOptions
) -> tuple[pa.Table | None, dict[str, Any] | None]:
    """A remote provider-reference file -> provider rows for ``group_id``."""
    if not options.fetch_urls:
        return None, _problem(
            "tic.reference_not_fetched",
            f"provider group {group_id:g} is defined at {url}, not fetched (network access is off): "
            "its rates are left out - rerun with --fetch to follow provider-reference URLs",
            "warning",
        )
    try:
        with open_url(url, options.url_timeout) as response:
            raw = response.read(MAX_REFERENCE_BYTES + 1)
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        doc = json.loads(raw)
        groups = doc.get("provider_groups") if isinstance(doc, dict) else None
        if not isinstance(groups, list):
            raise ValueError("no provider_groups array")
    except (OSError, urllib.error.URLError, ValueError, EOFError) as exc:
        return None, _problem(
            "tic.reference_failed",
            f"provider group {group_id:g}: the provider-reference file {url} could not be used ({exc}); "
            "its rates are left out",
        )
    item = {"provider_group_id": group_id, "provider_groups": groups, "location": None}
    table = pa.Table.from_pylist(
        [it._coerce(item, it.PROVIDER_REFERENCE)], schema=it.PROVIDER_REFERENCE
    )
    return it.providers_of(table, options.market), None


def download(url: str, folder: Path, timeout: float) -> Path:
    """Save a URL under ``folder`` (streaming); the file keeps the URL's name."""
    name = (
        Path(urllib.request.url2pathname(url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1])).name
        or "file.json"
    )
    target = folder / name
    with open_url(url, timeout) as response, open(target, "wb") as out:
        shutil.copyfileobj(response, out, 8 << 20)
    return target


def toc_entries(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The files a table of contents lists: kind, location, description, plans."""
    out: list[dict[str, Any]] = []
    for entry in doc.get("reporting_structure") or []:
        plans = [
            p.get("plan_name") for p in entry.get("reporting_plans") or [] if isinstance(p, dict)
        ]
        for f in entry.get("in_network_files") or []:
            out.append(
                {
                    "kind": "in-network",
                    "location": f.get("location"),
                    "description": f.get("description"),
                    "plans": plans,
                }
            )
        allowed = entry.get("allowed_amount_file")
        if isinstance(allowed, dict) and allowed.get("location"):
            out.append(
                {
                    "kind": "allowed-amounts",
                    "location": allowed.get("location"),
                    "description": allowed.get("description"),
                    "plans": plans,
                }
            )
    return out


def temp_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="parley-toc-"))
