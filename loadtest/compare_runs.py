"""Before/after table of two load-run reports (their summary.json), in Markdown.

Run:  .venv/bin/python loadtest/compare_runs.py loadtest/reports/<before> loadtest/reports/<after>
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def load(report: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((report / "summary.json").read_text())
    return summary


def cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "-"
    return f"{row['p50_ms']:.0f} / {row['p95_ms']:.0f} / {row['p99_ms']:.0f}"


def table(before: dict[str, Any], after: dict[str, Any]) -> str:
    lines = [
        f"{before['users']} users, {before['duration_s']:.0f} s vs {after['duration_s']:.0f} s "
        f"(load average at the end: {before.get('load_average_end', float('nan')):.1f} vs "
        f"{after.get('load_average_end', float('nan')):.1f})",
        "",
        "| p50 / p95 / p99 ms | before | after |",
        "|---|---|---|",
        f"| **all requests** | {cell(before['overall'])} | {cell(after['overall'])} |",
    ]
    for name in sorted(set(before["scenarios"]) | set(after["scenarios"])):
        lines.append(f"| {name} | {cell(before['scenarios'].get(name))} | {cell(after['scenarios'].get(name))} |")
    for label, key, spec in (("requests/s", "rps", ".1f"), ("failure rate", "failure_rate", ".2%")):
        lines.append(f"| {label} | {before['overall'][key]:{spec}} | {after['overall'][key]:{spec}} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    print(table(load(args.before), load(args.after)))


if __name__ == "__main__":
    main()
