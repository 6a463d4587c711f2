"""Failed-login throttling (per username and per source IP) and concurrent registration."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from store.config import Settings
from store.db import Database
from store.errors import Conflict
from store.users import UserCreate, UserRepository, create_user
from support import LocalStack, bearer, fake_ip, login, register, unique_username

LIMIT = 5  # the default: 5 failures in 5 minutes
WINDOW = 300


def _assert_throttled(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "too_many_requests"
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= WINDOW
    return retry_after


def test_five_failures_throttle_the_username_from_any_ip(api: httpx.Client) -> None:
    user = register(api, password="the-right-one")
    ip = fake_ip()
    for _ in range(LIMIT):
        assert login(api, user["username"], "a-wrong-one", ip=ip).status_code == 401
    # Even the right password is refused now, and from another address too.
    _assert_throttled(login(api, user["username"], "the-right-one", ip=ip))
    _assert_throttled(login(api, user["username"], "the-right-one", ip=fake_ip()))


def test_five_failures_from_one_ip_throttle_that_ip_for_every_username(api: httpx.Client) -> None:
    user = register(api, password="the-right-one")
    ip = fake_ip()
    for _ in range(LIMIT):
        assert login(api, unique_username(), "whatever-123", ip=ip).status_code == 401
    _assert_throttled(login(api, user["username"], "the-right-one", ip=ip))
    # The same user from elsewhere is fine: the username itself has no failures.
    assert login(api, user["username"], "the-right-one", ip=fake_ip()).status_code == 200


def test_a_successful_login_resets_the_usernames_count(api: httpx.Client) -> None:
    user = register(api, password="the-right-one")
    for _ in range(LIMIT - 1):
        assert login(api, user["username"], "a-wrong-one").status_code == 401
    assert login(api, user["username"], "the-right-one").status_code == 200
    for _ in range(LIMIT - 1):
        assert login(api, user["username"], "a-wrong-one").status_code == 401
    assert login(api, user["username"], "the-right-one").status_code == 200


def test_concurrent_registrations_of_one_name_create_one_user(api: httpx.Client, local_stack: LocalStack) -> None:
    username = unique_username()

    def attempt(index: int) -> tuple[int, str]:
        with local_stack.http() as client:
            response = client.post("/user-api/register", json={"username": username, "password": f"password-{index}"})
            return response.status_code, response.text

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(attempt, range(10)))
    assert sorted(status for status, _ in answers) == [201] + [409] * 9, answers
    # The account is the winner's: its password logs in. (Not trying all ten:
    # five wrong ones would throttle the name.)
    winner = next(index for index, (status, _) in enumerate(answers) if status == 201)
    assert login(api, username, f"password-{winner}").status_code == 200


def test_concurrent_creates_in_cassandra_have_one_winner(local_stack: LocalStack) -> None:
    """The same race straight against Cassandra, with more parallelism than the
    emulator's Lambda workers give: the lightweight transaction decides."""
    settings = Settings(cassandra_port=local_stack.instance.cassandra_port)
    database = Database(settings)
    repository = UserRepository(database)
    username = unique_username()
    barrier_at = time.monotonic() + 1.0

    def attempt(index: int) -> Any:
        time.sleep(max(0.0, barrier_at - time.monotonic()))  # start together
        try:
            return create_user(repository, UserCreate(username=username, password=f"password-{index}"))
        except Conflict:
            return None

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(attempt, range(20)))
        created = [user for user in results if user is not None]
        assert len(created) == 1
        assert repository.get_by_username(username) == created[0]
    finally:
        database.close()


@pytest.mark.usefixtures("local_stack")
def test_login_metrics_and_no_secrets_in_the_logs(api: httpx.Client, local_stack: LocalStack) -> None:
    password = f"pw-{unique_username()}"
    user = register(api, password=password)
    token = login(api, user["username"], password).json()["access_token"]
    assert login(api, user["username"], password + "x").status_code == 401
    assert api.get("/user-api/me", headers=bearer(token)).status_code == 200

    group = f"/aws/lambda/{local_stack.outputs['UsersFunctionName']}"
    logs = local_stack.client("logs")

    def text() -> str:
        events: list[str] = []
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": int((time.time() - 600) * 1000)}
        while True:
            page = logs.filter_log_events(**kwargs)
            events.extend(event["message"] for event in page["events"])
            if not page.get("nextToken"):
                return "\n".join(events)
            kwargs["nextToken"] = page["nextToken"]

    deadline = time.monotonic() + 30
    while user["id"] not in (logged := text()) and time.monotonic() < deadline:
        time.sleep(1)
    assert user["id"] in logged
    for metric in ("users_registered_total", "login_attempts_total"):
        assert metric in logged
    assert '"outcome"' in logged
    assert password not in logged
    assert token not in logged
    assert "$argon2id$" not in logged
