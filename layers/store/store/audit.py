"""The audit log of critical operations: who did what to which product or user, when.

Recorded: product created, updated, deleted; stock changed; a user's role
changed; a user deleted. Where the change is a logged batch (products: create,
update, delete) the audit row joins that batch, so a change never lands
without its record or the reverse. Where the change is a compare-and-set
(stock, users), which cannot join a batch with another partition, the record
is written right after the change is applied; a crash between the two loses
the record (logged as an error when the write fails).

`audit_log` has one partition per day, newest first. A listing walks the
days of its time range from the newest, filtering by actor and action as it
reads; it reads at most SCAN_LIMIT rows per request, so a page with a filter
that matches little may hold fewer than `limit` entries and still have a
`next_cursor` (continue from there).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal, Protocol
from uuid import UUID

from cassandra.query import BatchStatement, BatchType
from cassandra.util import uuid_from_time
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from store.clock import Clock, aware, to_ms, utc_now
from store.db import Database
from store.errors import BadRequest
from store.observability import logger
from store.paging import MAX_CURSOR_LENGTH, Page, decode_cursor, encode_cursor, invalid_cursor

Action = Literal[
    "product.created",
    "product.updated",
    "product.deleted",
    "product.stock_changed",
    "user.role_changed",
    "user.deleted",
]
TargetType = Literal["product", "user"]
DEFAULT_RANGE = timedelta(days=30)
MAX_RANGE = timedelta(days=366)  # the table keeps a year
MAX_LIMIT = 100
SCAN_LIMIT = 5000


class _User(Protocol):
    @property
    def id(self) -> UUID: ...

    @property
    def username(self) -> str: ...


@dataclass(frozen=True)
class Actor:
    """The admin who made the change."""

    id: UUID
    username: str

    @classmethod
    def of(cls, user: _User) -> Actor:
        return cls(id=user.id, username=user.username)


@dataclass(frozen=True)
class AuditRecord:
    """One critical operation, about to be recorded."""

    actor: Actor
    action: Action
    target_type: TargetType
    target_id: UUID | str
    details: dict[str, Any] = field(default_factory=dict)


class AuditEntry(BaseModel):
    id: UUID
    at: datetime
    actor_id: UUID
    actor: str
    action: Action
    target_type: TargetType
    target_id: str
    details: dict[str, Any]


def _iso_datetime(value: object) -> object:
    """Only ISO 8601 text: pydantic would also take a number as a Unix time
    (`until=0.5`), which the API description does not promise."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError as error:
            raise ValueError("must be an ISO 8601 date and time, e.g. 2026-01-31T12:00:00Z") from error
    return value


IsoDatetime = Annotated[datetime, BeforeValidator(_iso_datetime)]


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actor: Annotated[str | None, Field(min_length=1, max_length=100, description="the admin's username")] = None
    action: Action | None = None
    since: Annotated[IsoDatetime | None, Field(description="from (inclusive); default: 30 days before `until`")] = None
    until: Annotated[IsoDatetime | None, Field(description="to (inclusive); default: now")] = None
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 20
    cursor: Annotated[
        str | None, Field(max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page")
    ] = None


def _time_range(query: AuditQuery, now: datetime) -> tuple[datetime, datetime]:
    """The range asked for, or 400: each bound alone is valid, together they may not be."""
    until = aware(query.until) if query.until is not None else now
    try:
        since = aware(query.since) if query.since is not None else until - DEFAULT_RANGE
    except OverflowError:
        since = datetime.min.replace(tzinfo=UTC)
    if since > until:
        raise BadRequest("since must not be after until", details={"parameter": "since"})
    if until - since > MAX_RANGE:
        raise BadRequest(f"the time range is at most {MAX_RANGE.days} days", details={"parameter": "since"})
    return since, until


class AuditPage(Page[AuditEntry]):
    since: datetime
    until: datetime


# Reads one day's rows in [since, until], newest first, at most `limit`.
DayReader = Callable[[date, datetime, datetime, int], Iterable[Any]]

_COLUMNS = "at, id, actor_id, actor, action, target_type, target_id, details"


def _ms(moment: datetime) -> int:
    return int(aware(moment).timestamp() * 1000)


def _from_ms(value: object) -> datetime:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("not a timestamp")
    return datetime.fromtimestamp(value / 1000, UTC)


class AuditLog:
    def __init__(self, database: Database, clock: Clock = utc_now) -> None:
        self._db = database
        self._clock = clock

    def add(self, batch: BatchStatement, record: AuditRecord) -> None:
        """Add the record to the caller's logged batch (written with its change)."""
        at = to_ms(self._clock())
        batch.add(
            self._db.prepare(f"INSERT INTO audit_log (day, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
            (
                at.date(),
                at,
                uuid_from_time(at),
                record.actor.id,
                record.actor.username,
                record.action,
                record.target_type,
                str(record.target_id),
                json.dumps(record.details, default=str, sort_keys=True),
            ),
        )

    def write(self, record: AuditRecord) -> None:
        """Record a change already made (a compare-and-set); a failure is logged, not raised:
        the change stands and the caller must not report it as failed."""
        batch = BatchStatement(batch_type=BatchType.UNLOGGED)  # one row
        self.add(batch, record)
        try:
            self._db.execute(batch)
        except Exception as error:
            logger.error(
                "audit record lost",
                extra={
                    "action": record.action,
                    "target_id": str(record.target_id),
                    "actor": record.actor.username,
                    "error": repr(error),
                },
            )

    def page(self, query: AuditQuery) -> AuditPage:
        return audit_page(query, self._clock(), self._day)

    def _day(self, day: date, since: datetime, until: datetime, limit: int) -> Any:
        return self._db.execute(
            f"SELECT {_COLUMNS} FROM audit_log WHERE day = ? AND at >= ? AND at <= ? LIMIT ?",
            (day, since, until, limit),
        )


def _resume(cursor: str, filters: list[Any]) -> tuple[tuple[datetime, UUID], datetime, datetime]:
    """Where the cursor's page ended, and its range; 400 for another query's cursor."""
    fields = decode_cursor(cursor)
    if fields.get("f") != filters:
        raise invalid_cursor()
    try:
        return (_from_ms(fields["a"]), UUID(str(fields["i"]))), _from_ms(fields["s"]), _from_ms(fields["u"])
    except (KeyError, TypeError, ValueError, OverflowError, OSError) as error:
        raise invalid_cursor() from error


def audit_page(query: AuditQuery, now: datetime, read_day: DayReader) -> AuditPage:
    """One page of the log: the days of the range newest first, filtered as read."""
    since, until = _time_range(query, now)
    # The query as asked: a cursor belongs to it. Defaults (relative to now) travel in the cursor.
    filters = [query.actor, query.action, *(_ms(value) if value else None for value in (query.since, query.until))]
    after: tuple[datetime, UUID] | None = None
    if query.cursor is not None:
        after, since, until = _resume(query.cursor, filters)
    start = after[0] if after is not None else until
    items: list[AuditEntry] = []
    scanned = 0
    last: tuple[datetime, UUID] | None = None
    # Rows of the cursor's millisecond up to and including the cursor's own were shown already.
    passed = after is None
    day = start.astimezone(UTC).date()
    while day >= since.astimezone(UTC).date() and len(items) <= query.limit and scanned < SCAN_LIMIT:
        for row in read_day(day, since, start, SCAN_LIMIT - scanned):
            at = aware(row.at)
            # Every row read counts, skipped or not: a day's read is cut at the rows left,
            # and a day cut short must be continued by cursor, not left for the day before.
            scanned += 1
            if not passed and after is not None:
                if at >= after[0]:
                    passed = row.id == after[1]
                    continue
                passed = True
            last = (at, row.id)
            if query.actor in (None, row.actor) and query.action in (None, row.action):
                items.append(_entry(row))
            if len(items) > query.limit:
                break
        if scanned >= SCAN_LIMIT:
            break
        if day == date.min:
            break
        day -= timedelta(days=1)
    more = len(items) > query.limit
    items = items[: query.limit]
    next_cursor = None
    if more:
        last = (items[-1].at, items[-1].id)
    if last is not None and (more or scanned >= SCAN_LIMIT):
        next_cursor = encode_cursor(
            {"a": _ms(last[0]), "i": str(last[1]), "f": filters, "s": _ms(since), "u": _ms(until)}
        )
    return AuditPage(items=items, next_cursor=next_cursor, since=since, until=until)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=aware(row.at),
        actor_id=row.actor_id,
        actor=row.actor,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        details=json.loads(row.details or "{}"),
    )
