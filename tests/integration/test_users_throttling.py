"""Failed-login throttling (per username and per source IP) and concurrent registration."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from store.config import Settings
from store.db import Database
from store.errors import Conflict, TooManyRequests
from store.throttle import PASSWORD_CONFIRMATION, REGISTRATION_IP, USERNAME, password_confirmation_throttle
from store.users import UserCreate, UserRepository, create_user
from support import TEST_PARAMETERS, LocalStack, bearer, cql, fake_ip, login, register, token_for, unique_username

LIMIT = 5  # the default: 5 free attempts in 5 minutes
BASE_DELAY = int(TEST_PARAMETERS["ThrottleBaseDelaySeconds"])


def _extra_allowed(elapsed: float) -> int:
    """Attempts past the free ones that the delays allow within `elapsed` seconds."""
    extra, waited = 0, 0.0
    while waited + min(MAX_DELAY, BASE_DELAY * 2**extra) <= elapsed:
        waited += min(MAX_DELAY, BASE_DELAY * 2**extra)
        extra += 1
    return extra


_ATTEMPTS = "SELECT attempts FROM attempt_throttles WHERE kind = ? AND subject = ?"
MAX_DELAY = int(TEST_PARAMETERS["ThrottleMaxDelaySeconds"])  # the test stack's cap on any wait


def _assert_throttled(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "too_many_requests"
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= MAX_DELAY
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
        # A long timeout: the emulator queues the ten onto a few workers.
        with httpx.Client(base_url=local_stack.api_url, timeout=120) as client:
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
    since = int((time.time() - 5) * 1000)  # only this test's lines: the emulator pages no further than 10,000
    password = f"pw-{unique_username()}"
    user = register(api, password=password)
    token = login(api, user["username"], password).json()["access_token"]
    assert login(api, user["username"], password + "x").status_code == 401
    assert api.get("/user-api/me", headers=bearer(token)).status_code == 200

    group = f"/aws/lambda/{local_stack.outputs['UsersFunctionName']}"
    logs = local_stack.client("logs")

    def text() -> str:
        events: list[str] = []
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": since}
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


# -- attacks on the throttles themselves (issue 14) ---------------------------------


def test_twenty_concurrent_wrong_passwords_evaluate_at_most_the_limit(
    api: httpx.Client, local_stack: LocalStack
) -> None:
    """Through the deployed API, each guess from its own address (so only the
    username's allowance applies): at most LIMIT guesses are checked (401), the
    rest are refused unchecked (429)."""
    user = register(api, password="the-right-one")
    barrier_at = time.monotonic() + 1.0

    def guess(index: int) -> int:
        # A long timeout: the emulator queues the burst onto a few workers.
        with httpx.Client(base_url=local_stack.api_url, timeout=120) as client:
            time.sleep(max(0.0, barrier_at - time.monotonic()))
            return login(client, user["username"], f"wrong-{index}").status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(guess, range(20)))
    elapsed = time.monotonic() - barrier_at
    # The emulator runs a few workers, so the burst takes seconds: past the base
    # delay a spaced-out guess is allowed again (progressive delay, by design).
    print(f"20 guesses in {elapsed:.1f} s: {statuses.count(401)} checked, {statuses.count(429)} refused")
    assert statuses.count(401) <= LIMIT + _extra_allowed(elapsed), statuses
    if elapsed < BASE_DELAY:
        assert statuses.count(401) <= LIMIT, statuses
    assert statuses.count(401) + statuses.count(429) == 20, statuses
    rows = cql(
        local_stack,
        _ATTEMPTS,
        (USERNAME, user["username"].lower()),
    )
    assert rows[0].attempts == statuses.count(401)


def test_concurrent_attempts_in_cassandra_take_at_most_the_allowance(local_stack: LocalStack) -> None:
    """The same race straight against Cassandra with 20 real threads (the emulator
    runs only a few Lambda workers at once): the compare-and-set decides."""
    settings = Settings(cassandra_port=local_stack.instance.cassandra_port)
    database = Database(settings)
    throttle = password_confirmation_throttle(database, settings)
    subject = unique_username("subject")
    barrier_at = time.monotonic() + 1.0

    def attempt(_: int) -> bool:
        time.sleep(max(0.0, barrier_at - time.monotonic()))
        try:
            throttle.take(subject)
        except TooManyRequests:
            return False
        return True

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            taken = list(pool.map(attempt, range(20)))
        print(f"20 concurrent attempts in Cassandra: {time.monotonic() - barrier_at:.2f} s")
        assert taken.count(True) == throttle.policy.free, taken
    finally:
        database.close()


def test_a_lockout_attempt_keeps_the_real_user_out_at_most_the_longest_delay(api: httpx.Client) -> None:
    """An attacker guesses for 15 s from ever new addresses. No answer ever tells
    anyone to wait longer than the cap, and once the attack stops the real user
    is in after at most that long."""
    user = register(api, password="the-right-one")
    attack_ends = time.monotonic() + 15
    statuses: list[int] = []
    while time.monotonic() < attack_ends:
        response = login(api, user["username"], "a-wrong-one")
        statuses.append(response.status_code)
        if response.status_code == 429:
            _assert_throttled(response)
        time.sleep(0.2)
    # The attacker got the free guesses and then a few spaced out by the delays.
    assert LIMIT < statuses.count(401) < LIMIT + 6, statuses
    stopped = time.monotonic()
    response = login(api, user["username"], "the-right-one")
    if response.status_code == 429:
        time.sleep(_assert_throttled(response))
        response = login(api, user["username"], "the-right-one")
    assert response.status_code == 200, response.text
    assert time.monotonic() - stopped <= MAX_DELAY + 5


def test_wrong_current_passwords_are_throttled(api: httpx.Client, local_stack: LocalStack) -> None:
    user = register(api, password="the-right-one")
    token = token_for(api, user["username"], "the-right-one")

    def change(current: str) -> httpx.Response:
        body = {"password": "a-new-password", "current_password": current}
        return api.put("/user-api/me", json=body, headers=bearer(token))

    for _ in range(LIMIT):
        assert change("a-wrong-one").status_code == 400
    # A stolen token cannot keep guessing: the right password waits too.
    _assert_throttled(change("the-right-one"))
    rows = cql(
        local_stack,
        _ATTEMPTS,
        (PASSWORD_CONFIRMATION, user["id"]),
    )
    assert rows[0].attempts == LIMIT


def test_registrations_are_throttled_per_source_address(api: httpx.Client, local_stack: LocalStack) -> None:
    """The test stack allows 100000 registrations per address (the suite registers
    from one); this address's allowance is used up in Cassandra instead."""
    ip = fake_ip()

    def sign_up(source: str) -> httpx.Response:
        body = {"username": unique_username(), "password": "a-good-password"}
        return api.post("/user-api/register", json=body, headers={"X-Forwarded-For": source})

    assert sign_up(ip).status_code == 201
    rows = cql(local_stack, _ATTEMPTS, (REGISTRATION_IP, ip))
    assert rows[0].attempts == 1
    allowance = int(TEST_PARAMETERS["RegistrationsPerSourcePerHour"])
    cql(
        local_stack,
        "UPDATE attempt_throttles SET attempts = ?, last_at = toTimestamp(now()) "
        "WHERE kind = ? AND subject = ? IF EXISTS",
        (allowance, REGISTRATION_IP, ip),
    )
    _assert_throttled(sign_up(ip))
    assert sign_up(fake_ip()).status_code == 201
