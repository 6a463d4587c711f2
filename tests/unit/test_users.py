"""Users domain pieces that need no database: models and the throttle arithmetic."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from cassandra.util import uuid_from_time
from pydantic import ValidationError

from store.config import Settings
from store.errors import TooManyRequests
from store.throttle import IP, USERNAME, LoginThrottle
from store.users import ProfileUpdate, User, UserCreate, UserPublic, username_key


class _Row:
    def __init__(self, failed_at: uuid.UUID) -> None:
        self.failed_at = failed_at


class _FailuresDb:
    """Answers the throttle's SELECT with failures `ages` seconds old, newest first."""

    def __init__(self, ages: dict[str, list[float]], now: float) -> None:
        self.rows = {kind: [_Row(uuid_from_time(now - age)) for age in sorted(a)] for kind, a in ages.items()}

    def execute(self, cql: str, params: tuple[Any, ...] = ()) -> list[_Row]:
        kind, _, limit = params
        return self.rows.get(kind, [])[:limit]


def _throttle(ages: dict[str, list[float]], now: float) -> LoginThrottle:
    database: Any = _FailuresDb(ages, now)
    return LoginThrottle(database, Settings())


def test_fewer_failures_than_the_limit_are_not_throttled() -> None:
    now = time.time()
    throttle = _throttle({USERNAME: [10, 20, 30, 40]}, now)
    assert throttle.retry_after(USERNAME, "ann", datetime.fromtimestamp(now, UTC)) is None
    throttle.check("ann", "10.0.0.1")


def test_retry_after_is_when_the_oldest_counted_failure_leaves_the_window() -> None:
    now = time.time()
    throttle = _throttle({IP: [1, 2, 3, 4, 100, 250]}, now)
    # The fifth-newest failure is 100 s old: free again in 300 - 100 s.
    assert throttle.retry_after(IP, "10.0.0.1", datetime.fromtimestamp(now, UTC)) == 200
    with pytest.raises(TooManyRequests) as raised:
        throttle.check("ann", "10.0.0.1")
    assert 195 <= int(raised.value.headers["Retry-After"]) <= 200


def test_user_public_has_no_password_fields() -> None:
    assert set(UserPublic.model_fields) == {
        "id",
        "username",
        "email",
        "full_name",
        "phone",
        "language",
        "role",
        "created_at",
    }
    user = User(uuid.uuid4(), "ann", None, None, None, "user", "$argon2id$secret", datetime.now(UTC))
    assert "argon2" not in user.public().model_dump_json()


def test_usernames_compare_without_case() -> None:
    assert username_key("Ann.Lee-1") == username_key("ann.lee-1")


@pytest.mark.parametrize("username", ["ab", "a" * 33, "with space", "semi;colon", "ünï", "new\nline"])
def test_bad_usernames_are_refused(username: str) -> None:
    with pytest.raises(ValidationError) as raised:
        UserCreate(username=username, password="long-enough")
    assert [error["loc"] for error in raised.value.errors()] == [("username",)]


def test_register_refuses_unknown_fields_such_as_role() -> None:
    with pytest.raises(ValidationError) as raised:
        UserCreate.model_validate({"username": "ann", "password": "long-enough", "role": "admin"})
    assert [error["loc"] for error in raised.value.errors()] == [("role",)]


def test_a_new_password_needs_the_current_one() -> None:
    with pytest.raises(ValidationError) as raised:
        ProfileUpdate(password="new-password")
    assert [error["loc"] for error in raised.value.errors()] == [("current_password",)]
    assert ProfileUpdate(password="new-password", current_password="old").current_password == "old"
    assert ProfileUpdate(full_name="Ann").model_fields_set == {"full_name"}
