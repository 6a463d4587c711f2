"""Failed-login throttling, per username and per source IP, kept in Cassandra.

Each failure is a row written with a TTL of the window, so the rows that exist
are exactly the failures inside it: "too many" is "the N-th newest row exists",
one small read per subject, and nothing has to be cleaned up.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

from cassandra.util import datetime_from_uuid1

from store.config import Settings
from store.db import Database
from store.errors import TooManyRequests

USERNAME = "username"
IP = "ip"


class LoginThrottle:
    def __init__(self, database: Database, settings: Settings) -> None:
        self._db = database
        self._window = settings.login_failure_window_seconds
        self._limits = {USERNAME: settings.login_max_failures_per_username, IP: settings.login_max_failures_per_ip}

    def retry_after(self, kind: str, subject: str, now: datetime | None = None) -> int | None:
        """Seconds until `subject` may try again, or None when it is not throttled."""
        limit = self._limits[kind]
        rows = list(
            self._db.execute(
                "SELECT failed_at FROM login_failures WHERE kind = ? AND subject = ? LIMIT ?", (kind, subject, limit)
            )
        )
        if len(rows) < limit:
            return None
        # Newest first: the last row read is the failure that drops out of the window first.
        frees_at: datetime = datetime_from_uuid1(rows[-1].failed_at).replace(tzinfo=UTC) + timedelta(
            seconds=self._window
        )
        return max(1, math.ceil((frees_at - (now or datetime.now(UTC))).total_seconds()))

    def check(self, username: str, source_ip: str) -> None:
        waits = [self.retry_after(USERNAME, username), self.retry_after(IP, source_ip)]
        longest = max((wait for wait in waits if wait is not None), default=None)
        if longest is not None:
            raise TooManyRequests(
                "too many failed logins; try again later",
                details={"retry_after_seconds": longest},
                headers={"Retry-After": str(longest)},
            )

    def record_failure(self, username: str, source_ip: str) -> None:
        for kind, subject in ((USERNAME, username), (IP, source_ip)):
            self._db.execute(
                "INSERT INTO login_failures (kind, subject, failed_at) VALUES (?, ?, ?) USING TTL ?",
                (kind, subject, uuid.uuid1(), self._window),
            )

    def clear_username(self, username: str) -> None:
        """After a successful login the name starts afresh (the IP does not: one
        valid account must not reset an attacker's count)."""
        self._db.execute("DELETE FROM login_failures WHERE kind = ? AND subject = ?", (USERNAME, username))
