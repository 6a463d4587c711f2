"""What tracing and profiling cost, on a throwaway stack (its own trace server).

Prints, in milliseconds through API Gateway, one request at a time, the median
and p99 of GET /api/products (catalog list) and of a one-line checkout:
- with tracing (the deployed default: spans to Zipkin, flushed at the end of
  every invocation) and without (OTEL_SDK_DISABLED=true on the catalog and cart
  functions), in alternating rounds of the same run, and the ratio;
- the catalog list with profiling on (STORE_PROFILE_FUNCTIONS=catalog: yappi
  and an S3 put per invocation), for scale.
In this process, against the same Zipkin: what making a checkout's 20 spans
and the end-of-invocation flush cost. Then the cost of profiling when off (the decorator hands back the handler
itself: what remains is reading its settings once per process), the trace
server's start time (from `storectl up`) and its RSS after the run.

Run:  .venv/bin/python loadtest/bench_tracing.py [--requests 60] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
import timeit
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from benchkit import BENCH_PASSWORD, bench_product, expect, login, report, throwaway_stack, timed_ms
from storectl import deploy, traces
from storectl.instance import Instance


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def off_cost_us() -> tuple[float, float]:
    """Microseconds: a call of an unprofiled handler, wrapped by `profiled` (off) and
    bare (the same object: no difference possible), and the one-time settings read."""
    from store import profiling  # noqa: PLC0415 - the layer's code, on this process's path
    from store.config import ProfilingSettings  # noqa: PLC0415

    def handler(event: dict[str, int], context: object) -> int:
        return event["n"]

    wrapped = profiling.profiled(handler)
    assert wrapped is handler, "profiling is on in this environment"
    per_read = min(timeit.repeat(ProfilingSettings, number=200, repeat=5)) / 200 * 1e6
    return 0.0, per_read


@contextmanager
def environment(instance: Instance, functions: list[str], changes: dict[str, str]) -> Iterator[None]:
    with ExitStack() as stack:
        for name in functions:
            stack.enter_context(deploy.function_environment(instance, name, **changes))
        yield


def print_results(
    on: dict[str, list[float]], off: dict[str, list[float]], profiled: list[float], rss: float, ready: float
) -> None:
    print(f"\n{'through API Gateway (ms)':40} {'median':>8} {'p99':>8}")
    for name, samples in on.items():
        report(f"{name}, tracing on", samples)
        report(f"{name}, tracing off", off[name])
        ratio = statistics.median(samples) / statistics.median(off[name])
        print(f"{name + ', on/off (medians)':40} {ratio:8.3f}")
    report("catalog list, profiling on", profiled)
    ratio = statistics.median(profiled) / statistics.median(on["catalog list"])
    print(f"{'catalog list, profiling on / off':40} {ratio:8.3f}")
    bare, settings_read = off_cost_us()
    print(f"\nprofiling off: per invocation {bare:.1f} us (the handler is returned unwrapped);")
    print(f"               once per process {settings_read:.1f} us (reading its settings)")
    print(f"trace server: ready {ready:.1f} s after its start; RSS {rss:.0f} MB")


def span_costs_ms(instance: Instance, spans: int = 20, runs: int = 30) -> tuple[float, float]:
    """In this process, against the stack's Zipkin: medians of making `spans` spans
    (a checkout makes about that many) and of the flush that ends an invocation."""
    from opentelemetry.exporter.zipkin.json import ZipkinExporter  # noqa: PLC0415
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(ZipkinExporter(endpoint=traces.spans_endpoint(instance))))
    tracer = provider.get_tracer("bench")
    making, flushing = [], []
    for _ in range(runs):
        started = time.perf_counter()
        with tracer.start_as_current_span("root"):
            for _ in range(spans - 1):
                with tracer.start_as_current_span("cassandra_query", attributes={"db.statement": "SELECT ..."}):
                    pass
        made = time.perf_counter()
        provider.force_flush(2000)
        making.append((made - started) * 1000)
        flushing.append((time.perf_counter() - made) * 1000)
    provider.shutdown()
    return statistics.median(making), statistics.median(flushing)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=60, help="requests per variant and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating on/off rounds")
    args = parser.parse_args()

    with throwaway_stack() as (instance, result), httpx.Client(base_url=result.api_url, timeout=60) as client:
        outputs = result.outputs
        functions = [outputs["CatalogFunctionName"], outputs["CartFunctionName"]]
        admin = login(client, "swagger_admin", "admin123")
        username = f"bench_{uuid.uuid4().hex[:12]}"
        expect(client.post("/user-api/register", json={"username": username, "password": BENCH_PASSWORD}), 201)
        user = login(client, username, BENCH_PASSWORD)
        product = bench_product(client, admin)

        def catalog_list() -> None:
            expect(client.get("/api/products", params={"category": "bench", "limit": 20}, headers=user), 200)

        def checkout_ms() -> float:
            """One checkout of a one-line cart; only the checkout request is timed."""
            expect(client.post("/cart-api/cart/items", json={"product_id": product}, headers=user), 201)
            return timed_ms(lambda: expect(client.post("/cart-api/cart/checkout", headers=user), 201))

        def warm_up() -> None:
            """A changed configuration starts new workers: their first requests are not timed
            (and may take long on a busy machine)."""
            expect(client.get("/api/products", params={"category": "bench"}, headers=user, timeout=300), 200)
            expect(client.post("/cart-api/cart/items", json={"product_id": product}, headers=user, timeout=300), 201)
            expect(client.post("/cart-api/cart/checkout", headers=user, timeout=300), 201)

        on: dict[str, list[float]] = {"catalog list": [], "checkout": []}
        off: dict[str, list[float]] = {"catalog list": [], "checkout": []}
        for _ in range(args.rounds):
            for variant, changes in ((on, {}), (off, {"OTEL_SDK_DISABLED": "true"})):
                with environment(instance, functions, changes):
                    warm_up()
                    variant["catalog list"] += [timed_ms(catalog_list) for _ in range(args.requests)]
                    variant["checkout"] += [checkout_ms() for _ in range(args.requests)]
        profiled: list[float] = []
        with environment(instance, functions[:1], {"STORE_PROFILE_FUNCTIONS": "catalog"}):
            warm_up()
            profiled += [timed_ms(catalog_list) for _ in range(args.requests)]

        pid = traces.running(instance)
        assert pid is not None
        rss = rss_mb(pid)
        making, flushing = span_costs_ms(instance)
        print(f"\nin process: 20 spans made in {making:.2f} ms; the invocation's flush to Zipkin {flushing:.2f} ms")

    print_results(on, off, profiled, rss, result.timings["trace_server_ready"])


if __name__ == "__main__":
    main()
