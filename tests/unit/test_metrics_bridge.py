"""The metrics bridge's reading and counting logic, with a fake CloudWatch Logs:
no record lost or counted twice across polls, full pages without a token,
late lines and restarts."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from metrics_bridge import emf
from metrics_bridge.cursor import GroupCursor, LogEvent, LogReader, Page
from metrics_bridge.exposition import Gauges, StateCollector
from metrics_bridge.sources import execution_gauges
from metrics_bridge.state import MetricState

GROUP = "/aws/lambda/catalog"


class FakeLogs:
    """Behaves like the emulator: oldest first, at most `limit` events, no token;
    or like AWS (`tokens=True`): pages of `limit` joined by nextToken."""

    def __init__(self, limit: int = 10_000, *, tokens: bool = False) -> None:
        self.events: list[LogEvent] = []
        self.limit = limit
        self.tokens = tokens
        self.calls = 0

    def filter(self, group: str, start: int, *, token: str | None = None, streams: Sequence[str] | None = None) -> Page:
        self.calls += 1
        matching = sorted(
            (e for e in self.events if e.timestamp >= start and (not streams or e.stream in streams)),
            key=lambda e: e.timestamp,
        )
        offset = int(token or 0)
        page = matching[offset : offset + self.limit]
        more = self.tokens and offset + self.limit < len(matching)
        return Page(page, str(offset + self.limit) if more else None)

    def streams_since(self, group: str, start: int) -> list[str]:
        return sorted({e.stream for e in self.events if e.timestamp >= start})


def emf_line(name: str, value: float | list[float], unit: str = "Count", **dims: str) -> str:
    return json.dumps(
        {
            "_aws": {
                "Timestamp": 0,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "ProductStore",
                        "Dimensions": [sorted(dims)],
                        "Metrics": [{"Name": name, "Unit": unit}],
                    }
                ],
            },
            name: value,
            **dims,
        }
    )


def invocation(stream: str, stamp: int, lines: list[str]) -> list[LogEvent]:
    return [LogEvent(stream, stamp, line) for line in lines]


def drain(reader: LogReader, cursor: GroupCursor) -> list[LogEvent]:
    return reader.read(GROUP, cursor)


def test_emf_parse_keeps_raw_values_and_dimensions() -> None:
    line = emf_line("http_request_duration_ms", [12.5, 700.0], "Milliseconds", service="catalog", route="/api/x")
    (obs,) = emf.parse(line)
    assert obs.values == (12.5, 700.0)
    assert dict(obs.dimensions) == {"service": "catalog", "route": "/api/x"}
    assert emf.parse('{"level": "INFO", "message": "request"}') == []
    assert emf.parse("START RequestId: abc") == []


def test_identical_lines_of_one_invocation_each_count_once_across_polls() -> None:
    logs = FakeLogs()
    reader = LogReader(logs, overlap_ms=5_000)
    cursor = GroupCursor(position=0)
    line = emf_line("product_views_total", 1, category="books")
    logs.events += invocation("s1", 1_000, [line, line, line])
    assert len(drain(reader, cursor)) == 3
    # The same three lines come back in the next query (overlap): none is new.
    assert drain(reader, cursor) == []
    # A fourth identical copy landing late in the same invocation is new.
    logs.events += invocation("s1", 1_000, [line])
    assert len(drain(reader, cursor)) == 1


def test_full_page_without_token_continues_without_loss_or_double_count() -> None:
    logs = FakeLogs(limit=7)
    reader = LogReader(logs, overlap_ms=0, page_limit=7)
    cursor = GroupCursor(position=0)
    # 10 invocations of 3 identical lines each, one timestamp per invocation:
    # pages of 7 cut invocations in the middle.
    for i in range(10):
        logs.events += invocation(f"s{i}", 100 + i, [f"line-{i % 2}"] * 3)
    events = drain(reader, cursor)
    assert len(events) == 30
    assert drain(reader, cursor) == []


def test_one_timestamp_filling_a_page_is_read_stream_by_stream() -> None:
    logs = FakeLogs(limit=5)
    reader = LogReader(logs, overlap_ms=0, page_limit=5)
    cursor = GroupCursor(position=0)
    for i in range(4):
        logs.events += invocation(f"s{i}", 500, [f"x{i}", f"y{i}"])  # 8 events at one ms
    logs.events += invocation("later", 501, ["z"])
    assert len(drain(reader, cursor)) == 9


def test_aws_pages_joined_by_tokens() -> None:
    logs = FakeLogs(limit=4, tokens=True)
    reader = LogReader(logs, overlap_ms=1_000, page_limit=4)
    cursor = GroupCursor(position=0)
    for i in range(5):
        logs.events += invocation(f"s{i}", 1000 + i, ["a", "a", "b"])
    assert len(drain(reader, cursor)) == 15
    assert drain(reader, cursor) == []


def test_late_line_within_overlap_counts_once_older_ones_are_forgotten() -> None:
    logs = FakeLogs()
    reader = LogReader(logs, overlap_ms=2_000)
    cursor = GroupCursor(position=0)
    logs.events += invocation("a", 10_000, ["1"])
    assert len(drain(reader, cursor)) == 1
    logs.events += invocation("b", 9_000, ["2"])  # landed late, 1 s behind the cursor
    assert [e.message for e in drain(reader, cursor)] == ["2"]
    logs.events += invocation("c", 20_000, ["3"])
    drain(reader, cursor)
    # Identities older than cursor - overlap are dropped: the state stays small.
    assert all(stamp >= 18_000 for stamp in cursor.seen.values())


def test_randomised_arrivals_and_restarts_count_every_value_exactly_once(tmp_path: Path) -> None:
    """Invocations land in random order within the overlap, polls run between
    arrivals with small pages, and the bridge restarts from its saved state."""
    rng = random.Random(7)
    logs = FakeLogs(limit=6)
    state_file = tmp_path / "state.json"
    expected = 0.0
    pending: list[list[LogEvent]] = []
    for i in range(300):
        stamp = 1_000_000 + i * 10
        values = [float(rng.randint(1, 3)) for _ in range(rng.randint(1, 4))]
        expected += sum(values)
        pending.append(invocation(f"s{i}", stamp, [emf_line("items_total", v, shop="x") for v in values]))
    state = MetricState()
    for step in range(0, 300, 10):
        batch = pending[step : step + 10]
        rng.shuffle(batch)
        for inv in batch:
            logs.events += inv
            if rng.random() < 0.3:
                state = poll(logs, state)
        if rng.random() < 0.3:
            state.save(state_file)
            state = MetricState.load(state_file)  # a restart
    state = poll(logs, state)
    state = poll(logs, state)
    counter = state.families["items_total"].series[(("shop", "x"),)]
    assert counter.value == expected


def test_crash_between_count_and_save_recounts_nothing(tmp_path: Path) -> None:
    """Values and cursors are saved together: a crash after counting but before
    saving re-reads the same events and ends with the same totals."""
    logs = FakeLogs()
    state_file = tmp_path / "state.json"
    logs.events += invocation("a", 1_000, [emf_line("items_total", 2)])
    state = poll(logs, MetricState())
    state.save(state_file)
    logs.events += invocation("b", 2_000, [emf_line("items_total", 5)])
    poll(logs, state)  # counted, then the process dies before saving
    restarted = poll(logs, MetricState.load(state_file))
    assert restarted.families["items_total"].series[()].value == 7


def poll(logs: FakeLogs, state: MetricState) -> MetricState:
    reader = LogReader(logs, overlap_ms=100, page_limit=logs.limit)
    cursor = state.cursors.setdefault(GROUP, GroupCursor(position=0))
    for event in reader.read(GROUP, cursor):
        for observation in emf.parse(event.message):
            state.record(observation)
    return state


def test_histogram_uses_the_seeds_buckets_and_counts_requests() -> None:
    state = MetricState()
    dims = {"service": "catalog", "route": "/api/products/{product_id}", "method": "GET", "status_class": "2xx"}
    for obs in emf.parse(emf_line("http_request_duration_ms", [4.0, 500.0, 501.0], "Milliseconds", **dims)):
        state.record(obs)
    for obs in emf.parse(emf_line("order_delivery_duration_seconds", [31.0, 400.0], "Seconds")):
        state.record(obs)
    registry = CollectorRegistry()
    registry.register(StateCollector(state, Gauges(), __import__("threading").Lock()))
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}
    buckets = {
        s.labels["le"]: s.value for s in families["http_request_duration_seconds"].samples if s.name.endswith("_bucket")
    }
    assert buckets["0.005"] == 1
    assert buckets["0.5"] == 2  # 500 ms is inside the 0.5 s bucket (le is inclusive)
    assert buckets["1.0"] == 3
    assert buckets["+Inf"] == 3
    requests = families["http_requests"].samples[0]
    assert requests.value == 3
    assert requests.labels["route"] == "/api/products/{product_id}"
    delivery = {
        s.labels["le"] for s in families["order_delivery_duration_seconds"].samples if s.name.endswith("_bucket")
    }
    assert {"30.0", "360.0", "480.0", "600.0"} <= delivery


@pytest.mark.parametrize("unit", ["Seconds", "Milliseconds"])
def test_unknown_time_metrics_become_second_histograms(unit: str) -> None:
    state = MetricState()
    for obs in emf.parse(emf_line("thing_ms", [1000.0], unit)):
        state.record(obs)
    family = state.families["thing_seconds"]
    assert family.spec.kind == "histogram"
    assert family.series[()].total == (1000.0 if unit == "Seconds" else 1.0)


class FakeSfn:
    def __init__(self, executions: list[dict[str, object]]) -> None:
        self.executions = executions

    def get_paginator(self, name: str) -> FakeSfn:
        assert name == "list_executions"
        return self

    def paginate(self, **kwargs: object) -> list[dict[str, object]]:
        return [{"executions": self.executions[:2]}, {"executions": self.executions[2:]}]


def test_executions_are_counted_by_status_with_the_oldest_running_age() -> None:
    started = datetime.fromtimestamp(1_000, UTC)
    fake = FakeSfn(
        [
            {"status": "RUNNING", "startDate": started},
            {"status": "FAILED", "startDate": started},
            {"status": "RUNNING", "startDate": datetime.fromtimestamp(1_050, UTC)},
            {"status": "SUCCEEDED", "startDate": started},
        ]
    )
    by_status, oldest = execution_gauges(fake, ["arn:aws:states:us-east-1:1:stateMachine:lifecycle"], now=1_100.0)
    counts = {s.labels["status"]: s.value for s in by_status.samples}
    assert counts == {"RUNNING": 2, "SUCCEEDED": 1, "FAILED": 1, "TIMED_OUT": 0, "ABORTED": 0}
    assert oldest.samples[0].value == 100.0
    assert oldest.samples[0].labels == {"state_machine": "lifecycle"}
