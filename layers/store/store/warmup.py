"""The no-op invocation that `storectl` sends right after a deploy, so that the
emulator starts a function's workers (imports, Cassandra connection) before the
first real events arrive. Real events never carry the key: SQS batches have
`Records`, state machine tasks `task`."""

from __future__ import annotations

from typing import Any

from store.db import get_database

WARMUP_EVENT = {"warmup": True}


def is_warmup(event: Any) -> bool:
    return isinstance(event, dict) and event.get("warmup") is True


def warm_up(*, database: bool = True) -> None:
    """Open the worker's Cassandra connection now (a real round trip)."""
    if database:
        get_database().ping()
