"""Attempt throttles (login, registration, password confirmation), atomic in Cassandra.

Each subject (a username, a source IP, a user id) has one row: how many
attempts it made and when the last one was. An attempt is *taken* before the
password is looked at, by a lightweight transaction (`... IF attempts = n`), so
concurrent requests are serialised: of 20 simultaneous guesses at most the
free allowance is ever evaluated, the rest are answered 429 without a look at
the password. (Counters were the other option: atomic too, but a counter
table cannot have a TTL, so every username ever tried would stay forever.)

Progressive delay instead of a lockout: the first `free` attempts in a window
pass at once; after that each attempt must wait `base * 2^(n - free)` seconds
after the previous one, capped at `max_delay`. An attacker who hammers a
username can therefore never make its Retry-After longer than `max_delay`
(60 s by default): the real user is kept out at most that long after the
attack stops, and can log in between the attacker's spaced-out tries. Rows
expire `window` seconds after the last attempt (TTL), so nothing is cleaned up.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from store.clock import aware
from store.config import Settings
from store.db import Database
from store.errors import TooManyRequests

USERNAME = "login_username"
IP = "login_ip"
REGISTRATION_IP = "register_ip"
NOTIFICATIONS_USER = "notify_user"
PASSWORD_CONFIRMATION = "password_user"  # noqa: S105 - a throttle kind, not a password

# Compare-and-set rounds one attempt may lose before it is answered 429: each
# round one of the competing attempts wins, so this many rounds serve that many
# simultaneous attempts on one subject (a busy NAT address). Between rounds a
# short random pause spreads the competitors out.
_MAX_ROUNDS = 32
_PAUSE_SECONDS = 0.005


@dataclass(frozen=True)
class Policy:
    free: int
    base_delay: float
    max_delay: float
    window: int

    def delay_after(self, attempts: int) -> float:
        """Seconds the next attempt waits after the last one, with `attempts` made."""
        if attempts < self.free:
            return 0.0
        return float(min(self.max_delay, self.base_delay * 2 ** min(attempts - self.free, 30)))


def retry_after(policy: Policy, attempts: int, last_at: datetime, now: datetime) -> int | None:
    """Whole seconds until the next attempt may be made, or None when it may be made now."""
    delay = policy.delay_after(attempts)
    if delay == 0:
        return None  # (another server's clock may be a little ahead: no wait from that)
    free_at = aware(last_at) + timedelta(seconds=delay)
    remaining = (free_at - now).total_seconds()
    return max(1, math.ceil(remaining)) if remaining > 0 else None


def _throttled(seconds: int, message: str) -> TooManyRequests:
    return TooManyRequests(message, details={"retry_after_seconds": seconds}, headers={"Retry-After": str(seconds)})


class Throttle:
    """Attempts of one kind, per subject."""

    def __init__(self, database: Database, kind: str, policy: Policy, message: str) -> None:
        self._db = database
        self.kind = kind
        self.policy = policy
        self._message = message

    def take(self, subject: str, at: datetime | None = None) -> None:
        """Count one attempt, or raise 429 when the subject must wait (nothing is counted then)."""
        row = self._db.execute(
            "SELECT attempts, last_at FROM attempt_throttles WHERE kind = ? AND subject = ?", (self.kind, subject)
        ).one()
        for _ in range(_MAX_ROUNDS):
            now = at or datetime.now(UTC)
            attempts = row.attempts if row is not None and row.attempts is not None else 0
            if row is not None and row.last_at is not None:
                wait = retry_after(self.policy, attempts, row.last_at, now)
                if wait is not None:
                    raise _throttled(wait, self._message)
            if row is None:
                result = self._db.execute(
                    "INSERT INTO attempt_throttles (kind, subject, attempts, last_at) VALUES (?, ?, 1, ?) "
                    "IF NOT EXISTS USING TTL ?",
                    (self.kind, subject, now, self.policy.window),
                )
            else:
                result = self._db.execute(
                    "UPDATE attempt_throttles USING TTL ? SET attempts = ?, last_at = ? "
                    "WHERE kind = ? AND subject = ? IF attempts = ?",
                    (self.policy.window, attempts + 1, now, self.kind, subject, row.attempts),
                )
            if result.was_applied:
                return
            time.sleep(random.uniform(0, _PAUSE_SECONDS))  # noqa: S311 - jitter, not a secret
            # Lost the race: read the row as the winner left it (a serial read
            # sees every accepted compare-and-set).
            row = self._db.execute(
                "SELECT attempts, last_at FROM attempt_throttles WHERE kind = ? AND subject = ?",
                (self.kind, subject),
                serial=True,
            ).one()
        raise _throttled(1, self._message)

    def reset(self, subject: str) -> None:
        """Forget the subject's attempts (a successful login or confirmation)."""
        # A compare-and-set like every other write of the row (LWT and plain
        # writes must not be mixed on one row).
        self._db.execute("DELETE FROM attempt_throttles WHERE kind = ? AND subject = ? IF EXISTS", (self.kind, subject))

    def refund(self, subject: str) -> None:
        """Give one attempt back (a source IP's successful login is no failure).
        Best effort: under contention it may be given up."""
        for _ in range(3):
            row = self._db.execute(
                "SELECT attempts FROM attempt_throttles WHERE kind = ? AND subject = ?", (self.kind, subject)
            ).one()
            if row is None or not row.attempts:
                return
            result = self._db.execute(
                "UPDATE attempt_throttles USING TTL ? SET attempts = ? WHERE kind = ? AND subject = ? IF attempts = ?",
                (self.policy.window, row.attempts - 1, self.kind, subject, row.attempts),
            )
            if result.was_applied:
                return


def _policy(settings: Settings, free: int, window: int) -> Policy:
    return Policy(
        free=free,
        base_delay=settings.throttle_base_delay_seconds,
        max_delay=settings.throttle_max_delay_seconds,
        window=window,
    )


class LoginThrottle:
    """Logins: per username (reset by a success) and per source IP (a success gives its attempt back)."""

    def __init__(self, database: Database, settings: Settings) -> None:
        window = settings.login_failure_window_seconds
        message = "too many failed logins; try again later"
        self.username = Throttle(
            database, USERNAME, _policy(settings, settings.login_max_failures_per_username, window), message
        )
        self.ip = Throttle(database, IP, _policy(settings, settings.login_max_failures_per_ip, window), message)

    def take(self, username: str, source_ip: str) -> None:
        self.ip.take(source_ip)
        self.username.take(username)

    def succeeded(self, username: str, source_ip: str) -> None:
        self.username.reset(username)
        self.ip.refund(source_ip)


def registration_throttle(database: Database, settings: Settings) -> Throttle:
    """Registrations per source IP: every attempt counts (there is no failure to tell apart)."""
    return Throttle(
        database,
        REGISTRATION_IP,
        _policy(settings, settings.registrations_per_ip_per_hour, 3600),
        "too many registrations from this address; try again later",
    )


def password_confirmation_throttle(database: Database, settings: Settings) -> Throttle:
    """Wrong `current_password`s per user (PUT /me): the same allowance as logins."""
    return Throttle(
        database,
        PASSWORD_CONFIRMATION,
        _policy(settings, settings.login_max_failures_per_username, settings.login_failure_window_seconds),
        "too many wrong current passwords; try again later",
    )


def notification_allowance(database: Database, settings: Settings) -> Callable[[uuid.UUID], bool]:
    """Whether a user may get one more channel message (SMS, email) this hour:
    `notifications_per_user_per_hour`, then none until the hour is over."""
    hour = 3600
    throttle = Throttle(
        database,
        NOTIFICATIONS_USER,
        Policy(free=settings.notifications_per_user_per_hour, base_delay=hour, max_delay=hour, window=hour),
        "too many notifications",
    )

    def allow(user_id: uuid.UUID) -> bool:
        try:
            throttle.take(str(user_id))
        except TooManyRequests:
            return False
        return True

    return allow
