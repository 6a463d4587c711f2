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
import uuid

import httpx

from benchkit import BENCH_PASSWORD, expect, report, throwaway_stack, timed_ms
from store.security import hash_password, verify_password


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100, help="calls per route")
    args = parser.parse_args()
    n = args.requests

    print(f"{'':34} {'median':>8} {'p99':>8}")
    hashed = hash_password(BENCH_PASSWORD)
    report("argon2id hash (in process)", [timed_ms(lambda: hash_password(BENCH_PASSWORD)) for _ in range(n)])
    report(
        "argon2id verify (in process)", [timed_ms(lambda: verify_password(hashed, BENCH_PASSWORD)) for _ in range(n)]
    )

    with throwaway_stack() as (_, result), httpx.Client(base_url=result.api_url, timeout=60) as client:
        names = [f"bench_{uuid.uuid4().hex[:12]}" for _ in range(n + 1)]
        # The first call of each route warms its function (cold start); not counted.
        expect(client.post("/user-api/register", json={"username": names[0], "password": BENCH_PASSWORD}), 201)
        register = [
            timed_ms(
                lambda name=name: expect(  # type: ignore[misc]
                    client.post("/user-api/register", json={"username": name, "password": BENCH_PASSWORD}), 201
                )
            )
            for name in names[1:]
        ]
        credentials = {"username": names[0], "password": BENCH_PASSWORD}
        token = expect(client.post("/user-api/login", json=credentials), 200).json()["access_token"]
        login = [timed_ms(lambda: expect(client.post("/user-api/login", json=credentials), 200)) for _ in range(n)]
        headers = {"Authorization": f"Bearer {token}"}
        me = [timed_ms(lambda: expect(client.get("/user-api/me", headers=headers), 200)) for _ in range(n)]
        health = [timed_ms(lambda: expect(client.get("/user-api/health"), 200)) for _ in range(n)]
    report("POST /user-api/register", register)
    report("POST /user-api/login", login)
    report("GET /user-api/me", me)
    report("GET /user-api/health (baseline)", health)


if __name__ == "__main__":
    main()
