"""Cold starts and the emulator's floor, in one run, as ratios.

Brings up a throwaway stack (the test instance's ports, STORE_TEST_* apply) and
prints:

1. per HTTP function, in fresh interpreters (median of --repeats):
   - import: `import <function>.main` (FastAPI app and routes built);
   - init: interpreter start + import + the first in-process call of the
     health route (which opens the Cassandra connection), i.e. what a new
     worker does before it can answer;
   - first request: the first GET of the health route through API Gateway
     after the deploy (what `storectl up` leaves: cold, or warmed workers);
2. the floor: a trivial function (returns 200 and `{}`) behind an API Gateway
   REST API on the same emulator, created only by this benchmark: its first
   (cold) request, and its warm latency;
3. the store's mix (browse a category page 10 : read the cart 5 : list my
   orders 1) against the floor at the same concurrency, closed loop without
   think time: p50 / p95 / p99, requests/s and the ratios store / floor;
4. a burst of 30 concurrent first checkouts (30 users, one cart line each):
   time until all are answered.

Run:  .venv/bin/python loadtest/bench_load.py [--concurrency 8] [--seconds 20]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from benchkit import BENCH_PASSWORD, bench_product, expect, login, percentile, throwaway_stack
from storectl import seed
from storectl.emulator import REGION, aws_client
from storectl.instance import PROJECT_ROOT, Instance

FUNCTIONS = {
    "catalog": ("catalog_api", "/api/health"),
    "cart": ("cart_api", "/cart-api/health"),
    "orders": ("orders_api", "/order-api/health"),
    "users": ("users_api", "/user-api/health"),
}
BURST = 30

IMPORT_PROBE = """
import sys, time
started = time.perf_counter()
import {package}.main
print(time.perf_counter() - started)
"""

# Interpreter start is measured by the parent; the child reports when its first
# health answer is ready.
INIT_PROBE = """
import sys
sys.path.insert(0, {benchkit!r})
import {package}.main
from benchkit import LambdaContext, rest_api_event
result = {package}.main.handler(rest_api_event({path!r}), LambdaContext())
assert result["statusCode"] == 200, result
"""

# One log line, as every real handler writes: after an invocation the emulator
# waits for the worker's log lines, up to 50 ms when none come, 5 ms after the last.
FLOOR_CODE = 'def handler(event, context):\n    print("floor")\n    return {"statusCode": 200, "body": "{}"}\n'


def fresh_interpreter_seconds(code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def function_env(function: str, instance: Instance | None) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT / "functions" / function), str(PROJECT_ROOT / "layers/store")]),
        "POWERTOOLS_SERVICE_NAME": function,
        "POWERTOOLS_METRICS_NAMESPACE": "ProductStore",
    }
    if instance is not None:
        env |= {"CASSANDRA_HOSTS": instance.cassandra_hosts, "CASSANDRA_PORT": str(instance.cassandra_port)}
    return env


def import_seconds(function: str, repeats: int) -> float:
    package = FUNCTIONS[function][0]
    env = function_env(function, None)
    samples = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE.format(package=package)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def init_seconds(function: str, instance: Instance, repeats: int) -> float:
    package, path = FUNCTIONS[function]
    code = INIT_PROBE.format(package=package, path=path, benchkit=str(PROJECT_ROOT / "loadtest"))
    env = function_env(function, instance)
    return statistics.median(fresh_interpreter_seconds(code, env) for _ in range(repeats))


def deploy_floor(instance: Instance) -> str:
    """A trivial function behind a REST API of its own on the same emulator; returns its URL."""
    lambdas, gateway = aws_client(instance, "lambda"), aws_client(instance, "apigateway")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("floor.py", FLOOR_CODE)
    name = f"bench-floor-{uuid.uuid4().hex[:8]}"
    function = lambdas.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/bench-floor",
        Handler="floor.handler",
        Code={"ZipFile": archive.getvalue()},
        Timeout=30,
    )
    api = gateway.create_rest_api(name=name)
    root = next(item["id"] for item in gateway.get_resources(restApiId=api["id"])["items"] if item["path"] == "/")
    resource = gateway.create_resource(restApiId=api["id"], parentId=root, pathPart="floor")
    gateway.put_method(restApiId=api["id"], resourceId=resource["id"], httpMethod="GET", authorizationType="NONE")
    gateway.put_integration(
        restApiId=api["id"],
        resourceId=resource["id"],
        httpMethod="GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function['FunctionArn']}/invocations",
    )
    gateway.create_deployment(restApiId=api["id"], stageName="v1")
    return f"{instance.endpoint_url}/_aws/execute-api/{api['id']}/v1/floor"


def timed(call: Callable[[], httpx.Response], status: int = 200) -> float:
    started = time.perf_counter()
    response = call()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != status:
        raise SystemExit(f"{response.request.url} answered {response.status_code}: {response.text[:300]}")
    return elapsed


def new_user(client: httpx.Client) -> dict[str, str]:
    username = f"bench_{uuid.uuid4().hex[:12]}"
    expect(client.post("/user-api/register", json={"username": username, "password": BENCH_PASSWORD}), 201)
    return login(client, username, BENCH_PASSWORD)


def closed_loop(concurrency: int, seconds: float, request: Callable[[httpx.Client, int], float]) -> list[float]:
    """`concurrency` clients sending back to back for `seconds`; every latency in ms."""
    samples: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client_loop(index: int) -> None:
        with httpx.Client(timeout=120) as client:
            while time.monotonic() < deadline:
                elapsed = request(client, index)
                with lock:
                    samples.append(elapsed)

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(client_loop, range(concurrency)))
    return samples


def checkout_burst(api_url: str, shoppers: list[dict[str, str]]) -> tuple[float, list[tuple[float, int]]]:
    """Every shopper checks out at once; (seconds until all answered, [(ms, status)])."""

    def checkout(headers: dict[str, str]) -> tuple[float, int]:
        with httpx.Client(base_url=api_url, timeout=300) as own:
            started = time.perf_counter()
            status = own.post("/cart-api/cart/checkout", headers=headers).status_code
            return (time.perf_counter() - started) * 1000, status

    started = time.perf_counter()
    with ThreadPoolExecutor(len(shoppers)) as pool:
        answers = list(pool.map(checkout, shoppers))
    return time.perf_counter() - started, answers


def describe(samples: list[float], seconds: float) -> dict[str, float]:
    return {
        "p50": statistics.median(samples),
        "p95": percentile(samples, 0.95),
        "p99": percentile(samples, 0.99),
        "rps": len(samples) / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=8, help="clients of the store-vs-floor comparison")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time of each side")
    parser.add_argument("--products", type=int, default=2000, help="catalog seeded for the store's mix")
    parser.add_argument("--repeats", type=int, default=3, help="fresh interpreters per import/init figure")
    args = parser.parse_args()

    imports = {function: import_seconds(function, args.repeats) for function in FUNCTIONS}

    with throwaway_stack() as (instance, result):
        inits = {function: init_seconds(function, instance, args.repeats) for function in FUNCTIONS}
        with httpx.Client(base_url=result.api_url, timeout=120) as client:
            firsts = {function: timed(lambda path=path: client.get(path)) for function, (_, path) in FUNCTIONS.items()}  # type: ignore[misc]
            floor_url = deploy_floor(instance)
            floor_first = timed(lambda: client.get(floor_url))
            floor_warm = [timed(lambda: client.get(floor_url)) for _ in range(50)]

            print("\n1. per function, ms (import and init: fresh interpreter on this machine, median)")
            print(f"{'function':10} {'import':>8} {'init':>8} {'first request':>14} {'first / floor first':>20}")
            for function in FUNCTIONS:
                print(
                    f"{function:10} {imports[function] * 1000:8.0f} {inits[function] * 1000:8.0f} "
                    f"{firsts[function]:14.0f} {firsts[function] / floor_first:19.1f}x"
                )
            print(
                f"\n2. floor (trivial function, same API Gateway): first {floor_first:.0f} ms, "
                f"warm median {statistics.median(floor_warm):.1f} ms, p99 {percentile(floor_warm, 0.99):.1f} ms"
            )

            # 3. The store's mix against the floor, same concurrency (before the burst:
            # its 30 orders start 30 lifecycles, whose workers load the machine for a while).
            admin = login(client, "swagger_admin", "admin123")
            seed.load_products(
                result.api_url,
                admin["Authorization"].removeprefix("Bearer "),
                list(seed.generate_products(args.products)),
            )
            tokens = [new_user(client) for _ in range(args.concurrency)]
            categories = [item["name"] for item in expect(client.get("/api/categories", headers=admin), 200).json()]
            mix = ["browse"] * 10 + ["cart"] * 5 + ["orders"]

            def store_request(own: httpx.Client, index: int) -> float:
                kind, headers = random.choice(mix), tokens[index]  # noqa: S311
                if kind == "browse":
                    params = {"category": random.choice(categories), "limit": "20"}  # noqa: S311
                    return timed(lambda: own.get(f"{result.api_url}/api/products", params=params, headers=headers))
                path = "/cart-api/cart" if kind == "cart" else "/order-api/orders"
                return timed(lambda: own.get(f"{result.api_url}{path}", headers=headers))

            def floor_request(own: httpx.Client, _: int) -> float:
                return timed(lambda: own.get(floor_url))

            # A few seconds unmeasured first, so both sides have their workers.
            closed_loop(args.concurrency, 5, floor_request)
            floor = describe(closed_loop(args.concurrency, args.seconds, floor_request), args.seconds)
            closed_loop(args.concurrency, 5, store_request)
            store = describe(closed_loop(args.concurrency, args.seconds, store_request), args.seconds)

            print(f"\n3. store mix vs floor, {args.concurrency} clients back to back, {args.seconds:.0f} s each")
            print(f"{'':12} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8}")
            for name, row in (("floor", floor), ("store mix", store)):
                print(f"{name:12} {row['p50']:8.1f} {row['p95']:8.1f} {row['p99']:8.1f} {row['rps']:8.1f}")
            ratio = {key: store[key] / floor[key] for key in ("p50", "p95", "p99", "rps")}
            ratios = " ".join(f"{ratio[key]:7.1f}x" for key in ("p50", "p95", "p99")) + f" {ratio['rps']:7.2f}x"
            print(f"{'store/floor':12} {ratios}")

            # 4. A burst of first checkouts.
            product = bench_product(client, admin, name="Bench burst", category="benchburst", price="2.00")
            shoppers = [new_user(client) for _ in range(BURST)]
            for headers in shoppers:
                expect(client.post("/cart-api/cart/items", json={"product_id": product}, headers=headers), 201)

            burst_total, answers = checkout_burst(result.api_url, shoppers)
            burst = [elapsed for elapsed, _ in answers]
            # A cold burst can outlast the function's timeout: count those answers, do not stop.
            failed = sorted(status for _, status in answers if status != 201)
            print(
                f"\n4. burst of {BURST} concurrent first checkouts: all answered in {burst_total:.1f} s "
                f"(median {statistics.median(burst):.0f} ms, slowest {max(burst):.0f} ms); "
                f"not 201: {len(failed)} {failed or ''}"
            )

    print(
        "\n"
        + json.dumps(
            {
                "import_ms": {k: round(v * 1000) for k, v in imports.items()},
                "init_ms": {k: round(v * 1000) for k, v in inits.items()},
                "first_request_ms": {k: round(v) for k, v in firsts.items()},
                "floor_first_ms": round(floor_first),
                "burst_s": round(burst_total, 1),
                "burst_failed": failed,
                "floor": floor,
                "store": store,
            }
        )
    )


if __name__ == "__main__":
    main()
