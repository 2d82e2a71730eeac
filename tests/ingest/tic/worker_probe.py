"""Run in a pool worker by test_parallel: which heavy libraries that process has imported.

Kept free of imports of its own, so importing it in the worker changes nothing.
"""

from __future__ import annotations

import os
import sys


def loaded(*names: str) -> tuple[int, dict[str, bool]]:
    return os.getpid(), {name: name in sys.modules for name in names}
