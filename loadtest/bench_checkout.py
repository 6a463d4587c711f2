"""Measure checkout latency through API Gateway on a throwaway stack.

Brings up a throwaway instance (the test instance's ports, so STORE_TEST_* apply),
creates products as the demo admin and one user, then prints, in milliseconds,
the median and p99 of, one request at a time:

- POST /cart-api/cart/items (product read, line read, two writes);
- POST /cart-api/cart/checkout with a cart of one line (plan read, one
  compare-and-set on stock, one logged batch with the order and its outbox
  event, cart cleanup, and the fast-path SNS publish with its lease);
- the same with a cart of three lines (three compare-and-sets);
- the same with an Idempotency-Key (adds the idempotency record's LWT insert
  and its update);
- a replay of a used Idempotency-Key (answered from the record).

Run:  .venv/bin/python loadtest/bench_checkout.py [--requests 100]
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

import httpx

from benchkit import BENCH_PASSWORD, expect, login, report, throwaway_stack, timed_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100, help="checkouts per variant")
    args = parser.parse_args()
    n = args.requests

    with throwaway_stack() as (_, result), httpx.Client(base_url=result.api_url, timeout=60) as client:
        admin = login(client, "swagger_admin", "admin123")
        username = f"bench_{uuid.uuid4().hex[:12]}"
        expect(client.post("/user-api/register", json={"username": username, "password": BENCH_PASSWORD}), 201)
        user = login(client, username, BENCH_PASSWORD)
        products = [
            expect(
                client.post(
                    "/api/products",
                    json={"name": f"Bench {i}", "category": "bench", "price": "3.50", "quantity": 1_000_000},
                    headers=admin,
                ),
                201,
            ).json()["id"]
            for i in range(3)
        ]

        def add(product_id: str) -> None:
            expect(client.post("/cart-api/cart/items", json={"product_id": product_id}, headers=user), 201)

        def checkout(headers: dict[str, str] | None = None) -> Any:
            return expect(client.post("/cart-api/cart/checkout", headers=user | (headers or {})), 201).json()

        # Warm every function on the path (cold starts are not counted).
        add(products[0])
        checkout()

        adds, one_line, three_lines, with_key, replays = [], [], [], [], []
        for _ in range(n):
            adds.append(timed_ms(lambda: add(products[0])))
            one_line.append(timed_ms(checkout))
        for _ in range(n):
            for product_id in products:
                add(product_id)
            three_lines.append(timed_ms(checkout))
        keys = [str(uuid.uuid4()) for _ in range(n)]
        for key in keys:
            add(products[0])
            with_key.append(timed_ms(lambda key=key: checkout({"Idempotency-Key": key})))  # type: ignore[misc]
        for key in keys:
            replays.append(timed_ms(lambda key=key: checkout({"Idempotency-Key": key})))  # type: ignore[misc]

    print(f"\n{'through API Gateway (ms)':40} {'median':>8} {'p99':>8}")
    report("POST /cart-api/cart/items", adds)
    report("checkout, 1 line", one_line)
    report("checkout, 3 lines", three_lines)
    report("checkout, 1 line, Idempotency-Key", with_key)
    report("checkout replay (same key)", replays)


if __name__ == "__main__":
    main()
