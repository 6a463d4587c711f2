"""The catalog list, three ways, in one run against the same Cassandra data.

Brings up a throwaway stack, seeds it through the bulk import (printing the
seeding rate), then measures GET /api/products?category=...&sort=price&limit=20
as an admin:

1. the FastAPI app served by uvicorn directly (HTTP on loopback, no Lambda);
2. the Mangum handler invoked in this process (no HTTP, no emulator);
3. the full path: the emulator's API Gateway and Lambda worker.

and prints median and p99 of each and the ratios between them.

Run:  .venv/bin/python loadtest/bench_catalog.py [--products 20000] [--requests 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import httpx

from benchkit import LambdaContext, quiet_function_output, report, rest_api_event, throwaway_stack, timed_ms
from storectl import seed
from storectl.deploy import demo_admin
from storectl.emulator import _LOCAL_CREDENTIALS, REGION
from storectl.instance import PROJECT_ROOT, Instance
from storectl.processes import port_is_free

UVICORN_PORT = 18080
QUERY = {"category": "electronics", "sort": "price", "order": "asc", "limit": "20"}


def function_environment(instance: Instance, jwt_secret_arn: str) -> dict[str, str]:
    """What the deployed function gets from the template, for a local process
    (the signing key is read from the emulator's Secrets Manager, as deployed)."""
    return {
        "CASSANDRA_HOSTS": instance.cassandra_hosts,
        "CASSANDRA_PORT": str(instance.cassandra_port),
        "JWT_SECRET_ARN": jwt_secret_arn,
        "AWS_ENDPOINT_URL": instance.endpoint_url,
        "AWS_DEFAULT_REGION": REGION,
        **_LOCAL_CREDENTIALS,
        "POWERTOOLS_SERVICE_NAME": "catalog",
        "POWERTOOLS_METRICS_NAMESPACE": "ProductStore",
    }


def measure_http(base_url: str, token: str, requests: int) -> list[float]:
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:

        def call() -> None:
            response = client.get("/api/products", params=QUERY)
            if response.status_code != 200:
                raise SystemExit(f"{base_url} answered {response.status_code}: {response.text}")

        for _ in range(10):  # warm up
            call()
        return [timed_ms(call) for _ in range(requests)]


def measure_uvicorn(env: dict[str, str], token: str, requests: int) -> list[float]:
    if not port_is_free(UVICORN_PORT):
        raise SystemExit(f"port {UVICORN_PORT} is busy")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "catalog_api.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(UVICORN_PORT),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=PROJECT_ROOT / "functions" / "catalog",
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while port_is_free(UVICORN_PORT):
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("uvicorn did not start")
            time.sleep(0.1)
        return measure_http(f"http://127.0.0.1:{UVICORN_PORT}", token, requests)
    finally:
        server.terminate()
        server.wait(timeout=10)


def measure_in_process(env: dict[str, str], token: str, requests: int) -> list[float]:
    os.environ.update(env)
    sys.path.insert(0, str(PROJECT_ROOT / "functions" / "catalog"))
    with quiet_function_output():
        from catalog_api.main import handler  # noqa: PLC0415 - reads the environment set above

        event = rest_api_event("/api/products", query=QUERY, token=token)

        def call() -> None:
            result = handler(event, LambdaContext())  # type: ignore[arg-type]
            if result["statusCode"] != 200:
                raise SystemExit(f"in-process handler answered {result}")

        for _ in range(10):
            call()
        return [timed_ms(call) for _ in range(requests)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=300, help="measured requests per way")
    args = parser.parse_args()

    with throwaway_stack() as (instance, result):
        admin = demo_admin()
        token = seed.admin_token(result.api_url, admin.username, admin.password)
        started = time.monotonic()
        created = seed.load_products(result.api_url, token, list(seed.generate_products(args.products)))
        elapsed = time.monotonic() - started
        print(f"\nseeded {len(created)} products in {elapsed:.1f} s: {len(created) / elapsed:.0f} products/s")

        env = function_environment(instance, result.outputs["JwtSecretArn"])

        print(f"\nGET /api/products?{'&'.join(f'{k}={v}' for k, v in QUERY.items())}, ms")
        print(f"{'':40} {'median':>8} {'p99':>8}")
        samples = {
            "uvicorn, FastAPI app directly": measure_uvicorn(env, token, args.requests),
            "Mangum handler in process": measure_in_process(env, token, args.requests),
            "API Gateway + Lambda (emulator)": measure_http(result.api_url, token, args.requests),
        }
        for name, values in samples.items():
            report(name, values)
        uvicorn, in_process, gateway = (statistics.median(values) for values in samples.values())
        print(
            f"\nratios of medians: API Gateway / uvicorn {gateway / uvicorn:.2f}x, "
            f"API Gateway / in-process {gateway / in_process:.2f}x, uvicorn / in-process {uvicorn / in_process:.2f}x"
        )


if __name__ == "__main__":
    main()
