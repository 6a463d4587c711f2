"""What the bridge has counted, and where it stopped reading: one JSON file.

The values and the log cursors are saved together, atomically (write, fsync,
rename), after each poll. A restart therefore goes on from a consistent point:
values counted before the last save are kept (no counter reset), and events
read after it are read again and counted once.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metrics_bridge.cursor import GroupCursor
from metrics_bridge.emf import Observation
from metrics_bridge.spec import Spec, spec_for

Labels = tuple[tuple[str, str], ...]
_INVALID = re.compile(r"[^a-zA-Z0-9_]")


def label_name(dimension: str) -> str:
    name = _INVALID.sub("_", dimension)
    return f"_{name}" if name[:1].isdigit() else name


@dataclass
class Series:
    value: float = 0.0  # counter total or gauge value
    counts: list[int] = field(default_factory=list)  # per bucket (not cumulative), +Inf last
    total: float = 0.0  # histogram sum
    count: int = 0


@dataclass
class Family:
    spec: Spec
    series: dict[Labels, Series] = field(default_factory=dict)


class MetricState:
    def __init__(self) -> None:
        self.families: dict[str, Family] = {}
        self.cursors: dict[str, GroupCursor] = {}

    def record(self, observation: Observation) -> None:
        spec = spec_for(observation.name, observation.unit)
        labels = tuple(sorted((label_name(key), value) for key, value in observation.dimensions))
        series = self._series(spec, labels)
        values = [value * spec.scale for value in observation.values]
        if spec.kind == "counter":
            series.value += sum(values)
        elif spec.kind == "gauge":
            series.value = values[-1]
        else:
            for value in values:
                # `le` is inclusive: a value equal to a bound falls in that bucket.
                series.counts[bisect.bisect_left(spec.buckets, value)] += 1
                series.total += value
                series.count += 1
            if spec.counter:
                self._series(spec_for(spec.counter, "Count"), labels).value += len(values)

    def _series(self, spec: Spec, labels: Labels) -> Series:
        family = self.families.setdefault(spec.name, Family(spec))
        series = family.series.get(labels)
        if series is None:
            series = family.series[labels] = Series(counts=[0] * (len(spec.buckets) + 1))
        return series

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "cursors": {group: cursor.to_json() for group, cursor in self.cursors.items()},
            "series": [
                {
                    "family": name,
                    "labels": dict(labels),
                    "value": s.value,
                    "counts": s.counts,
                    "sum": s.total,
                    "count": s.count,
                }
                for name, family in self.families.items()
                for labels, s in family.series.items()
            ],
            "specs": {name: _spec_json(family.spec) for name, family in self.families.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MetricState:
        state = cls()
        state.cursors = {group: GroupCursor.from_json(raw) for group, raw in data.get("cursors", {}).items()}
        specs = {name: Spec(**{**raw, "buckets": tuple(raw["buckets"])}) for name, raw in data.get("specs", {}).items()}
        for item in data.get("series", []):
            spec = specs[item["family"]]
            labels = tuple(sorted(item["labels"].items()))
            state.families.setdefault(spec.name, Family(spec)).series[labels] = Series(
                value=item["value"], counts=list(item["counts"]), total=item["sum"], count=item["count"]
            )
        return state

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "w") as out:
            json.dump(self.to_json(), out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> MetricState:
        try:
            return cls.from_json(json.loads(path.read_text()))
        except FileNotFoundError:
            return cls()


def _spec_json(spec: Spec) -> dict[str, Any]:
    return {
        "kind": spec.kind,
        "name": spec.name,
        "help": spec.help,
        "scale": spec.scale,
        "buckets": list(spec.buckets),
        "counter": spec.counter,
    }
