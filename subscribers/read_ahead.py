"""An iterator read ahead in a thread of its own: a roster's next batch is parsed while the database writes
the last one (the driver lets go of the GIL while it waits for the server), so the two take turns no more."""

from __future__ import annotations

__all__ = ["read_ahead"]

import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

_T = TypeVar("_T")


@dataclass(frozen=True)
class _Failed:
    error: BaseException


@dataclass(frozen=True)
class _Item(Generic[_T]):
    value: _T


_END = object()


@contextmanager
def read_ahead(items: Iterable[_T], *, depth: int = 2) -> Iterator[Iterator[_T]]:
    """`items` as they come, at most `depth` of them read ahead; an error of the reading is raised where the
    item would have been. Leaving the block early stops the reading (after at most one more item)."""
    ahead: queue.Queue[_Item[_T] | _Failed | object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                ahead.put(_Item(item))
                if stop.is_set():
                    return
        except BaseException as error:  # handed over to the reading side, raised there
            ahead.put(_Failed(error))
            return
        ahead.put(_END)

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        yield _taken(ahead)
    finally:
        stop.set()
        _drain(ahead)  # a put blocked on a full queue goes through, and the thread sees `stop`
        thread.join()


def _taken(ahead: queue.Queue[_Item[_T] | _Failed | object]) -> Iterator[_T]:
    while True:
        got = ahead.get()
        if isinstance(got, _Failed):
            raise got.error
        if not isinstance(got, _Item):
            return
        yield got.value


def _drain(ahead: queue.Queue[_Item[_T] | _Failed | object]) -> None:
    while True:
        try:
            ahead.get_nowait()
        except queue.Empty:
            return
