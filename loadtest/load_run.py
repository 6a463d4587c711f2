"""One load run against the running `make up` stack, with a report folder.

    make load USERS=20 DURATION=2m          # headless, writes loadtest/reports/<time>-u20/
    make load UI=1                          # Locust's web UI on http://127.0.0.1:8089

Seeds the catalog first when it is empty (`storectl seed`), runs
`loadtest/locustfile.py`, samples the CPU of the emulator, its Lambda workers
and Cassandra once a second, and writes into the report folder:

    locust.html                Locust's own report
    locust_stats.csv, locust_stats_history.csv, locust_failures.csv, locust_exceptions.csv
    samples.csv                every request: time, scenario, name, ms, ok
    cpu.csv                    time, emulator %, workers %, worker count, cassandra % (100 % = one core)
    latency.png                p50 / p95 / p99 per scenario over time (10 s windows)
    throughput.png             requests/s and failures/s over time
    cpu.png                    the CPU samples
    summary.md, summary.json   per scenario and overall against the seeds' targets

Runs with the load venv (`.venv-load`: Locust and matplotlib, apart from the SAM
CLI's pins); talks to storectl in `.venv` as a command.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "localstack"))

from storectl.instance import dev_instance  # noqa: E402 - stdlib-only parts of storectl
from storectl.processes import read_pid, session_members  # noqa: E402

# The seeds' targets, over the whole run.
TARGETS = {"p95_ms": 200.0, "p99_ms": 500.0, "failure_rate": 0.001}
STORECTL = ROOT / ".venv" / "bin" / "storectl"
LOCUST = Path(sys.executable).parent / "locust"
WINDOW_SECONDS = 10


def storectl(*args: str) -> str:
    result = subprocess.run([str(STORECTL), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"storectl {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout.strip()


def ensure_catalog(api_url: str, products: int) -> int:
    """The catalog's size; seeds `products` first when it is empty."""
    import requests  # noqa: PLC0415 - a Locust dependency, only in the load venv

    login = requests.post(
        f"{api_url}/user-api/login", json={"username": "swagger_admin", "password": "admin123"}, timeout=60
    )
    login.raise_for_status()
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    listing = requests.get(f"{api_url}/api/products", params={"limit": 1}, headers=headers, timeout=60)
    listing.raise_for_status()
    total = int(listing.json().get("total") or len(listing.json().get("items", [])))
    if total == 0:
        print(f"the catalog is empty: seeding {products} products")
        subprocess.run([str(STORECTL), "seed", "--products", str(products)], check=True)
        total = products
    return total


class CpuSampler(threading.Thread):
    """CPU % (100 = one core) of the emulator, its Lambda workers and Cassandra, once a second."""

    def __init__(self, out: Path) -> None:
        super().__init__(daemon=True)
        instance = dev_instance()
        self.emulator_pid = read_pid(instance.emulator_dir / "emulator.pid")
        self.cassandra_pid = read_pid(instance.cassandra_dir / "cassandra.pid")
        self.out = out
        self.stopped = threading.Event()

    @staticmethod
    def _cpu_seconds(pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError, ProcessLookupError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _workers(self) -> list[int]:
        return [pid for pid in session_members(self.emulator_pid or 0) if pid != self.emulator_pid]

    def _pids(self) -> list[int]:
        return [*self._workers(), self.emulator_pid or 0, self.cassandra_pid or 0]

    @staticmethod
    def _used(pids: list[int], previous: dict[int, float], current: dict[int, float], elapsed: float) -> float:
        # A worker born during the interval counts from zero.
        return sum(max(0.0, current[pid] - previous.get(pid, 0.0)) for pid in pids if pid) / elapsed * 100

    def run(self) -> None:
        # What the processes used before the run does not count.
        previous = {pid: self._cpu_seconds(pid) for pid in self._pids()}
        with self.out.open("w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["time", "emulator", "workers", "worker_count", "cassandra"])
            last = time.monotonic()
            while not self.stopped.wait(1.0):
                now = time.monotonic()
                elapsed, last = now - last, now
                workers = self._workers()
                current = {pid: self._cpu_seconds(pid) for pid in self._pids()}

                writer.writerow(
                    [
                        f"{time.time():.1f}",
                        f"{self._used([self.emulator_pid or 0], previous, current, elapsed):.1f}",
                        f"{self._used(workers, previous, current, elapsed):.1f}",
                        len(workers),
                        f"{self._used([self.cassandra_pid or 0], previous, current, elapsed):.1f}",
                    ]
                )
                file.flush()
                previous = current


def run_locust(args: argparse.Namespace, api_url: str, report: Path) -> int:
    command = [
        str(LOCUST),
        "-f",
        str(ROOT / "loadtest" / "locustfile.py"),
        "--host",
        api_url,
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--csv",
        str(report / "locust"),
        "--csv-full-history",
        "--html",
        str(report / "locust.html"),
        "--exit-code-on-error",
        "0",  # failures are reported in the summary; the run itself worked
    ]
    if args.headless:
        command += ["--headless", "--run-time", args.duration, "--only-summary"]
    else:
        command += ["--web-host", "127.0.0.1", "--web-port", str(args.web_port)]
        print(f"Locust's web UI: http://127.0.0.1:{args.web_port}  (Ctrl-C ends the run and writes the report)")
    env = {**os.environ, "LOAD_SAMPLES_CSV": str(report / "samples.csv")}
    return subprocess.run(command, env=env, check=False).returncode


def percentiles(values: list[float]) -> dict[str, float]:
    import numpy as np  # noqa: PLC0415 - load venv only

    if not values:
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "p99_ms": float("nan")}
    p50, p95, p99 = np.percentile(np.array(values), [50, 95, 99])
    return {"p50_ms": float(p50), "p95_ms": float(p95), "p99_ms": float(p99)}


def read_samples(report: Path) -> list[dict[str, Any]]:
    with (report / "samples.csv").open() as file:
        return [
            {
                "time": float(row["time"]),
                "scenario": row["scenario"],
                "name": row["name"],
                "ms": float(row["ms"]),
                "ok": row["ok"] == "1",
            }
            for row in csv.DictReader(file)
        ]


def summarize(samples: list[dict[str, Any]], args: argparse.Namespace, catalog_size: int) -> dict[str, Any]:
    duration = max(1e-9, samples[-1]["time"] - samples[0]["time"]) if samples else 1.0

    def figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
        failures = sum(1 for row in rows if not row["ok"])
        business = sum(1 for row in rows if row["ok"] and "[" in row["name"])
        return {
            "requests": len(rows),
            "rps": len(rows) / duration,
            "failures": failures,
            "failure_rate": failures / len(rows) if rows else 0.0,
            "business_answers": business,
            **percentiles([row["ms"] for row in rows]),
        }

    scenarios = sorted({row["scenario"] for row in samples})
    overall = figures(samples)
    return {
        # The machine may be shared: how busy it was, as 1-minute load averages.
        "load_average_end": os.getloadavg()[0],
        "started": datetime.fromtimestamp(samples[0]["time"], UTC).isoformat() if samples else None,
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "duration_s": duration,
        "catalog_products": catalog_size,
        "overall": overall,
        "scenarios": {name: figures([row for row in samples if row["scenario"] == name]) for name in scenarios},
        "targets": TARGETS,
        "meets_targets": bool(
            overall["p95_ms"] < TARGETS["p95_ms"]
            and overall["p99_ms"] < TARGETS["p99_ms"]
            and overall["failure_rate"] < TARGETS["failure_rate"]
        ),
    }


def write_summary(summary: dict[str, Any], report: Path) -> str:
    def mark(value: float, limit: float) -> str:
        return "ok" if value < limit else "MISSED"

    overall = summary["overall"]
    lines = [
        f"# Load run: {summary['users']} users, {summary['duration_s']:.0f} s, {summary['catalog_products']} products",
        "",
        f"Started {summary['started']}; spawn rate {summary['spawn_rate']}/s (ramp-up included in every figure); "
        f"machine load average at the end {summary['load_average_end']:.1f} on {os.cpu_count()} cores.",
        "",
        "| target (seeds) | measured | |",
        "|---|---|---|",
        f"| p95 < 200 ms | {overall['p95_ms']:.0f} ms | {mark(overall['p95_ms'], TARGETS['p95_ms'])} |",
        f"| p99 < 500 ms | {overall['p99_ms']:.0f} ms | {mark(overall['p99_ms'], TARGETS['p99_ms'])} |",
        f"| errors < 0.1 % | {overall['failure_rate'] * 100:.2f} % ({overall['failures']}) "
        f"| {mark(overall['failure_rate'], TARGETS['failure_rate'])} |",
        "",
        "| scenario | requests | req/s | p50 ms | p95 ms | p99 ms | failures | business answers |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in [*summary["scenarios"].items(), ("**all**", overall)]:
        lines.append(
            f"| {name} | {row['requests']} | {row['rps']:.1f} | {row['p50_ms']:.0f} | {row['p95_ms']:.0f} "
            f"| {row['p99_ms']:.0f} | {row['failures']} | {row['business_answers']} |"
        )
    text = "\n".join(lines) + "\n"
    (report / "summary.md").write_text(text)
    (report / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return text


def plot(samples: list[dict[str, Any]], report: Path) -> None:
    import matplotlib  # noqa: PLC0415 - load venv only

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    if not samples:
        return
    start = samples[0]["time"]
    scenarios = sorted({row["scenario"] for row in samples})
    windows = int((samples[-1]["time"] - start) // WINDOW_SECONDS) + 1

    def series(rows: list[dict[str, Any]]) -> tuple[list[float], dict[str, list[float]]]:
        xs: list[float] = []
        ys: dict[str, list[float]] = {"p50_ms": [], "p95_ms": [], "p99_ms": []}
        for window in range(windows):
            chunk = [r["ms"] for r in rows if int((r["time"] - start) // WINDOW_SECONDS) == window]
            if chunk:
                xs.append(window * WINDOW_SECONDS)
                for key, value in percentiles(chunk).items():
                    ys[key].append(value)
        return xs, ys

    columns = 3
    figure_rows = (len(scenarios) + 1 + columns - 1) // columns
    fig, axes = plt.subplots(figure_rows, columns, figsize=(15, 3.6 * figure_rows), squeeze=False)
    for ax, name in zip(axes.flat, ["all", *scenarios], strict=False):
        rows = samples if name == "all" else [r for r in samples if r["scenario"] == name]
        xs, ys = series(rows)
        for key, value in ys.items():
            ax.plot(xs, value, marker=".", label=key.removesuffix("_ms"))
        ax.axhline(TARGETS["p95_ms"], color="grey", linestyle=":", linewidth=1)
        ax.axhline(TARGETS["p99_ms"], color="grey", linestyle="--", linewidth=1)
        ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel(f"s since start ({WINDOW_SECONDS} s windows)")
        ax.set_ylabel("ms")
        ax.legend(fontsize="small")
    for ax in list(axes.flat)[len(scenarios) + 1 :]:
        ax.set_visible(False)
    fig.suptitle("latency percentiles per scenario (dotted: p95 target, dashed: p99 target)")
    fig.tight_layout()
    fig.savefig(report / "latency.png", dpi=90)
    plt.close(fig)
    _plot_throughput(plt, samples, report)
    _plot_cpu(plt, start, report)


def _plot_throughput(plt: Any, samples: list[dict[str, Any]], report: Path) -> None:
    start = samples[0]["time"]
    seconds = int(samples[-1]["time"] - start) + 1
    done = [0] * seconds
    failed = [0] * seconds
    for row in samples:
        second = int(row["time"] - start)
        done[second] += 1
        failed[second] += 0 if row["ok"] else 1
    fig, ax = plt.subplots(figsize=(12, 4))
    ax.plot(range(seconds), done, label="requests/s")
    ax.plot(range(seconds), failed, label="failures/s", color="red")
    ax.set_xlabel("s since start")
    ax.legend()
    fig.tight_layout()
    fig.savefig(report / "throughput.png", dpi=90)
    plt.close(fig)


def _plot_cpu(plt: Any, start: float, report: Path) -> None:
    cpu_file = report / "cpu.csv"
    if cpu_file.exists():
        with cpu_file.open() as file:
            cpu = list(csv.DictReader(file))
        if cpu:
            fig, ax = plt.subplots(figsize=(12, 4))
            xs = [float(row["time"]) - start for row in cpu]
            for key in ("emulator", "workers", "cassandra"):
                ax.plot(xs, [float(row[key]) for row in cpu], label=f"{key} CPU %")
            ax2 = ax.twinx()
            ax2.plot(xs, [int(row["worker_count"]) for row in cpu], color="black", linestyle=":", label="workers")
            ax2.set_ylabel("Lambda workers")
            ax.set_ylabel("% of one core")
            ax.set_xlabel("s since start")
            ax.legend(loc="upper left")
            ax2.legend(loc="upper right")
            fig.tight_layout()
            fig.savefig(report / "cpu.png", dpi=90)
            plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=float, default=2.0, help="users started per second")
    parser.add_argument("--duration", default="2m", help="headless run time: 30s, 2m, 1h")
    parser.add_argument("--headless", action="store_true", help="no web UI: run, then write the report")
    parser.add_argument("--web-port", type=int, default=8089)
    parser.add_argument("--products", type=int, default=20_000, help="how many to seed when the catalog is empty")
    parser.add_argument("--report-dir", type=Path, default=ROOT / "loadtest" / "reports")
    parser.add_argument("--api-url", help="default: `storectl url` of the make-up stack")
    args = parser.parse_args()

    api_url = args.api_url or storectl("url")
    catalog_size = ensure_catalog(api_url, args.products)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    report = args.report_dir / f"{stamp}-u{args.users}"
    report.mkdir(parents=True)
    sampler = CpuSampler(report / "cpu.csv")
    sampler.start()
    try:
        run_locust(args, api_url, report)
    finally:
        sampler.stopped.set()
        sampler.join()
    samples = read_samples(report)
    print(write_summary(summarize(samples, args, catalog_size), report))
    plot(samples, report)
    print(f"report: {report}")


if __name__ == "__main__":
    main()
