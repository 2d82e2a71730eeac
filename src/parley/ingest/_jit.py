"""numba, when installed and not switched off: the one import guard of the compiled kernels.

``load("PARLEY_X12_NUMBA")`` returns (njit, True) with numba, or a no-op ``njit``
and False when numba is missing or the variable is "0" (the kernels' modules
then run their numpy fallbacks, which the tests compare with the kernels).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any


def _plain(*args: Any, **kwargs: Any) -> Any:
    """``njit`` without numba: the decorated function stays plain Python."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        return fn

    return wrap


def load(flag: str) -> tuple[Callable[..., Any], bool]:
    if os.environ.get(flag, "1") == "0":
        return _plain, False
    try:
        from numba import njit
    except ImportError:  # pragma: no cover - exercised when numba is absent
        return _plain, False
    return njit, True
