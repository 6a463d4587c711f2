"""The last admin can be neither demoted nor deleted (issue 14), even when two
admins demote each other at the same moment."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from store.config import Settings
from store.db import Database
from store.errors import Conflict
from store.users import AdminRoster, UserRepository
from support import LocalStack, bearer, cql, new_user


def _roster(local_stack: LocalStack) -> set[uuid.UUID]:
    return set(cql(local_stack, "SELECT admins FROM admin_roster WHERE id = 'admins'")[0].admins or ())


def test_role_changes_and_deletions_go_through_the_roster(
    api: httpx.Client, local_stack: LocalStack, admin_token: str
) -> None:
    user, _ = new_user(api)
    assert (
        api.put(f"/user-api/users/{user['id']}", json={"role": "admin"}, headers=bearer(admin_token)).status_code == 200
    )
    assert uuid.UUID(user["id"]) in _roster(local_stack)
    assert (
        api.put(f"/user-api/users/{user['id']}", json={"role": "user"}, headers=bearer(admin_token)).status_code == 200
    )
    assert uuid.UUID(user["id"]) not in _roster(local_stack)
    other, _ = new_user(api)
    assert (
        api.put(f"/user-api/users/{other['id']}", json={"role": "admin"}, headers=bearer(admin_token)).status_code
        == 200
    )
    assert api.delete(f"/user-api/users/{other['id']}", headers=bearer(admin_token)).status_code == 204
    assert uuid.UUID(other["id"]) not in _roster(local_stack)


def test_two_admins_demoting_each_other_at_once_leave_one(local_stack: LocalStack) -> None:
    """Straight against Cassandra, on a roster of the test's own with two admins:
    of the two simultaneous removals exactly one is applied, and the survivor
    can then not be removed either."""
    settings = Settings(cassandra_port=local_stack.instance.cassandra_port)
    database = Database(settings)
    roster = AdminRoster(database, UserRepository(database), roster_id=f"test-{uuid.uuid4().hex}")
    first, second = uuid.uuid4(), uuid.uuid4()
    try:
        database.execute("INSERT INTO admin_roster (id, admins) VALUES (?, ?)", (roster._ID, {first, second}))
        barrier_at = time.monotonic() + 0.5

        def remove(user_id: uuid.UUID) -> bool:
            time.sleep(max(0.0, barrier_at - time.monotonic()))
            try:
                roster.remove(user_id)
            except Conflict:
                return False
            return True

        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = list(pool.map(remove, (first, second)))
        assert sorted(outcomes) == [False, True], outcomes
        survivor = first if not outcomes[0] else second
        with pytest.raises(Conflict, match="last admin"):
            roster.remove(survivor)
    finally:
        database.close()
