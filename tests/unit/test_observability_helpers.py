"""store.observability's decorators write one EMF record per call."""

from __future__ import annotations

import json

import pytest

from store.observability import counted, timed


@timed("thing_seconds", operation="hash")
def slow_ok(value: int) -> int:
    return value * 2


@counted("things_total", operation="verify")
def maybe_fail(fail: bool) -> str:
    if fail:
        raise ValueError("no")
    return "yes"


def _records(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]


def test_timed_observes_seconds_with_dimensions(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert slow_ok(2) == 4
    (record,) = _records(capsys)
    assert record["operation"] == "hash"
    metric = record["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]  # type: ignore[index]
    assert metric == {"Name": "thing_seconds", "Unit": "Seconds"}
    assert isinstance(record["thing_seconds"], list)


def test_counted_says_ok_or_error_and_reraises(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert maybe_fail(False) == "yes"
    with pytest.raises(ValueError, match="no"):
        maybe_fail(True)
    ok, error = _records(capsys)
    assert (ok["status"], ok["operation"]) == ("ok", "verify")
    assert error["status"] == "error"
