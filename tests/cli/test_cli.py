"""The CLI face: commands, --json, the error boundary and exit codes (run in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parley.cli.app import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def test_init_then_status_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "init", str(tmp_path / "ws"), "--json")
    assert code == 0
    info = json.loads(out)
    assert Path(info["workspace"]).joinpath("parley.toml").is_file()
    assert info["revision"]
    code, out, _ = run(capsys, "status", "--workspace", str(tmp_path / "ws"), "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["files"] == 0 and summary["claims"] == 0 and summary["denial_rate"] is None


def test_missing_workspace_is_a_short_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "status", "--workspace", str(tmp_path / "nowhere"))
    assert code == 2
    assert "no Parley workspace" in err and "parley init" in err
    assert "Traceback" not in err


def test_json_errors_are_one_json_document_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With --json a script reads JSON whatever happened: a failed command prints
    {"ok": false, "error": ...} on stdout (the human message stays on stderr)."""
    code, out, err = run(capsys, "status", "--workspace", str(tmp_path / "nowhere"), "--json")
    assert code == 2
    error = json.loads(out)["error"]
    assert error["type"] == "WorkspaceError" and "no Parley workspace" in error["message"]
    assert "parley init" in error["hint"] and "no Parley workspace" in err
    code, out, _ = run(capsys, "status", "--no-such-option", "--json")
    assert code == 2
    report = json.loads(out)
    assert report["ok"] is False and report["error"]["type"] == "UsageError"
    assert report["error"]["message"] == "No such option: --no-such-option"
    code, out, _ = run(capsys, "status", "--workspace", str(tmp_path / "nowhere"))
    assert code == 2 and out == ""  # without --json nothing on stdout


def test_bad_files_fail_with_reasons_and_nonzero_exit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    run(capsys, "init", str(ws))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "empty.835").write_bytes(b"")
    (tmp_path / "in" / "notes.835").write_bytes(b"\x00\x01 this is not X12 at all")
    isa = b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *240101*1200*^*00501*000000001*0*P*:~"
    (tmp_path / "in" / "eligibility.txt").write_bytes(  # X12, and a .txt: not taken for a CSV
        isa + b"GS*HS*A*B*20240101*1200*1*X*005010X279A1~ST*270*0001*005010X279A1~SE*2*0001~"
    )
    code, out, _ = run(capsys, "ingest", str(tmp_path / "in"), "-w", str(ws), "--json")
    assert code == 1
    report = json.loads(out)
    assert {f["status"] for f in report["files"]} == {"failed"}
    code, out, _ = run(capsys, "problems", "-w", str(ws), "--json")
    messages = " ".join(p["message"] for p in json.loads(out))
    assert "empty" in messages and "not a format Parley reads" in messages
    assert "holds transaction set 270" in messages and "column mapping" not in messages


def test_sql_is_read_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    run(capsys, "init", str(ws))
    code, out, _ = run(capsys, "sql", "select count(*) as n from remit_lines", "-w", str(ws), "--json")
    assert code == 0 and json.loads(out) == [{"n": 0}]
    code, _, err = run(capsys, "sql", "drop view remit_lines", "-w", str(ws))
    assert code == 2 and "read-only" in err


def test_tables_markdown_matches_docs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "tables", "--markdown")
    assert code == 0
    docs = Path(__file__).parents[2] / "docs" / "tables.md"
    assert docs.read_text() == out, "docs/tables.md is stale: run 'make docs'"
