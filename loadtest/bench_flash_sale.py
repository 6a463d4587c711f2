"""A flash sale: many buyers, few units, through API Gateway on a throwaway stack.

Registers --buyers users, each with one unit of the same product in their cart
(--stock units in stock), then all check out at once. Prints how many orders
were made, how the others were answered (409 "not enough stock", 409 "changing
too often", anything else), the final stock, and how long the burst took. The
store's promise: exactly `stock` orders, and no 409 while stock remained (a
lost compare-and-set retries with backoff and jitter, store/retry.py).

Run:  .venv/bin/python loadtest/bench_flash_sale.py [--buyers 100] [--stock 10]
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from benchkit import BENCH_PASSWORD, expect, login, throwaway_stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, default=100)
    parser.add_argument("--stock", type=int, default=10)
    args = parser.parse_args()

    with throwaway_stack() as (_, result), httpx.Client(base_url=result.api_url, timeout=120) as client:
        admin = login(client, "swagger_admin", "admin123")
        product = expect(
            client.post(
                "/api/products",
                json={"name": "Limited", "category": "sale", "price": "9.99", "quantity": args.stock},
                headers=admin,
            ),
            201,
        ).json()

        def buyer(_: int) -> dict[str, str]:
            username = f"buyer_{uuid.uuid4().hex[:12]}"
            expect(client.post("/user-api/register", json={"username": username, "password": BENCH_PASSWORD}), 201)
            headers = login(client, username, BENCH_PASSWORD)
            expect(client.post("/cart-api/cart/items", json={"product_id": product["id"]}, headers=headers), 201)
            return headers

        with ThreadPoolExecutor(max_workers=8) as pool:
            buyers = list(pool.map(buyer, range(args.buyers)))
        print(f"{args.buyers} buyers ready, {args.stock} in stock; all check out at once")

        def buy(headers: dict[str, str]) -> str:
            try:
                response = client.post("/cart-api/cart/checkout", headers=headers)
            except httpx.TimeoutException:
                return "no answer within 120 s"
            if response.status_code == 201:
                return "201 order"
            if response.status_code == 409:
                message = response.json()["error"]["message"]
                return "409 changing too often" if "too often" in message else "409 not enough stock"
            return f"{response.status_code} {response.text[:80]}"

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.buyers) as pool:
            answers = Counter(pool.map(buy, buyers))
        took = time.perf_counter() - started
        stock = expect(client.get(f"/api/products/{product['id']}", headers=admin), 200).json()["quantity"]
        for answer, count in sorted(answers.items()):
            print(f"  {answer:40} {count}")
        print(f"final stock {stock}; burst answered in {took:.1f} s")


if __name__ == "__main__":
    main()
