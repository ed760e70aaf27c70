"""The event loop the delivery commands run on: uvloop's, whose sockets, timers and callbacks are written in
C on libuv (the worker spends much of its time in them), where it runs; else asyncio's own."""

from __future__ import annotations

__all__ = ["run"]

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

try:
    import uvloop
except ImportError:  # pragma: no cover (a platform without uvloop's wheels: Windows)
    uvloop = None  # type: ignore[assignment]

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on the fastest loop at hand."""
    if uvloop is None:  # pragma: no cover
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
