"""Read contract YAML files into :class:`~parley.domain.contracts.Contract`, with precise errors.

Every problem names the file, the line and the field::

    contracts/knh.yaml:14: professional.methodology.percent: Input should be less than or equal to 1000 (got 1500)

Line numbers come from the YAML node tree (:func:`yaml.compose`): a pydantic
error location (``('professional', 'methodology', 'percent')``) is walked
down the tree to the node it names.  Numbers with a decimal point are read as
:class:`~decimal.Decimal` (never binary floats).  CSV files a contract refers
to (fee schedules, reference price lists, DRG weights) are read here and
their rows folded into the contract, with ``file:row: column`` errors.

Loading is all or nothing: :func:`load_contracts` validates every file, then
checks that no two contracts overlap (same payer id and product line, common
dates), and returns the contracts only when nothing is wrong.
"""

from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from parley.domain.contracts import Contract, contracts_overlap
from parley.errors import InputError


class ContractError(InputError):
    """A contract file (or a CSV it refers to) is wrong; ``problems`` lists every issue found."""

    def __init__(self, problems: list[str], *, hint: str | None = None) -> None:
        self.problems = problems
        head = problems[0] if len(problems) == 1 else f"{len(problems)} problems in contract terms:\n  " + "\n  ".join(problems)
        super().__init__(head, hint=hint or "fix the file(s) and run 'parley contracts check' again; nothing was loaded")


class _Loader(yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader reading floats as Decimal."""


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - YAML float syntax is a subset
        raise yaml.constructor.ConstructorError(None, None, f"not a number: {text!r}", node.start_mark) from exc


_Loader.add_constructor("tag:yaml.org,2002:float", _decimal)

_FastLoader: type = _Loader
if getattr(yaml, "__with_libyaml__", False):

    class _CLoader(yaml.CSafeLoader):  # type: ignore[misc,name-defined]
        """The same loader on libyaml (about 10x faster); used when the file is valid."""

    _CLoader.add_constructor("tag:yaml.org,2002:float", _decimal)
    _FastLoader = _CLoader


def _node_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """The deepest node along a pydantic location (keys / list indices)."""
    best = node
    for part in loc:
        if node is None:
            break
        nxt = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if str(k.value) == str(part):
                    nxt = v if not isinstance(part, str) or True else k
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            nxt = node.value[part]
        if nxt is None:
            continue  # discriminator tags and the like are not in the document
        node = best = nxt
    return best


def _key_line(node: yaml.Node | None, key: str) -> int | None:
    if isinstance(node, yaml.MappingNode):
        for k, _v in node.value:
            if k.value == key:
                return int(k.start_mark.line) + 1
    return None


def _line(root: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    if loc and root is not None:
        parent = _node_at(root, loc[:-1])
        key_line = _key_line(parent, str(loc[-1]))
        if key_line:
            return key_line
    node = _node_at(root, loc)
    return int(node.start_mark.line) + 1 if node is not None else 1


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("fee_schedule", "percent_of_medicare", "percent_of_charges",
                                               "percent_of_reference", "not_covered")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "(document)"


def _validation_problems(exc: ValidationError, path: Path, root: yaml.Node | None, prefix: tuple[Any, ...] = ()) -> list[str]:
    out = []
    for err in exc.errors():
        loc = prefix + tuple(err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field (not in the contract schema; see docs/contracts.md)"
        elif "input" in err and not isinstance(err["input"], dict | list):
            msg += f" (got {err['input']!r})" if not isinstance(err["input"], Decimal) else f" (got {err['input']})"
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        out.append(f"{path}:{_line(root, loc)}: {_field(loc)}: {msg}")
    return out


def parse_contract_text(text: str, path: Path) -> Contract:
    """Validate one YAML document (CSV references resolved relative to ``path``).

    A valid file is read once with libyaml; any problem re-reads it with the node tree
    so every message carries its line number.
    """
    try:
        data = yaml.load(text, Loader=_FastLoader)  # noqa: S506 - a SafeLoader
        if isinstance(data, dict):
            problems: list[str] = []
            data = _resolve_csvs(data, path, None, problems)
            if not problems:
                contract = Contract.model_validate(data)
                if not _check_amendments(contract, path, None):
                    return contract
    except (yaml.YAMLError, ValidationError, ContractError):
        pass
    return _parse_with_lines(text, path)


def _parse_with_lines(text: str, path: Path) -> Contract:
    try:
        root = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ContractError([f"{path}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if not isinstance(data, dict):
        raise ContractError([f"{path}:1: a contract is a YAML mapping (contract_id:, payer:, ...)"])
    problems: list[str] = []
    data = _resolve_csvs(data, path, root, problems)
    try:
        contract = Contract.model_validate(data)
    except ValidationError as exc:
        raise ContractError(problems + _validation_problems(exc, path, root)) from None
    problems += _check_amendments(contract, path, root)
    if problems:
        raise ContractError(problems)
    return contract


def _check_amendments(contract: Contract, path: Path, root: yaml.Node | None) -> list[str]:
    """Each amendment, merged over what precedes it, must still be a valid contract."""
    out = []
    for i, a in enumerate(contract.amendments):
        try:
            contract.terms_on(a.effective)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ("amendments", i, "changes", *err["loc"])
                node_loc = loc if _node_at(root, loc) is not None else ("amendments", i)
                out.append(f"{path}:{_line(root, node_loc)}: {_field(loc)}: {err['msg']}")
    return out


# --------------------------------------------------------------------------- CSV references


def _walk_methods(data: Any, loc: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Every mapping with a 'csv' or 'weights_csv' key, with its location."""
    out = []
    if isinstance(data, dict):
        if isinstance(data.get("csv"), str) or isinstance(data.get("weights_csv"), str):
            out.append((loc, data))
        for k, v in data.items():
            out += _walk_methods(v, (*loc, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _walk_methods(v, (*loc, i))
    return out


def _resolve_csvs(data: dict[str, Any], path: Path, root: yaml.Node | None, problems: list[str]) -> dict[str, Any]:
    for loc, mapping in _walk_methods(data):
        key = "csv" if isinstance(mapping.get("csv"), str) else "weights_csv"
        ref = Path(mapping[key])
        file = ref if ref.is_absolute() else path.parent / ref
        where = f"{path}:{_line(root, (*loc, key))}: {_field((*loc, key))}"
        if not file.is_file():
            problems.append(f"{where}: CSV file {file} not found")
            continue
        method = mapping.get("method")
        if key == "weights_csv":
            mapping["weights"] = {**_read_weights(file, problems), **mapping.get("weights", {})}
        elif method == "fee_schedule":
            mapping["rates"] = list(mapping.get("rates") or []) + _read_rows(file, problems, ("code", "amount"), ("modifier", "site", "pos"))
        elif method == "percent_of_reference":
            mapping["prices"] = list(mapping.get("prices") or []) + _read_rows(file, problems, ("code", "amount"), ("from",))
        else:
            problems.append(f"{where}: a CSV reference is allowed for fee_schedule and percent_of_reference only")
    return data


def _money(text: str) -> Decimal:
    t = text.strip().replace("$", "").replace(",", "")
    d = Decimal(t)
    if not d.is_finite() or d < 0 or d.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidOperation
    return d


def _read_rows(file: Path, problems: list[str], required: tuple[str, ...], optional: tuple[str, ...]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    try:
        with file.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            missing = [c for c in required if c not in header]
            if missing:
                problems.append(f"{file}:1: missing column(s) {', '.join(missing)} (need {', '.join(required)}; optional {', '.join(optional)})")
                return []
            for n, raw in enumerate(reader, start=2):
                row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
                try:
                    amount = _money(row["amount"])
                except (InvalidOperation, ValueError):
                    problems.append(f"{file}:{n}: amount: {row['amount']!r} is not a dollar amount (like 126.50)")
                    continue
                out: dict[str, Any] = {"code": row["code"], "amount": amount}
                for c in optional:
                    if row.get(c):
                        out[c] = row[c]
                rows.append(out)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.append(f"{file}:1: cannot read CSV: {exc}")
    return rows


def _read_weights(file: Path, problems: list[str]) -> dict[str, Decimal]:
    """MS-DRG weights: columns drg, weight (required), gmlos, amlos (optional, checked, not used)."""
    out: dict[str, Decimal] = {}
    seen: dict[str, int] = {}
    try:
        with file.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            missing = [c for c in ("drg", "weight") if c not in header]
            if missing:
                problems.append(f"{file}:1: missing column(s) {', '.join(missing)} (need drg, weight; optional gmlos, amlos)")
                return {}
            for n, raw in enumerate(reader, start=2):
                row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
                drg = row["drg"].zfill(3)
                if not (drg.isdigit() and len(drg) == 3):
                    problems.append(f"{file}:{n}: drg: {row['drg']!r} is not an MS-DRG (1-3 digits, like 470)")
                    continue
                if drg in seen:
                    problems.append(f"{file}:{n}: drg: MS-DRG {drg} is listed twice (first on line {seen[drg]})")
                    continue
                seen[drg] = n
                weight = _weight(row["weight"])
                if weight is None:
                    problems.append(f"{file}:{n}: weight: {row['weight']!r} is not a relative weight (a number above 0, "
                                    "at most 4 decimals, like 1.9221)")
                    continue
                for col in ("gmlos", "amlos"):
                    if row.get(col) and _weight(row[col], places=2) is None:
                        problems.append(f"{file}:{n}: {col}: {row[col]!r} is not a length of stay in days (like 4.3)")
                out[drg] = weight
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.append(f"{file}:1: cannot read CSV: {exc}")
    return out


def _weight(text: str, places: int = 4) -> Decimal | None:
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not d.is_finite() or d <= 0 or d > 100 or d.as_tuple().exponent < -places:  # type: ignore[operator]
        return None
    return d


# --------------------------------------------------------------------------- many files


def contract_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".yaml", ".yml") and p.is_file())


def load_contract_file(path: Path) -> Contract:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError([f"{path}:1: cannot read: {exc}"]) from None
    return parse_contract_text(text, path)


def load_contracts(paths: list[Path]) -> list[Contract]:
    """Validate every file, then the set (unique ids, no overlapping agreements); all or nothing."""
    problems: list[str] = []
    loaded: list[tuple[Path, Contract]] = []
    for p in paths:
        try:
            loaded.append((p, load_contract_file(p)))
        except ContractError as exc:
            problems += exc.problems
    problems += overlap_problems(loaded)
    if problems:
        raise ContractError(problems)
    return [c for _p, c in loaded]


def overlap_problems(loaded: list[tuple[Path, Contract]]) -> list[str]:
    out = []
    ids: dict[str, Path] = {}
    for p, c in loaded:
        if c.contract_id in ids:
            out.append(f"{p}:{find_key_line(p, 'contract_id')}: contract_id: {c.contract_id!r} is also used by {ids[c.contract_id]}")
        ids.setdefault(c.contract_id, p)
    for i, (pa, a) in enumerate(loaded):
        for pb, b in loaded[i + 1:]:
            if contracts_overlap(a, b):
                out.append(
                    f"{pb}:{find_key_line(pb, 'effective')}: effective: {b.contract_id} ({b.effective} .. {b.expires or 'open'}) overlaps "
                    f"{a.contract_id} in {pa} ({a.effective} .. {a.expires or 'open'}) for payer "
                    f"{sorted(set(a.payer.payer_ids) & set(b.payer.payer_ids))}: give one an end date or "
                    "distinct claim_filing_indicators (plans cannot separate them: claims carry no plan / group number)"
                )
    return out


def find_key_line(path: Path, key: str, value: object = None) -> int:
    """Line of the first ``key:`` (with ``value`` if given) anywhere in a YAML file; 1 if not found."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, yaml.YAMLError):
        return 1
    stack = [root]
    while stack:
        node = stack.pop(0)
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == key and (value is None or str(getattr(v, "value", "")) == str(value)):
                    return int(k.start_mark.line) + 1
                stack.append(v)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return 1
