"""A settable clock for lazyscribe, so the files it writes are reproducible.

lazyscribe takes every timestamp (experiment created_at and last_updated, artifact created_at,
default artifact file names) from ``lazyscribe._utils.utcnow()``. That one function is also captured
by attrs factories and imported by name into several modules, so rebinding module attributes would
miss some callers. Swapping the function's code object instead changes it for every caller at once.
"""

from __future__ import annotations

from datetime import datetime

import lazyscribe._utils as _utils

_GLOBAL = "_labbook_fixed_now"


def _fixed_utcnow() -> datetime:  # pragma: no cover - body runs with _utils' globals
    return _labbook_fixed_now  # type: ignore[name-defined]  # noqa: F821


def set_now(when: str | datetime) -> None:
    """Make lazyscribe's utcnow() return ``when`` (a naive UTC datetime or ISO string) from now on."""
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    vars(_utils)[_GLOBAL] = when
    if _utils.utcnow.__code__ is not _fixed_utcnow.__code__:
        _utils.utcnow.__code__ = _fixed_utcnow.__code__
