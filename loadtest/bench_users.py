"""Measure registration, login and an authenticated read through API Gateway.

Brings up a throwaway instance (the test instance's ports, so STORE_TEST_* apply),
then prints, in milliseconds, the median and p99 of:

- argon2id hashing and verifying in this process (the cost every register and
  login pays once);
- POST /user-api/register (a new unique user each time: hash + two LWT writes);
- POST /user-api/login (JSON; throttle reads, two reads, verify, token);
- GET /user-api/me (token decode + revocation and user reads).

Run:  .venv/bin/python loadtest/bench_users.py [--requests 100]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from store.security import hash_password, verify_password
from storectl import stack
from storectl.instance import test_instance

PASSWORD = "a-benchmark-password"  # noqa: S105 - a throwaway account on a throwaway stack


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def report(name: str, samples: list[float]) -> None:
    print(f"{name:34} {statistics.median(samples):8.1f} {percentile(samples, 0.99):8.1f}   (n={len(samples)})")


def expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise SystemExit(f"{response.request.url} answered {response.status_code}: {response.text}")
    return response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100, help="calls per route")
    args = parser.parse_args()
    n = args.requests

    print(f"{'':34} {'median':>8} {'p99':>8}")
    hashed = hash_password(PASSWORD)
    report("argon2id hash (in process)", [timed(lambda: hash_password(PASSWORD)) for _ in range(n)])
    report("argon2id verify (in process)", [timed(lambda: verify_password(hashed, PASSWORD)) for _ in range(n)])

    state_dir = Path(tempfile.mkdtemp(prefix="product-store-bench-"))
    instance = test_instance(state_dir)
    try:
        result = stack.up(instance, report=lambda line: None)
        with httpx.Client(base_url=result.api_url, timeout=60) as client:
            names = [f"bench_{uuid.uuid4().hex[:12]}" for _ in range(n + 1)]
            # The first call of each route warms its function (cold start); not counted.
            expect(client.post("/user-api/register", json={"username": names[0], "password": PASSWORD}), 201)
            register = [
                timed(
                    lambda name=name: expect(  # type: ignore[misc]
                        client.post("/user-api/register", json={"username": name, "password": PASSWORD}), 201
                    )
                )
                for name in names[1:]
            ]
            credentials = {"username": names[0], "password": PASSWORD}
            token = expect(client.post("/user-api/login", json=credentials), 200).json()["access_token"]
            login = [timed(lambda: expect(client.post("/user-api/login", json=credentials), 200)) for _ in range(n)]
            headers = {"Authorization": f"Bearer {token}"}
            me = [timed(lambda: expect(client.get("/user-api/me", headers=headers), 200)) for _ in range(n)]
            health = [timed(lambda: expect(client.get("/user-api/health"), 200)) for _ in range(n)]
        report("POST /user-api/register", register)
        report("POST /user-api/login", login)
        report("GET /user-api/me", me)
        report("GET /user-api/health (baseline)", health)
    finally:
        stack.down(instance)
        shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
