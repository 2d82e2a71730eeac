"""Preloaded by the pool's forkserver: the readers imported and the compiled index loaded.

Loading the index kernel (natively, or through numba: about 0.4 s more) and every module a
task needs, done once here, every worker forked from the server inherits it ready to run.
"""

from __future__ import annotations

import contextlib

import numpy.ma  # noqa: F401 - pyarrow imports it on the first numpy array it converts (33 ms)

from parley.ingest.tic import reader  # noqa: F401 - the import is the point
from parley.ingest.tic.scan import ScanState, structure

with contextlib.suppress(Exception):  # a failure here only costs the worker the load later
    structure(b'{"in_network":[{"billing_code":"1"}]}', ScanState(), limit=2, key_limit=3)
    structure(b'{"in_network":[]}', ScanState(), limit=0, relative=True, key_limit=1)
