"""Parse CloudWatch Embedded Metric Format (EMF) records out of log lines.

Powertools writes one JSON object per line; an EMF record carries `_aws` with
the metric definitions, the dimension values and each metric's value or list
of raw values (Powertools keeps up to 100 per metric before it flushes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Observation:
    """Every raw value of one metric in one record, with its dimensions."""

    name: str
    unit: str
    dimensions: tuple[tuple[str, str], ...]
    values: tuple[float, ...]


def parse(message: str) -> list[Observation]:
    """The observations of one log line; [] for a line that is not EMF."""
    start = message.find("{")
    if start < 0 or '"_aws"' not in message:
        return []
    try:
        record = json.loads(message[start:])
    except ValueError:
        return []
    if not isinstance(record, dict):
        return []
    meta = record.get("_aws")
    if not isinstance(meta, dict):
        return []
    observations: list[Observation] = []
    for directive in meta.get("CloudWatchMetrics") or []:
        if not isinstance(directive, dict):
            continue
        dimensions = _dimensions(record, directive.get("Dimensions") or [])
        for definition in directive.get("Metrics") or []:
            name = definition.get("Name") if isinstance(definition, dict) else None
            if not isinstance(name, str):
                continue
            values = _values(record.get(name))
            if values:
                unit = str(definition.get("Unit") or "None")
                observations.append(Observation(name, unit, dimensions, values))
    return observations


def _dimensions(record: dict[str, Any], sets: list[Any]) -> tuple[tuple[str, str], ...]:
    # Powertools writes one dimension set per record; a union keeps any others.
    keys = sorted({key for keyset in sets if isinstance(keyset, list) for key in keyset if isinstance(key, str)})
    return tuple((key, str(record[key])) for key in keys if key in record)


def _values(raw: Any) -> tuple[float, ...]:
    items = raw if isinstance(raw, list) else [raw]
    values = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float):
            continue
        values.append(float(item))
    return tuple(values)
