"""Read a log group's new events exactly once, across polls and restarts.

FilterLogEvents gives no event ids, and on the local emulator no `nextToken`
past its 10,000-event page; every line of one invocation carries the same
timestamp. So each group keeps a cursor (a timestamp) and the identities of
the events already counted since `cursor - overlap`:

- a query starts at `cursor - overlap` (inclusive), so events that land late
  within the overlap, or the rest of a timestamp cut off by a full page, are
  read again and recognised by their identity;
- an identity is (stream, timestamp, message, occurrence): identical lines of
  one invocation are told apart by how many copies came before them in the
  same query, which is the same number whichever copy is which;
- a full page without a token continues from its last timestamp; when one
  timestamp alone fills a page, the group is read stream by stream for it.

The cursor and the identities are saved with the counted values (see
`state.py`), so a restart resumes where the last saved poll ended.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

PAGE_LIMIT = 10_000  # FilterLogEvents' largest page


@dataclass(frozen=True)
class LogEvent:
    stream: str
    timestamp: int  # epoch ms
    message: str


@dataclass(frozen=True)
class Page:
    events: list[LogEvent]
    next_token: str | None = None


class LogSource(Protocol):
    """The two CloudWatch Logs calls the reader needs (a boto3 adapter, or a fake)."""

    def filter(
        self, group: str, start: int, *, token: str | None = None, streams: Sequence[str] | None = None
    ) -> Page: ...

    def streams_since(self, group: str, start: int) -> list[str]: ...


@dataclass
class GroupCursor:
    position: int  # epoch ms: the newest timestamp read so far
    seen: dict[str, int] = field(default_factory=dict)  # identity -> its timestamp

    def to_json(self) -> dict[str, Any]:
        return {"position": self.position, "seen": self.seen}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroupCursor:
        return cls(position=int(data["position"]), seen={str(k): int(v) for k, v in data["seen"].items()})


def identity(event: LogEvent, occurrence: int) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for part in (event.stream, str(event.timestamp), event.message, str(occurrence)):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


class LogReader:
    def __init__(self, source: LogSource, *, overlap_ms: int = 10_000, page_limit: int = PAGE_LIMIT) -> None:
        self._source = source
        self._overlap = overlap_ms
        self._limit = page_limit

    def read(self, group: str, cursor: GroupCursor) -> list[LogEvent]:
        """Events of `group` not yet in `cursor`, oldest first; updates `cursor`."""
        start = max(0, cursor.position - self._overlap)
        fresh: list[LogEvent] = []
        while True:
            events, full = self._query(group, start)
            fresh.extend(self._unseen(events, cursor))
            if not full:
                break
            last = events[-1].timestamp
            if last > start:
                start = last  # the rest of `last` comes again and is recognised
                continue
            # One timestamp fills a whole page: read it stream by stream.
            for stream in self._source.streams_since(group, start):
                page = self._source.filter(group, start, streams=[stream])
                fresh.extend(self._unseen([e for e in page.events if e.timestamp == start], cursor))
            start += 1
        if fresh:
            cursor.position = max(cursor.position, *(event.timestamp for event in fresh))
        horizon = cursor.position - self._overlap
        cursor.seen = {key: stamp for key, stamp in cursor.seen.items() if stamp >= horizon}
        fresh.sort(key=lambda event: event.timestamp)
        return fresh

    def _query(self, group: str, start: int) -> tuple[list[LogEvent], bool]:
        """One query from `start`, following tokens; (events, whether a page was full without a token)."""
        events: list[LogEvent] = []
        token: str | None = None
        while True:
            page = self._source.filter(group, start, token=token)
            events.extend(page.events)
            if page.next_token and page.events:
                token = page.next_token
                continue
            full = len(page.events) >= self._limit and page.next_token is None
            events.sort(key=lambda event: event.timestamp)
            return events, full

    @staticmethod
    def _unseen(events: Iterable[LogEvent], cursor: GroupCursor) -> list[LogEvent]:
        copies: Counter[tuple[str, int, str]] = Counter()
        fresh = []
        for event in events:
            key = (event.stream, event.timestamp, event.message)
            occurrence = copies[key]
            copies[key] += 1
            ident = identity(event, occurrence)
            if ident not in cursor.seen:
                cursor.seen[ident] = event.timestamp
                fresh.append(event)
        return fresh
