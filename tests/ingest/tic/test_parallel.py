"""ordered(): results in order whoever ran the task, the caller helping, errors at their turn."""

from __future__ import annotations

import os

import pytest

from parley.ingest.tic.parallel import InlineRunner, ordered, runner


def _square_and_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def _fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    return x


def test_ordered_inline() -> None:
    tasks = ((_square_and_pid, (i,)) for i in range(10))
    assert [r[0] for r in ordered(InlineRunner(), tasks)] == [i * i for i in range(10)]


def test_pool_of_two_is_two_processes_and_the_caller_helps() -> None:
    with runner(workers=2) as run:
        assert run.workers == 2 and run.pool_workers == 2 and run.helps
        results = list(ordered(run, ((_square_and_pid, (i,)) for i in range(200))))
        assert [r[0] for r in results] == [i * i for i in range(200)]
        assert os.getpid() in {r[1] for r in results}  # the caller ran some tasks itself
        first = next(ordered(run, [(_square_and_pid, (7,))], local_first=True))
        assert first == (49, os.getpid())


def test_without_help_every_task_runs_in_the_pool() -> None:
    with runner(workers=2) as run:
        tasks = ((_square_and_pid, (i,)) for i in range(50))
        results = list(ordered(run, tasks, caller_helps=False))  # waits for the pool to answer
        assert [r[0] for r in results] == [i * i for i in range(50)]
        pids = {r[1] for r in results}
        assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_a_failing_task_raises_at_its_turn() -> None:
    seen = []
    with pytest.raises(ValueError, match="three"):
        for value in ordered(InlineRunner(), ((_fail_on_three, (i,)) for i in range(6))):
            seen.append(value)
    assert seen == [0, 1, 2]


_CALLER = """
import json, sys
from pathlib import Path
from parley.ingest.sources import Source
from parley.ingest.tic import MarketOptions, read_market, sniff_market
source = Source(Path(sys.argv[1]))
options = MarketOptions(codes=None, workers=2, block_bytes=4096, batch_bytes=8192)
rows = 0
for chunk in read_market(source, sniff_market(source.head(), source.suffix), file_id="t", options=options):
    rows += sum(frame.height for frame in chunk.tables.values())
print(json.dumps({"rows": rows, "numba": "numba" in sys.modules}))
"""


def test_the_caller_of_a_pool_never_loads_the_compiled_index() -> None:
    """Phase A (and its rescans) run in the pool: the caller imports no numba, same rows."""
    import json
    import subprocess
    import sys

    from tic_helpers import TIC, read_all

    path = TIC / "v2-in-network-rates-all-negotiated-types-sample.json"
    out = subprocess.run(
        [sys.executable, "-c", _CALLER, str(path)], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    frame, _, _ = read_all(path, codes=None)
    assert result == {"rows": frame.height, "numba": False}


_WORKERS = """
import json, os, sys
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from parley.ingest.sources import Source
from parley.ingest.tic import MarketOptions, sniff_market
from parley.ingest.tic.parallel import runner
from parley.ingest.tic.service_io import read_tic_source
from worker_probe import loaded
source = Source(Path(sys.argv[1]))
options = MarketOptions(codes=None, workers=2, block_bytes=4096, batch_bytes=8192)
with runner(workers=2) as run:
    rows = 0
    for chunk in read_tic_source(source, sniff_market(source.head(), source.suffix), options=options, run=run, arrow=True):
        rows += sum(table.num_rows for table in chunk.tables.values())
    seen = dict(run.submit(loaded, "polars", "numba").result() for _ in range(8))
print(json.dumps({"rows": rows, "caller": os.getpid(), "workers": seen}))
"""


def test_pool_workers_parse_and_flatten_without_polars() -> None:
    """Workers scan (the compiled index) and flatten (Arrow) but never import Polars, nor numba
    when the index's machine code links without it: a lighter forkserver answers sooner."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from tic_helpers import TIC, read_all

    path = TIC / "v2-in-network-rates-all-negotiated-types-sample.json"
    out = subprocess.run(
        [sys.executable, "-c", _WORKERS, str(path), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    frame, _, _ = read_all(path, codes=None)
    assert result["rows"] == frame.height
    workers = result["workers"]
    assert workers and str(result["caller"]) not in workers
    from parley.ingest.tic import _kernel

    numba = _kernel.native() is None  # numba only when the native kernel is not available
    assert all(flags == {"polars": False, "numba": numba} for flags in workers.values())


def test_prestart_forks_the_pool_that_the_runner_then_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    """`parley market ingest` forks its workers before it imports the rest of Parley; the
    batch's runner uses those processes (once), and a second batch opens its own pool."""
    from parley.ingest import forkserver

    monkeypatch.setattr(forkserver, "_EARLY", [])
    assert forkserver.prestart(2)
    assert forkserver.prestart(2) and len(forkserver._EARLY) == 1  # one early pool at most
    early = forkserver._EARLY[0][1]
    with runner(workers=2) as run:
        assert run._pool is early  # type: ignore[attr-defined]
        pids = {run.submit(os.getpid).result() for _ in range(8)}
        assert os.getpid() not in pids
    assert forkserver._EARLY == []
    with runner(workers=2) as run:
        assert run._pool is not early  # type: ignore[attr-defined]
        assert run.submit(int, "7").result() == 7


def test_an_early_pool_for_another_size_is_not_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    from parley.ingest import forkserver

    monkeypatch.setattr(forkserver, "_EARLY", [])
    assert forkserver.prestart(3)
    assert forkserver.take_pool(2) is None
    pool = forkserver.take_pool(3)
    assert pool is not None
    pool.shutdown()
