"""What monitoring costs and how fresh it is, on a throwaway stack.

Prints:
- what `storectl up` spent on monitoring (starting the bridge, Prometheus and
  Alertmanager, and waiting for them after the deploy);
- the delay from a request to its sample in Prometheus (median and max);
- the bridge's CPU share and RSS idle and under a mixed load (catalog reads,
  product views, logins, cart adds, checkouts), with the ratio loaded/idle;
- Prometheus' and Alertmanager's RSS.

Run:  .venv/bin/python loadtest/bench_monitoring.py [--seconds 60] [--users 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
import uuid
from pathlib import Path

import httpx

from benchkit import throwaway_stack
from storectl.instance import Instance
from storectl.processes import read_pid

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pid_of(instance: Instance, name: str) -> int:
    pid = read_pid(instance.monitoring_dir / f"{name}.pid")
    assert pid is not None, f"{name} is not running"
    return pid


def measure(pid: int, seconds: float) -> tuple[float, float]:
    """CPU share (1.0 = one core) and peak RSS over `seconds`."""
    started, cpu0, peak = time.monotonic(), cpu_seconds(pid), rss_mb(pid)
    while time.monotonic() - started < seconds:
        time.sleep(1)
        peak = max(peak, rss_mb(pid))
    return (cpu_seconds(pid) - cpu0) / (time.monotonic() - started), peak


def token(api: httpx.Client, username: str, password: str) -> str:
    response = api.post("/user-api/login", json={"username": username, "password": password})
    response.raise_for_status()
    return str(response.json()["access_token"])


def mixed_load(api_url: str, stop: threading.Event, counter: list[int]) -> None:
    with httpx.Client(base_url=api_url, timeout=60) as api:
        admin = {"Authorization": f"Bearer {token(api, 'swagger_admin', 'admin123')}"}
        user = {"Authorization": f"Bearer {token(api, 'swagger_user', 'password123')}"}
        body = {"name": "Bench Tea", "category": f"bench-{uuid.uuid4().hex[:6]}", "price": "2.50", "quantity": 10**6}
        product = api.post("/api/products", json=body, headers=admin).json()["id"]
        while not stop.is_set():
            api.get("/api/products?limit=20", headers=user)
            api.get(f"/api/products/{product}", headers=user)
            api.get("/api/categories", headers=user)
            api.post("/cart-api/cart/items", json={"product_id": product, "quantity": 1}, headers=user)
            api.post("/cart-api/cart/checkout", headers=user | {"Idempotency-Key": str(uuid.uuid4())})
            token(api, "swagger_user", "password123")
            counter[0] += 6


def prom_value(instance: Instance, query: str) -> float:
    result = httpx.get(f"{instance.prometheus_url}/api/v1/query", params={"query": query}).json()["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def sample_delays(instance: Instance, api_url: str, n: int) -> list[float]:
    query = 'sum(http_requests_total{route="/api/health"}) or vector(0)'
    delays = []
    with httpx.Client(base_url=api_url, timeout=30) as api:
        for _ in range(n):
            expected = prom_value(instance, query) + 1
            sent = time.monotonic()
            api.get("/api/health")
            while prom_value(instance, query) < expected:
                time.sleep(0.2)
            delays.append(time.monotonic() - sent)
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=4)
    args = parser.parse_args()
    with throwaway_stack() as (instance, result):
        t = result.timings
        print(
            f"storectl up: total {t['total']:.1f} s; monitoring start {t['monitoring_start']:.2f} s, "
            f"waited for it after the deploy {t['monitoring_wait']:.2f} s"
        )
        bridge = pid_of(instance, "bridge")
        time.sleep(15)  # let the first polls and scrapes settle
        idle_cpu, idle_rss = measure(bridge, 30)
        stop, counter = threading.Event(), [0]
        workers = [threading.Thread(target=mixed_load, args=(result.api_url, stop, counter)) for _ in range(args.users)]
        for worker in workers:
            worker.start()
        time.sleep(10)  # warm the functions
        start_count = counter[0]
        load_cpu, load_rss = measure(bridge, args.seconds)
        rate = (counter[0] - start_count) / args.seconds
        delays = sample_delays(instance, result.api_url, 8)
        stop.set()
        for worker in workers:
            worker.join()
        print(f"load: {args.users} users, {rate:.1f} requests/s")
        print(f"bridge idle:    CPU {idle_cpu * 100:5.1f}% of a core, RSS {idle_rss:6.1f} MB")
        print(f"bridge loaded:  CPU {load_cpu * 100:5.1f}% of a core, RSS {load_rss:6.1f} MB")
        print(f"ratio loaded/idle: CPU {load_cpu / max(idle_cpu, 1e-6):.1f}x, RSS {load_rss / idle_rss:.2f}x")
        print(
            f"request -> Prometheus sample under load: median {statistics.median(delays):.1f} s, "
            f"max {max(delays):.1f} s (n={len(delays)})"
        )
        for name in ("prometheus", "alertmanager"):
            print(f"{name} RSS: {rss_mb(pid_of(instance, name)):.1f} MB")


if __name__ == "__main__":
    main()
