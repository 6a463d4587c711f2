"""HTTP hardening through the deployed API (issue 14): CORS for the configured
origins only, security headers on every answer, no metric series per raw query."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from support import TEST_PARAMETERS, LocalStack, bearer, eventually

ALLOWED = TEST_PARAMETERS["CorsAllowedOrigins"]
PREFLIGHT = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}


def test_cors_preflight_from_an_allowed_origin_succeeds_and_from_another_is_refused(api: httpx.Client) -> None:
    for path in ("/api/products", "/cart-api/cart", "/order-api/orders", "/user-api/me"):
        allowed = api.options(path, headers={"Origin": ALLOWED, **PREFLIGHT})
        assert allowed.status_code == 200, (path, allowed.text)
        assert allowed.headers["access-control-allow-origin"] == ALLOWED
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        refused = api.options(path, headers={"Origin": "https://evil.example.net", **PREFLIGHT})
        assert refused.status_code == 400, path
        assert "access-control-allow-origin" not in refused.headers


def test_a_cross_origin_call_is_answered_with_the_origin_only_when_allowed(api: httpx.Client, admin_token: str) -> None:
    allowed = api.get("/user-api/me", headers={"Origin": ALLOWED, **bearer(admin_token)})
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    other = api.get("/user-api/me", headers={"Origin": "https://evil.example.net", **bearer(admin_token)})
    assert "access-control-allow-origin" not in other.headers


def test_every_answer_carries_the_security_headers(api: httpx.Client) -> None:
    answers = [
        api.get("/api/health"),
        api.get("/user-api/me"),  # 401
        api.get("/cart-api/nowhere"),  # 404
        api.post("/order-api/orders", content=b"{", headers={"content-type": "application/json"}),
        api.get("/api/docs"),  # the HTML page (docs are on in local mode)
    ]
    for response in answers:
        assert response.headers["x-content-type-options"] == "nosniff", response.url
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["strict-transport-security"].startswith("max-age=")


def test_a_raw_category_does_not_become_a_metric_dimension(
    api: httpx.Client, local_stack: LocalStack, admin_token: str
) -> None:
    raw = f"no-such-{uuid.uuid4().hex}"
    # From just before the request: the emulator returns at most 10,000 events
    # without a next page, and a whole suite's catalog logs go past that.
    since = int((time.time() - 5) * 1000)
    assert api.get("/api/products", params={"category": raw}, headers=bearer(admin_token)).status_code == 200
    group = f"/aws/lambda/{local_stack.outputs['CatalogFunctionName']}"
    logs = local_stack.client("logs")

    def records() -> list[str] | None:
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": since}
        found = [
            event["message"]
            for event in logs.filter_log_events(**kwargs)["events"]
            if "category_requests_total" in event["message"]
        ]
        return found if any("(unknown)" in message for message in found) else None

    found = eventually(records, timeout=30, interval=1, what="the category metric record")
    assert not any(raw in message for message in found)
