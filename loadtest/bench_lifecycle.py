"""Measure the order lifecycle under a burst, and the profile's added latency.

On a throwaway stack (the test instance's ports, so STORE_TEST_* apply) with
ORDER_TIME_SCALE 0.02 (every wait 1-6 s):

1. N users (default 50) check out at once; every order is then polled until
   it is in a final state (DELIVERED, or gone after its purge, or CANCELLED).
   Prints the time from the burst to the last DELIVERED, the count of each
   final state, and any order left outside one.
2. GET /user-api/me/profile (three sources read in parallel) against the
   single-source routes GET /cart-api/cart and GET /order-api/orders, one
   request at a time: median and p99 of each, and the profile's median minus
   the slowest source's median.

Run:  .venv/bin/python loadtest/bench_lifecycle.py [--orders 50] [--requests 100]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from benchkit import BENCH_PASSWORD, bench_product, expect, login, report, throwaway_stack, timed_ms

FINAL = {"DELIVERED", "CANCELLED", "PURGED"}


def shopper(client: httpx.Client, product_id: str) -> dict[str, str]:
    username = f"bench_{uuid.uuid4().hex[:12]}"
    expect(client.post("/user-api/register", json={"username": username, "password": BENCH_PASSWORD}), 201)
    headers = login(client, username, BENCH_PASSWORD)
    expect(client.post("/cart-api/cart/items", json={"product_id": product_id, "quantity": 1}, headers=headers), 201)
    return headers


def lifecycle_burst(client: httpx.Client, admin: dict[str, str], orders: int) -> None:
    product = bench_product(client, admin)
    with ThreadPoolExecutor(max_workers=16) as pool:
        shoppers = list(pool.map(lambda _: shopper(client, product), range(orders)))
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=orders) as pool:
        placed = list(pool.map(lambda h: expect(client.post("/cart-api/cart/checkout", headers=h), 201), shoppers))
    print(f"{orders} checkouts answered in {time.monotonic() - started:.1f} s")
    ids = [response.json()["id"] for response in placed]
    state: dict[str, str] = dict.fromkeys(ids, "CREATED")
    delivered_at: dict[str, float] = {}
    deadline = started + 600
    while time.monotonic() < deadline and not all(status in FINAL for status in state.values()):
        for order_id in [o for o, status in state.items() if status not in FINAL]:
            response = client.get(f"/order-api/orders/{order_id}", headers=admin)
            status = response.json()["status"] if response.status_code == 200 else "PURGED"
            if status in ("DELIVERED", "PURGED") and order_id not in delivered_at:
                delivered_at[order_id] = time.monotonic() - started
            state[order_id] = status
        time.sleep(0.5)
    counts: dict[str, int] = {}
    for status in state.values():
        counts[status] = counts.get(status, 0) + 1
    print(f"final states: {counts}")
    if delivered_at:
        times = list(delivered_at.values())
        print(
            f"DELIVERED: first {min(times):.1f} s, median {statistics.median(times):.1f} s, "
            f"last {max(times):.1f} s after the burst (poll interval about 0.5 s)"
        )
    stuck = [o for o, status in state.items() if status not in FINAL]
    print(f"orders outside a final state: {len(stuck)} {stuck[:5]}")


def _getter(client: httpx.Client, path: str, headers: dict[str, str]) -> Callable[[], object]:
    return lambda: expect(client.get(path, headers=headers), 200)


def profile_latency(client: httpx.Client, admin: dict[str, str], n: int) -> None:
    product = expect(
        client.post(
            "/api/products", json={"name": "P", "category": "bench", "price": "2.00", "quantity": 1000}, headers=admin
        ),
        201,
    ).json()
    headers = shopper(client, product["id"])
    expect(client.post("/cart-api/cart/checkout", headers=headers), 201)
    expect(client.post("/cart-api/cart/items", json={"product_id": product["id"], "quantity": 2}, headers=headers), 201)
    routes = {
        "GET /user-api/me/profile": "/user-api/me/profile",
        "GET /cart-api/cart": "/cart-api/cart",
        "GET /order-api/orders": "/order-api/orders",
    }
    samples: dict[str, list[float]] = {}
    for name, path in routes.items():
        for _ in range(5):  # warm the function
            expect(client.get(path, headers=headers), 200)
        samples[name] = [timed_ms(_getter(client, path, headers)) for _ in range(n)]
    for name, values in samples.items():
        report(name, values)
    slowest = max(statistics.median(samples[name]) for name in list(routes)[1:])
    added = statistics.median(samples["GET /user-api/me/profile"]) - slowest
    print(f"profile median minus the slowest single-source route's median: {added:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    parameters = {"OrderTimeScale": "0.02", "EventQueueVisibilityTimeout": "15"}
    with throwaway_stack(parameters) as (_, result), httpx.Client(base_url=result.api_url, timeout=120) as client:
        admin = login(client, "swagger_admin", "admin123")
        print(f"{'':40} {'median':>8} {'p99':>8}   (ms)")
        profile_latency(client, admin, args.requests)
        lifecycle_burst(client, admin, args.orders)


if __name__ == "__main__":
    main()
