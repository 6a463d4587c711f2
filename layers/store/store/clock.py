"""Time, in one place: the clock services receive, and the conversions that
Cassandra's timestamps need (UTC, milliseconds)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

# What services receive instead of calling datetime.now themselves, so tests
# and crash tests can hold time still or move it.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """The driver returns naive UTC datetimes: mark them as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def to_ms(moment: datetime) -> datetime:
    """Cassandra keeps milliseconds: round down so a read-back value compares equal."""
    return aware(moment).astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)
