"""`parley brief` end to end: the four files, --json, --format, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
PAYER = "KEYSTONE NATIONAL HEALTH"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from parley.cli.app import main

    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_all_four_formats(rendered: dict) -> None:
    assert set(rendered["files"]) == {"html", "pdf", "xlsx", "pptx"}
    for fmt, path in rendered["files"].items():
        p = Path(path)
        assert p.is_file() and p.suffix == f".{fmt}" and p.stat().st_size > 5_000
    assert set(rendered["seconds"]) >= {"model", "charts", "html", "pdf", "xlsx", "pptx", "total"}
    assert not list(Path(rendered["out"]).glob(".*tmp"))


def test_cli_json_and_formats(demo_ws, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "brief", "HBS-PPO", "-w", str(demo_ws.root), "--format", "html,pdf", "--out", str(tmp_path), "--json")
    assert code == 0
    res = json.loads(out)
    assert set(res["files"]) == {"html", "pdf"} and res["contracts"] == ["HBS-PPO"]
    assert res["figures"]["current_revenue"]["unit"] == "dollars" and res["figures"]["current_revenue"]["display"].startswith("$")
    assert res["decision"] in ("accept", "negotiate", "decline")
    assert all(Path(p).parent == tmp_path for p in res["files"].values())


def test_cli_default_out_and_human_output(demo_ws, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "brief", PAYER, "-w", str(demo_ws.root), "--format", "html")
    assert code == 0 and "html" in out
    folders = list((demo_ws.root / "reports").glob("brief-keystone-national-health-*"))
    assert folders and list(folders[0].glob("*.html"))


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "docx"], "unknown format"),
    (["--as-of", "yesterday"], "--as-of"),
])
def test_cli_errors(demo_ws, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = run(capsys, "brief", PAYER, "-w", str(demo_ws.root), *args)
    assert code != 0 and message in (out + err)


def test_cli_unknown_payer(demo_ws, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "brief", "NOBODY", "-w", str(demo_ws.root), "--format", "html")
    assert code != 0 and "no contract matches" in (out + err)
