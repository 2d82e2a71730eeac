#!/usr/bin/env python3
"""Set up and run Parley with nothing but python3 and pip.

    python3 run.py demo [parley demo options]   set up, then build and show the demo
    python3 run.py test [pytest options]        set up, then run every test
    python3 run.py bench [bench options]        set up, then run the benchmarks
    python3 run.py lint                         ruff + mypy
    python3 run.py parley ...                   any parley command in the project's environment

Set-up creates ./.venv (once), installs the pinned dependencies from
requirements.lock and Parley itself in editable mode; it is skipped when the
lockfile has not changed since the last run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".parley-setup"


def _say(msg: str) -> None:
    print(f"[run.py] {msg}", file=sys.stderr, flush=True)


def _run(cmd: list[str], **kw: object) -> int:
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, **kw)  # type: ignore[arg-type]


def setup() -> None:
    """Create the virtualenv and install the locked dependencies (idempotent)."""
    if sys.version_info < (3, 11):
        sys.exit(f"Parley needs Python 3.11 or newer (this is {sys.version.split()[0]})")
    lock = (ROOT / "requirements.lock").read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    digest = hashlib.sha256(lock).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest and PY.exists():
        return
    if not PY.exists():
        _say("creating .venv")
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    _say("installing pinned dependencies (requirements.lock)")
    uv = _ensure_uv()
    if uv:
        # --compile-bytecode: uv skips it by default, and every later process (each parley
        # command, test worker, brief) would then compile the libraries' Python anew: ~1.3 s each
        code = _run([uv, "pip", "install", "--python", PY, "--compile-bytecode", "-r", "requirements.lock"])
        code = code or _run([uv, "pip", "install", "--python", PY, "--no-deps", "-e", "."])
    else:
        code = _run([PY, "-m", "pip", "install", "-q", "-r", "requirements.lock"])
        code = code or _run([PY, "-m", "pip", "install", "-q", "--no-deps", "-e", "."])
    if code:
        sys.exit("dependency installation failed (see above)")
    STAMP.write_text(digest)


def _ensure_uv() -> str | None:
    """uv installs in seconds; fall back to pip when it cannot be had."""
    found = BIN / "uv"
    if found.exists():
        return str(found)
    if _run([PY, "-m", "pip", "install", "-q", "uv"], stdout=subprocess.DEVNULL) == 0 and found.exists():
        return str(found)
    return shutil.which("uv")


def _postgres_env() -> dict[str, str]:
    """Start a throwaway PostgreSQL for the PG test tier when the server can be had."""
    env = dict(os.environ)
    if env.get("PARLEY_TEST_DATABASE_URL") or env.get("PARLEY_SKIP_POSTGRES") == "1":
        return env
    script = ROOT / "scripts" / "pg_local.sh"
    if not script.exists():
        return env
    proc = subprocess.run(["bash", str(script), "start"], cwd=ROOT, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("export PARLEY_TEST_DATABASE_URL="):
            env["PARLEY_TEST_DATABASE_URL"] = line.split("=", 1)[1].strip().strip("'\"")
            _say("PostgreSQL test server started on loopback")
    if "PARLEY_TEST_DATABASE_URL" not in env:
        _say("no PostgreSQL server available: the postgres tier will be skipped "
             "(install the 'postgresql' Debian package, or set PARLEY_TEST_DATABASE_URL)")
        if proc.stderr.strip():
            _say(proc.stderr.strip().splitlines()[-1])
    return env


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    task, rest = argv[0], argv[1:]
    setup()
    if task == "setup":
        return 0
    if task == "demo":
        return _run([BIN / "parley", "demo", *rest])
    if task == "test":
        env = _postgres_env()
        try:
            return _run([PY, "-m", "pytest", "-n", "2", *rest], env=env)
        finally:
            if env.get("PARLEY_TEST_DATABASE_URL") and not os.environ.get("PARLEY_TEST_DATABASE_URL"):
                subprocess.run(["bash", str(ROOT / "scripts" / "pg_local.sh"), "stop"], cwd=ROOT,
                               capture_output=True)
    if task == "bench":
        return _run([PY, ROOT / "bench" / "run_all.py", *rest])
    if task == "lint":
        return _run([PY, "-m", "ruff", "check", "src", "tests", "bench"]) or _run([PY, "-m", "mypy"])
    if task == "parley":
        return _run([BIN / "parley", *rest])
    print(f"unknown task {task!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
