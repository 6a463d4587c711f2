"""Settings: outside local mode the function refuses to start without a real secret."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from store import http
from store.config import LOCAL_JWT_SECRET, Settings, get_settings

REAL_SECRET = "x" * 48


def test_local_mode_falls_back_to_the_local_secret() -> None:
    assert Settings(store_stage="local").jwt_signing_key == LOCAL_JWT_SECRET


@pytest.mark.parametrize("secret", [None, "", "changeme", "your-secret-key", LOCAL_JWT_SECRET, "short-secret"])
def test_aws_stage_refuses_a_missing_or_placeholder_secret(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings(store_stage="aws", jwt_secret=secret)


def test_aws_stage_accepts_a_real_secret() -> None:
    assert Settings(store_stage="aws", jwt_secret=REAL_SECRET).jwt_signing_key == REAL_SECRET


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("fresh_settings")
def test_app_does_not_start_with_a_placeholder_secret_and_says_why(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("STORE_STAGE", "aws")
    monkeypatch.setenv("JWT_SECRET", "changeme")
    with pytest.raises(RuntimeError, match="refusing to start"):
        http.create_app("test", "/t")
    logged = caplog.text
    assert "refusing to start" in logged
    assert "JWT_SECRET" in logged
    assert "changeme" not in logged  # the bad value itself is not logged


@pytest.mark.usefixtures("fresh_settings")
def test_app_starts_with_a_real_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORE_STAGE", "aws")
    monkeypatch.setenv("JWT_SECRET", REAL_SECRET)
    assert http.create_app("test", "/t").title == "Product Store: test"
