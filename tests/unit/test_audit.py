"""The audit log's listing over in-memory day partitions: newest first across
days, filters, paging (also within one millisecond), the scan limit, the range."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from store import audit
from store.audit import AuditQuery, audit_page
from store.errors import BadRequest

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


class Days:
    """audit_log: rows by day, each day newest first (at DESC, id DESC)."""

    def __init__(self) -> None:
        self.rows: list[SimpleNamespace] = []
        self.reads = 0

    def add(self, at: datetime, actor: str = "root", action: str = "product.created") -> SimpleNamespace:
        row = SimpleNamespace(
            at=at,
            id=uuid.uuid1(),
            actor_id=uuid.uuid4(),
            actor=actor,
            action=action,
            target_type="product",
            target_id=str(uuid.uuid4()),
            details="{}",
        )
        self.rows.append(row)
        return row

    def __call__(self, day: date, since: datetime, until: datetime, limit: int) -> Iterator[Any]:
        self.reads += 1
        found = [row for row in self.rows if row.at.date() == day and since <= row.at <= until]
        found.sort(key=lambda row: (row.at, row.id.bytes), reverse=True)
        return iter(found[:limit])


def _all(days: Days, **query: Any) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page = audit_page(AuditQuery(**query, cursor=cursor), NOW, days)
        ids += [str(item.id) for item in page.items]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


def test_pages_walk_the_days_newest_first_and_repeat_nothing() -> None:
    days = Days()
    rows = [days.add(NOW - timedelta(hours=hours)) for hours in range(0, 100, 7)]
    # Three records in one millisecond: paging must neither skip nor repeat them.
    same = [days.add(NOW - timedelta(hours=30)) for _ in range(3)]
    expected = [str(row.id) for row in sorted(rows + same, key=lambda row: (row.at, row.id.bytes), reverse=True)]
    assert _all(days, limit=100) == expected
    for limit in (1, 2, 3, 5):
        assert _all(days, limit=limit) == expected


def test_filters_by_actor_action_and_time() -> None:
    days = Days()
    mine = days.add(NOW - timedelta(days=1), actor="ann", action="user.deleted")
    days.add(NOW - timedelta(days=1, hours=1), actor="bob", action="user.deleted")
    days.add(NOW - timedelta(days=2), actor="ann", action="product.deleted")
    old = days.add(NOW - timedelta(days=40), actor="ann", action="user.deleted")
    assert _all(days, actor="ann", action="user.deleted") == [str(mine.id)]  # the default range: 30 days
    since = NOW - timedelta(days=60)
    assert _all(days, actor="ann", action="user.deleted", since=since) == [str(mine.id), str(old.id)]
    until = NOW - timedelta(days=30)
    assert _all(days, since=since, until=until) == [str(old.id)]


def test_a_page_reads_at_most_the_scan_limit_and_continues_from_there(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "SCAN_LIMIT", 4)
    days = Days()
    wanted = days.add(NOW - timedelta(hours=10), actor="ann")
    for minutes in range(1, 8):
        days.add(NOW - timedelta(minutes=minutes), actor="bob")
    first = audit_page(AuditQuery(actor="ann"), NOW, days)
    assert first.items == []  # four of bob's read, none of ann's yet
    assert first.next_cursor is not None
    assert _all(days, actor="ann") == [str(wanted.id)]


def test_cursors_belong_to_their_query_and_bad_ranges_are_400() -> None:
    days = Days()
    for hours in range(3):
        days.add(NOW - timedelta(hours=hours))
    page = audit_page(AuditQuery(limit=1), NOW, days)
    assert page.next_cursor is not None
    with pytest.raises(BadRequest):
        audit_page(AuditQuery(limit=1, action="user.deleted", cursor=page.next_cursor), NOW, days)
    # Defaults relative to now travel in the cursor: a later "now" continues the same listing.
    later = audit_page(AuditQuery(limit=1, cursor=page.next_cursor), NOW + timedelta(minutes=5), days)
    assert [item.at for item in later.items] == [NOW - timedelta(hours=1)]
    with pytest.raises(BadRequest):
        audit_page(AuditQuery(since=NOW, until=NOW - timedelta(seconds=1)), NOW, days)
    with pytest.raises(BadRequest):
        audit_page(AuditQuery(since=NOW - timedelta(days=367), until=NOW), NOW, days)
    assert audit_page(AuditQuery(until=datetime(1, 1, 2, tzinfo=UTC)), NOW, days).items == []
