"""`storectl up` output, with the stack itself replaced (no servers here)."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from storectl import cli, stack
from storectl.instance import dev_instance


def test_up_prints_the_url_and_the_demo_accounts(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_up(instance: Any, **_: Any) -> stack.UpResult:
        return stack.UpResult(outputs={}, api_url="http://127.0.0.1:4566/_aws/execute-api/x/v1", timings={"total": 1})

    monkeypatch.setattr(stack, "up", fake_up)
    result = CliRunner().invoke(cli.app, ["up"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:4566/_aws/execute-api/x/v1" in result.output
    assert "swagger_user / password123   (user)" in result.output
    assert "swagger_admin / admin123   (admin)" in result.output
    assert "http://127.0.0.1:4566/_aws/execute-api/x/v1/api/docs" in result.output
    assert f"Docs site:     {dev_instance().docs_url}" in result.output
