"""Reads shared by one events pass: a listener of the pass's announcements (the
webhooks' endpoints) reads what it needs once per pass instead of once per
announcement. Nothing is kept between passes, nor outside one."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_reads: ContextVar[dict[str, Any] | None] = ContextVar("events_pass", default=None)


@contextmanager
def events_pass() -> Iterator[None]:
    """The extent of one pass (its transaction is open throughout)."""
    token = _reads.set({})
    try:
        yield
    finally:
        _reads.reset(token)


def read_once_per_pass[T](key: str, read: Callable[[], T]) -> T:
    """`read()`, kept under `key` for the rest of the current pass; outside a
    pass, read every time."""
    reads = _reads.get()
    if reads is None:
        return read()
    if key not in reads:
        reads[key] = read()
    return reads[key]
