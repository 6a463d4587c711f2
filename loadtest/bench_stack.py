"""Measure the local stack: start-up times, memory, and health-route latency.

Brings up a throwaway instance (the test instance's ports), so its functions are
cold at the first request, then prints:

- time to build, migrate and deploy, and for Cassandra and the emulator to be ready;
- RSS of Cassandra, of the emulator and of its Lambda workers;
- latency of each health route through API Gateway: the first (cold) request
  and the median / p99 of warm ones;
- the same route's Mangum handler invoked in this process, as the baseline,
  and the ratio of the API Gateway path to it;
- how long Cassandra alone takes from start to its first answered query.

Run:  .venv/bin/python loadtest/bench_stack.py [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

from benchkit import LambdaContext, percentile, quiet_function_output, rest_api_event, throwaway_stack
from storectl import cassandra
from storectl.instance import PROJECT_ROOT, Instance
from storectl.processes import read_pid, session_members

ROUTES = {
    "catalog": "/api/health",
    "cart": "/cart-api/health",
    "orders": "/order-api/health",
    "users": "/user-api/health",
}


def rss_mib(pids: list[int]) -> float:
    total_kib = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total_kib / 1024


def timed_get(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}: {response.text}")
    return elapsed


def in_process_latency(instance: Instance, requests: int) -> list[float]:
    """The catalog app's Lambda handler called directly: no emulator, no HTTP."""
    os.environ.update(
        CASSANDRA_HOSTS=instance.cassandra_hosts,
        CASSANDRA_PORT=str(instance.cassandra_port),
        POWERTOOLS_SERVICE_NAME="catalog",
    )
    sys.path.insert(0, str(PROJECT_ROOT / "functions" / "catalog"))
    with quiet_function_output():
        return _call_handler(requests)


def _call_handler(requests: int) -> list[float]:
    from catalog_api.main import handler  # noqa: PLC0415 - reads the environment set by the caller

    event = rest_api_event("/api/health")
    samples = []
    for _ in range(requests + 5):
        started = time.perf_counter()
        result = handler(event, LambdaContext())  # type: ignore[arg-type]
        samples.append((time.perf_counter() - started) * 1000)
        assert result["statusCode"] == 200, result
    return samples[5:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="warm requests per route")
    args = parser.parse_args()

    with throwaway_stack() as (instance, result):
        print("\nstart-up (s): " + ", ".join(f"{key} {value:.1f}" for key, value in result.timings.items()))
        cassandra_pid = read_pid(instance.cassandra_dir / "cassandra.pid")
        emulator_pid = read_pid(instance.emulator_dir / "emulator.pid")
        print(
            f"RSS after start: Cassandra {rss_mib([cassandra_pid or 0]):.0f} MiB, "
            f"emulator {rss_mib([emulator_pid or 0]):.0f} MiB"
        )

        print(f"\nhealth routes through API Gateway ({args.requests} warm requests each), ms")
        print(f"{'function':10} {'first':>8} {'median':>8} {'p99':>8}")
        warm_catalog: list[float] = []
        with httpx.Client(base_url=result.api_url, timeout=60) as client:
            for function, path in ROUTES.items():
                first = timed_get(client, path)
                warm = [timed_get(client, path) for _ in range(args.requests)]
                if function == "catalog":
                    warm_catalog = warm
                print(f"{function:10} {first:8.0f} {statistics.median(warm):8.1f} {percentile(warm, 0.99):8.1f}")

        workers = [pid for pid in session_members(emulator_pid or 0) if pid != emulator_pid]
        print(
            f"\nRSS now: Cassandra {rss_mib([cassandra_pid or 0]):.0f} MiB, emulator "
            f"{rss_mib([emulator_pid or 0]):.0f} MiB, {len(workers)} Lambda workers {rss_mib(workers):.0f} MiB"
        )

        baseline = in_process_latency(instance, args.requests)
        gateway_median, baseline_median = statistics.median(warm_catalog), statistics.median(baseline)
        print(
            f"\ncatalog /api/health, in-process Mangum handler: median {baseline_median:.2f} ms, "
            f"p99 {percentile(baseline, 0.99):.2f} ms"
        )
        print(f"ratio API Gateway path / in-process handler (medians): {gateway_median / baseline_median:.1f}x")

        cassandra.stop(instance)
        started = time.monotonic()
        cassandra.start(instance)
        cassandra.wait_ready(instance)
        print(f"\nCassandra restart (existing data dir) to first answered query: {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
