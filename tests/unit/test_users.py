"""Users domain pieces that need no database: models and the throttle arithmetic."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from store.throttle import Policy, retry_after
from store.users import ProfileUpdate, User, UserCreate, UserPublic, username_key

_POLICY = Policy(free=5, base_delay=2, max_delay=60, window=300)


def test_the_free_attempts_pass_at_once() -> None:
    now = datetime.now(UTC)
    for attempts in range(5):
        assert retry_after(_POLICY, attempts, now, now) is None


def test_past_the_free_attempts_the_delay_doubles_up_to_the_cap() -> None:
    assert [_POLICY.delay_after(n) for n in range(5, 12)] == [2, 4, 8, 16, 32, 60, 60]
    # However many attempts an attacker made, the wait never exceeds the cap.
    assert _POLICY.delay_after(10_000) == 60


def test_retry_after_counts_from_the_last_attempt() -> None:
    now = datetime.now(UTC)
    assert retry_after(_POLICY, 7, now - timedelta(seconds=3), now) == 5  # 8 s after the last one
    assert retry_after(_POLICY, 7, now - timedelta(seconds=9), now) is None


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
