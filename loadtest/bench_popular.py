"""GET /api/products/popular with its cache cold and warm, in one run.

Brings up a throwaway stack, imports products through the bulk import and
gives them a week of sales (counter rows written straight to
`product_sales_by_day`, as checkouts would, so the ranking reads realistic
partitions without placing thousands of orders), then measures:

1. in this process, `PopularProducts.top` against the stack's Cassandra:
   cold (a cache miss: the week's partitions and the top products read) and
   warm (a hit);
2. the full path (API Gateway, Lambda worker): requests are cold or warm as
   the answer's `X-Cache` says (distinct queries are misses; a repeated query
   is a hit on a worker that answered it before).

and prints median and p99 of each and the cold/warm ratios.

Run:  .venv/bin/python loadtest/bench_popular.py [--products 2000] [--requests 150]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from uuid import UUID

import httpx

from benchkit import quiet_function_output, report, throwaway_stack, timed_ms
from storectl import seed
from storectl.deploy import demo_admin
from storectl.instance import Instance


def add_sales(instance: Instance, product_ids: list[str], categories: dict[str, str]) -> int:
    """A week of sales: each product sold on a few days, a long tail of small counts."""
    from store.clock import utc_now  # noqa: PLC0415 - slow import
    from store.config import Settings  # noqa: PLC0415
    from store.db import Database  # noqa: PLC0415

    rng = random.Random(7)  # noqa: S311 - benchmark data
    database = Database(Settings(cassandra_hosts=instance.cassandra_hosts, cassandra_port=instance.cassandra_port))
    statement = database.prepare(
        "UPDATE product_sales_by_day SET units = units + ? WHERE day = ? AND category = ? AND product_id = ?"
    )
    today = utc_now().date()
    rows = [
        (rng.randint(1, 20), today - timedelta(days=back), categories[pid], UUID(pid))
        for pid in product_ids
        for back in rng.sample(range(7), 3)
    ]
    for start in range(0, len(rows), 200):
        futures = [database.execute_async(statement, row) for row in rows[start : start + 200]]
        for future in futures:
            database.result(future)
    database.close()
    return len(rows)


def in_process(instance: Instance, requests: int) -> tuple[list[float], list[float]]:
    from store.catalog import ProductRepository  # noqa: PLC0415 - slow import
    from store.config import Settings  # noqa: PLC0415
    from store.db import Database  # noqa: PLC0415
    from store.popular import PopularProducts, PopularQuery, ProductSales  # noqa: PLC0415

    database = Database(Settings(cassandra_hosts=instance.cassandra_hosts, cassandra_port=instance.cassandra_port))
    popular = PopularProducts(ProductSales(database), ProductRepository(database))
    cold, warm = [], []
    with quiet_function_output():
        popular.top(PopularQuery(days=7, limit=20))  # connect and prepare first
        for index in range(requests):
            # A new cache key each time: days 1..7 x limit 1..50.
            query = PopularQuery(days=7 - index % 7, limit=1 + index // 7 % 50, category=None)
            if (query.category, query.days, query.limit) == (None, 7, 20):
                continue
            started = time.perf_counter()
            popular.top(query)
            cold.append((time.perf_counter() - started) * 1000)
        warm = [timed_ms(lambda: popular.top(PopularQuery(days=7, limit=20))) for _ in range(requests)]
    database.close()
    return cold, warm


def through_api(api_url: str, token: str, requests: int) -> tuple[list[float], list[float]]:
    cold: list[float] = []
    warm: list[float] = []
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        for index in range(requests * 2):
            # Even requests: a query not asked before (cold); odd: the same query again (warm once cached).
            params = {"days": 7, "limit": 20} if index % 2 else {"days": 1 + index // 2 % 7, "limit": 21 + index // 14}
            started = time.perf_counter()
            response = client.get("/api/products/popular", params=params)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"popular answered {response.status_code}: {response.text}")
            (warm if response.headers["X-Cache"] == "hit" else cold).append(elapsed)
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=150)
    args = parser.parse_args()
    with throwaway_stack() as (instance, result):
        admin = demo_admin()
        token = seed.admin_token(result.api_url, admin.username, admin.password)
        products = list(seed.generate_products(args.products))
        ids = seed.load_products(result.api_url, token, products)
        categories = {pid: product["category"] for pid, product in zip(ids, products, strict=True)}
        with quiet_function_output():  # the driver's EMF records of the writes
            rows = add_sales(instance, ids, categories)
        print(f"\n{len(ids)} products, {rows} sales rows over 7 days\n")
        print(f"{'(milliseconds)':40} {'median':>8} {'p99':>8}")
        cold, warm = in_process(instance, args.requests)
        report("in process, cold (cache miss)", cold)
        report("in process, warm (cache hit)", warm)
        api_cold, api_warm = through_api(result.api_url, token, args.requests)
        report("API Gateway + Lambda, cold (X-Cache: miss)", api_cold)
        report("API Gateway + Lambda, warm (X-Cache: hit)", api_warm)
        print(f"\ncold/warm, in process: {statistics.median(cold) / statistics.median(warm):.0f}x")
        print(f"cold/warm, full path:  {statistics.median(api_cold) / statistics.median(api_warm):.2f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
