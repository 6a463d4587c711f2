"""Order lifecycle executions as a terminal view, from Step Functions history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass
class StateSpan:
    name: str
    entered: datetime
    exited: datetime | None = None

    @property
    def seconds(self) -> float | None:
        return (self.exited - self.entered).total_seconds() if self.exited else None


def timeline(events: list[dict[str, Any]]) -> list[StateSpan]:
    """Each state entered, in order, with its exit time (None while inside it)."""
    spans: list[StateSpan] = []
    open_spans: dict[str, StateSpan] = {}
    for event in sorted(events, key=lambda item: item["id"]):
        kind = event["type"]
        if kind.endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            span = StateSpan(name, event["timestamp"])
            spans.append(span)
            open_spans[name] = span
        elif kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            if name in open_spans:
                open_spans.pop(name).exited = event["timestamp"]
    return spans


def current_state(spans: list[StateSpan]) -> str | None:
    """The state the execution is in (the last one entered and not exited)."""
    inside = [span for span in spans if span.exited is None]
    return inside[-1].name if inside else None


def history(client: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = client.get_execution_history(**arguments)
        events.extend(page["events"])
        if not page.get("nextToken"):
            return events
        arguments["nextToken"] = page["nextToken"]
