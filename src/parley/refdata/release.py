"""Load a CMS Physician Fee Schedule release into Parley's reference-data format.

``load_cms_release`` takes CMS's own files (a single file, a list of files, a
folder, or the ``RVU25D.zip`` / ``ZIP5_OCT2025.zip`` archives CMS ships) and
writes them under ``dest_dir`` in the same layout as the packaged data::

    dest_dir/pfs/<year><release>/rvu.parquet         PPRRVU
                                 gpci.parquet        GPCI
                                 localities.parquet  LOCCO
                                 anesthesia.parquet  ANES
                                 oppscap.parquet     OPPSCAP
                                 zip5.parquet        ZIP5 (practice ZIP -> carrier/locality)
                                 meta.json           year, release, sources, CFs

``release`` is CMS's quarterly letter: A = January, B = April, C = July,
D = October.  A release folder need not hold every table: a lookup for a
missing table falls back to the latest earlier release of the same year.

All files are parsed and validated before anything is written; each output is
written to a temporary file in ``dest_dir`` and then renamed into place, so a
malformed input never leaves a half-written table behind.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from parley.errors import InputError, ReferenceDataError
from parley.refdata import cms_files
from parley.refdata.cms_files import ParsedFile

TABLE_FOR_KIND = {
    "pprrvu": "rvu",
    "gpci": "gpci",
    "locco": "localities",
    "anes": "anesthesia",
    "oppscap": "oppscap",
    "zip5": "zip5",
}


@dataclass(frozen=True)
class LoadedTable:
    source: str
    kind: str
    table: str
    rows: int
    path: Path


@dataclass
class LoadReport:
    """What :func:`load_cms_release` did."""

    year: int
    release: str
    dest: Path
    tables: list[LoadedTable] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files not recognised (inside a zip/folder)
    warnings: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {t.table: t.rows for t in self.tables}

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (for ``--json`` output)."""
        return {
            "year": self.year,
            "release": self.release,
            "dest": str(self.dest),
            "tables": [
                {
                    "table": t.table,
                    "kind": t.kind,
                    "rows": t.rows,
                    "source": t.source,
                    "path": str(t.path),
                }  # fmt: skip
                for t in self.tables
            ],
            "skipped": list(self.skipped),
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        lines = [f"CMS PFS {self.year} release {self.release} -> {self.dest}"]
        lines += [f"  {t.table:<11} {t.rows:>7} rows  from {t.source}" for t in self.tables]
        lines += [f"  skipped: {s}" for s in self.skipped]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


_MEMBER_SUFFIXES = (".csv", ".txt")


def _collect(paths: Sequence[Path]) -> tuple[list[tuple[str, bytes]], list[str]]:
    """Return (name, bytes) for candidate files; names of ignored members."""
    out: list[tuple[str, bytes]] = []
    ignored: list[str] = []
    for p in paths:
        if not p.exists():
            raise InputError(f"{p}: no such file or folder")
        if p.is_dir():
            for child in sorted(p.iterdir()):
                if child.is_file():
                    sub, ign = _collect([child])
                    out += sub
                    ignored += ign
            continue
        if zipfile.is_zipfile(p):
            try:
                with zipfile.ZipFile(p) as zf:
                    for info in zf.infolist():
                        name = f"{p.name}:{info.filename}"
                        if info.is_dir():
                            continue
                        lower = info.filename.lower()
                        if lower.endswith(".zip"):
                            with zf.open(info) as fh, tempfile.TemporaryDirectory() as td:
                                inner = Path(td) / Path(info.filename).name
                                inner.write_bytes(fh.read())
                                sub, ign = _collect([inner])
                                out += [(f"{name}:{n.split(':', 1)[1]}", b) for n, b in sub]
                                ignored += ign
                        elif lower.endswith(_MEMBER_SUFFIXES):
                            out.append((name, zf.read(info)))
                        else:
                            ignored.append(name)
            except zipfile.BadZipFile as exc:
                raise ReferenceDataError(f"{p}: damaged zip archive ({exc})") from exc
            continue
        out.append((str(p), p.read_bytes()))
    return out, ignored


def parse_files(
    path: Path | str | Sequence[Path | str],
) -> tuple[list[ParsedFile], list[str]]:
    """Parse every recognisable CMS file under ``path``; return (parsed, skipped names).

    A single explicitly named file that is not recognised is an error; unrecognised
    members of a folder or zip (PDFs, ZIP9, layouts, xlsx duplicates) are skipped.
    """
    paths = [Path(p) for p in ([path] if isinstance(path, str | Path) else path)]
    explicit_single = len(paths) == 1 and paths[0].is_file() and not zipfile.is_zipfile(paths[0])
    files, skipped = _collect(paths)
    parsed: list[ParsedFile] = []
    for name, data in files:
        text = _decode(data)
        if cms_files.detect_kind(text) in (None, "zip9"):
            if explicit_single:
                cms_files.parse(text, name)  # raises UnknownFormatError
            skipped.append(name)
            continue
        parsed.append(cms_files.parse(text, name))
    return parsed, skipped


def _atomic_write(frame_or_text: object, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        if isinstance(frame_or_text, str):
            Path(tmp).write_text(frame_or_text, encoding="utf-8")
        else:
            frame_or_text.write_parquet(tmp, compression="zstd", compression_level=19)  # type: ignore[attr-defined]
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_cms_release(
    path: Path | str | Sequence[Path | str],
    *,
    dest_dir: Path,
    year: int | None = None,
    release: str | None = None,
) -> LoadReport:
    """Load CMS PFS files (file, files, folder or CMS zip) into ``dest_dir``.

    ``year`` / ``release`` override what the files say (the PPRRVU title line,
    the ZIP5 year/quarter field, the GPCI / LOCCO titles, then the file names).
    Raises :class:`~parley.errors.ReferenceDataError` (file and line) on a
    malformed file, :class:`~parley.errors.UnknownFormatError` on a file that
    is not a CMS PFS file, :class:`~parley.errors.InputError` when the year
    cannot be determined or nothing usable was found.
    """
    if release is not None:
        release = release.strip().upper()
        if release not in ("A", "B", "C", "D"):
            raise InputError(f"release {release!r}: expected A, B, C or D (Jan/Apr/Jul/Oct)")
    parsed, skipped = parse_files(path)
    if not parsed:
        raise InputError(
            f"{path}: no CMS fee schedule file found",
            hint="expected PPRRVU / GPCI / LOCCO / ANES / OPPSCAP CSVs or the ZIP5 text file",
        )
    kinds = [p.kind for p in parsed]
    dupes = {k for k in kinds if kinds.count(k) > 1}
    if dupes:
        names = [p.source for p in parsed if p.kind in dupes]
        raise InputError(
            f"more than one {'/'.join(sorted(dupes))} file in one release: {names}",
            hint="load one release at a time",
        )
    by_kind = {p.kind: p for p in parsed}

    # year / release: explicit > PPRRVU title > ZIP5 > GPCI/LOCCO title > file names
    order = ["pprrvu", "zip5", "gpci", "locco", "anes", "oppscap"]
    y = year
    r = release
    for k in order:
        p = by_kind.get(k)
        if p is None:
            continue
        name_year, name_rel = cms_files.year_release_from_name(p.source)
        y = y or p.year or name_year
        if k in ("pprrvu", "zip5") or "pprrvu" not in by_kind:
            r = r or p.release or name_rel
    if y is None:
        raise InputError(
            f"{path}: cannot tell which year these files are for", hint="pass year=..."
        )
    r = r or "A"
    warnings: list[str] = []
    for p in parsed:
        if p.year is not None and p.year != y:
            warnings.append(f"{p.source} says {p.year}, loaded as {y}")

    rvu = by_kind.get("pprrvu")
    meta: dict[str, object] = {
        "year": y,
        "release": r,
        "label": f"{y} {cms_files.RELEASE_LABEL[r]} ({r})",
        "sources": {TABLE_FOR_KIND[p.kind]: Path(p.source.split(":")[-1]).name for p in parsed},
    }
    if rvu is not None:
        cfs = rvu.frame["conversion_factor"].drop_nulls()
        if cfs.len():
            meta["conversion_factor"] = str(cfs.mode().sort()[-1])
    anes = by_kind.get("anes")
    if anes is not None and anes.extra:
        meta.update(anes.extra)
    z = by_kind.get("zip5")
    if z is not None and z.extra:
        meta.update(z.extra)

    rel_dir = Path(dest_dir) / "pfs" / f"{y}{r}"
    report = LoadReport(year=y, release=r, dest=rel_dir, skipped=skipped, warnings=warnings)
    # everything parsed and validated: now write (each file atomically)
    old_meta: dict[str, object] = {}
    meta_path = rel_dir / "meta.json"
    if meta_path.exists():
        try:
            old_meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except ValueError:
            old_meta = {}
    for p in parsed:
        table = TABLE_FOR_KIND[p.kind]
        dest = rel_dir / f"{table}.parquet"
        _atomic_write(p.frame, dest)
        report.tables.append(LoadedTable(p.source, p.kind, table, p.frame.height, dest))
    old_sources = old_meta.get("sources")
    new_sources: dict[str, str] = meta["sources"]  # type: ignore[assignment]
    merged_sources = {**(old_sources if isinstance(old_sources, dict) else {}), **new_sources}
    merged = {**old_meta, **meta, "sources": merged_sources}
    _atomic_write(json.dumps(merged, indent=2, sort_keys=True) + "\n", meta_path)
    # refresh cached lookups
    from parley.refdata import loader

    loader.clear_cache()
    return report
