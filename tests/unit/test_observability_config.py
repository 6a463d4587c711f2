"""Alert rules (promtool's own unit tests), their annotations, and the generated
dashboards: checked without a running stack."""

from __future__ import annotations

import json
import re
import subprocess

import yaml

from metrics_bridge import dashboards
from storectl import monitoring

ALERTS = monitoring.OBSERVABILITY_DIR / "alerts"
README = monitoring.OBSERVABILITY_DIR / "README.md"


def _rules() -> list[dict[str, object]]:
    groups = yaml.safe_load((ALERTS / "rules.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_promtool_checks_and_unit_tests_the_rules() -> None:
    promtool = str(monitoring.binary("promtool"))
    check = subprocess.run(
        [promtool, "check", "rules", "rules.yml"], cwd=ALERTS, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    result = subprocess.run(
        [promtool, "test", "rules", "rules_test.yml"], cwd=ALERTS, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_is_tested_and_has_severity_summary_description_runbook() -> None:
    tested = set(re.findall(r"alertname: (\w+)", (ALERTS / "rules_test.yml").read_text()))
    anchors = {
        re.sub(r"[^a-z0-9-]", "", line.lstrip("#").strip().lower().replace(" ", "-"))
        for line in README.read_text().splitlines()
        if line.startswith("#")
    }
    for rule in _rules():
        name = str(rule["alert"])
        assert name in tested, f"{name} has no promtool test"
        labels = rule["labels"]
        annotations = rule["annotations"]
        assert isinstance(labels, dict)
        assert isinstance(annotations, dict)
        assert labels["severity"] in {"warning", "critical"}
        assert annotations["summary"]
        assert annotations["description"]
        assert annotations["runbook_url"] == f"observability/README.md#{name.lower()}"
        assert name.lower() in anchors, f"observability/README.md has no section {name}"


def test_committed_grafana_dashboards_match_their_definition() -> None:
    for dashboard in dashboards.DASHBOARDS:
        committed = json.loads((dashboards.GRAFANA_DIR / f"{dashboard.slug}.json").read_text())
        assert committed == dashboards.grafana_json(dashboard), "run `python -m metrics_bridge.dashboards`"
    assert len(dashboards.DASHBOARDS) == 8


def test_console_templates_hold_every_panel_query() -> None:
    pages = dashboards.console_templates()
    for dashboard in dashboards.DASHBOARDS:
        page = pages[f"{dashboard.slug}.html"]
        assert page.count("new PromConsole.Graph(") == len(dashboard.panels)
        # Go templates would read "{{" inside a query or legend.
        assert "{{" not in page.replace('{{ template "', "")
