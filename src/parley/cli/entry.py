"""The ``parley`` executable: starts the process pool's forkserver first when the command will
use one, then hands over to the Typer app.

``parley market ingest`` on several cores forks its workers from a forkserver that imports
the readers (about a second).  Started here, before Typer, Rich and the services are
imported (about 0.4 s), the two overlap; the command itself calls the same
:func:`~parley.ingest.forkserver.prestart`, which is then a no-op.
"""

from __future__ import annotations

import sys

POOL_COMMANDS = (("market", "ingest"),)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if _uses_pool(args):
        from parley.ingest.forkserver import prestart

        prestart(_int_option(args, "--workers"), _option(args, "--scheduler"))
    from parley.cli.app import main as run

    run(args)


def _uses_pool(args: list[str]) -> bool:
    pairs = set(zip(args, args[1:], strict=False))
    return any(c in pairs for c in POOL_COMMANDS) and not {"--help", "-h"} & set(args)


def _option(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _int_option(args: list[str], name: str) -> int | None:
    value = _option(args, name)
    return int(value) if value and value.isdigit() and int(value) > 0 else None
