"""The shared HTTP plumbing: one error shape, validation details, health statuses."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from store import http
from store.config import get_settings
from store.db import CassandraUnavailable
from store.errors import Conflict


class Item(BaseModel):
    name: str = Field(min_length=1)
    quantity: int = Field(gt=0)


router = APIRouter()


@router.post("/items", status_code=201)
def create_item(item: Item) -> Item:
    return item


@router.get("/conflict")
def conflict() -> None:
    raise Conflict("not enough stock", details={"product_ids": ["p1"]})


@router.get("/database")
def database() -> None:
    raise CassandraUnavailable("node down")


@router.get("/boom")
def boom() -> None:
    raise RuntimeError("secret internals")


@router.get("/items/{item_id}")
def read_item(item_id: str) -> dict[str, str]:
    return {"id": item_id}


@router.get("/typed/{item_id:uuid}")
def read_typed(item_id: str) -> dict[str, str]:
    return {"id": str(item_id)}


client = TestClient(http.create_app("test", "/t", [http.docs_router(), router]), raise_server_exceptions=False)


def test_validation_error_names_the_field() -> None:
    response = client.post("/t/items", json={"name": "", "quantity": 0})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert {detail["field"] for detail in error["details"]} == {"name", "quantity"}
    assert "name" in error["message"]
    assert "quantity" in error["message"]


def test_malformed_json_is_422_not_500() -> None:
    response = client.post("/t/items", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_a_body_that_is_not_utf8_is_422_like_malformed_json() -> None:
    body = b"\x00\xf1v\x12\xe9n\x80"  # not UTF-8, -16 or -32: json.loads raises UnicodeDecodeError
    response = client.post("/t/items", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert "UTF-8" in response.json()["error"]["message"]


def test_app_errors_keep_status_code_and_details() -> None:
    response = client.get("/t/conflict")
    assert response.status_code == 409
    assert response.json() == {
        "error": {"code": "conflict", "message": "not enough stock", "details": {"product_ids": ["p1"]}}
    }


def test_database_down_is_503_with_retry_after() -> None:
    response = client.get("/t/database")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"]["code"] == "service_unavailable"


def test_unexpected_error_is_500_without_internals() -> None:
    response = client.get("/t/boom")
    assert response.status_code == 500
    assert "secret" not in response.text
    assert response.json()["error"]["code"] == "internal_error"


def test_unknown_route_is_404_in_the_error_shape() -> None:
    response = client.get("/t/nowhere")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


class _Database:
    def __init__(self, up: bool) -> None:
        self.up = up

    def ping(self) -> None:
        if not self.up:
            raise CassandraUnavailable("down")


@pytest.mark.parametrize(
    ("up", "status", "body"),
    [
        (True, 200, {"status": "ok", "service": "test", "cassandra": "up"}),
        (False, 503, {"status": "unavailable", "service": "test", "cassandra": "down"}),
    ],
)
def test_health_reflects_cassandra(
    monkeypatch: pytest.MonkeyPatch, up: bool, status: int, body: dict[str, str]
) -> None:
    monkeypatch.setattr(http, "get_database", lambda: _Database(up))
    response = client.get("/t/health")
    assert response.status_code == status
    assert response.json() == body


def test_body_over_the_limit_is_413_by_content_length() -> None:
    limit = get_settings().max_body_bytes
    response = client.post("/t/items", content=b"x" * (limit + 1), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_body_over_the_limit_is_413_without_content_length() -> None:
    limit = get_settings().max_body_bytes

    def chunks() -> Iterator[bytes]:
        for _ in range(limit // 1024 + 2):
            yield b"x" * 1024

    response = client.post("/t/items", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_body_within_the_limit_reaches_the_route() -> None:
    response = client.post("/t/items", json={"name": "pen", "quantity": 2})
    assert response.status_code == 201
    assert response.json() == {"name": "pen", "quantity": 2}


def test_docs_use_packaged_assets_and_relative_urls() -> None:
    page = client.get("/t/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assert "url: 'openapi.json'" in page.text or 'url: "openapi.json"' in page.text
    assert "docs/assets/swagger-ui-bundle.js" in page.text
    script = client.get("/t/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert len(script.content) > 100_000
    # Swagger UI 4 refuses OpenAPI 3.1 ("Unable to render this definition"); FastAPI writes 3.1.
    assert re.search(rb'PACKAGE_VERSION:"5\.', script.content)
    assert client.get("/t/docs/assets/../../etc/passwd").status_code == 404
    assert client.get("/t/docs/assets/index.html").status_code == 404


def _request_metrics(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    return [r for r in records if "http_request_duration_ms" in r]


def test_request_metric_carries_route_template_method_and_status_class(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    client.get("/t/items/abc-123")
    client.get("/t/boom")
    client.get("/t/no/such/route")
    first, second, third = _request_metrics(capsys)
    assert first["route"] == "/t/items/{item_id}"  # the template, never the id
    assert first["method"] == "GET"
    assert first["status_class"] == "2xx"
    assert isinstance(first["http_request_duration_ms"], list)
    assert second["route"] == "/t/boom"
    assert second["status_class"] == "5xx"
    assert third["route"] == "unmatched"
    capsys.readouterr()
    client.get(f"/t/typed/{uuid.uuid4()}")
    [typed] = _request_metrics(capsys)
    assert typed["route"] == "/t/typed/{item_id}"  # without the path convertor
    assert third["status_class"] == "4xx"
    # The page's document is the whole API's, as built into the layer.
    document = client.get("/t/openapi.json")
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "Product Store API"


def test_error_answers_are_derived_from_the_route_in_the_one_shape() -> None:
    operations = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    create = operations["/t/items"]["post"]["responses"]
    assert set(create) == {"201", "413", "422", "503"}
    for status in ("413", "422", "503"):
        assert create[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    assert set(operations["/t/conflict"]["get"]["responses"]) == {"200", "503"}
    schemas = client.app.openapi()["components"]["schemas"]  # type: ignore[attr-defined]
    assert "HTTPValidationError" not in schemas
    assert schemas["ErrorBody"]["required"] == ["error"]


def test_405_names_every_method_the_path_serves() -> None:
    response = client.delete("/t/items")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["allow"] == "POST"
    app = http.create_app("test", "/t", [router, _more_items_router()])
    assert TestClient(app).patch("/t/items").headers["allow"] == "GET, POST"


def _more_items_router() -> APIRouter:
    more = APIRouter()

    @more.get("/items")
    def list_items() -> list[Item]:
        return []

    return more


@pytest.mark.parametrize("path", ["/t/health", "/t/nowhere", "/t/boom", "/t/docs"])
def test_every_response_carries_the_security_headers(path: str) -> None:
    response = client.get(path)
    for name, value in http.SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set environment variables, then build an app with settings read afresh."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def _app_client() -> TestClient:
    get_settings.cache_clear()
    return TestClient(http.create_app("test", "/t", [http.docs_router(), router]))


def test_docs_are_off_on_aws_unless_switched_on(configured: pytest.MonkeyPatch) -> None:
    configured.setenv("STORE_STAGE", "aws")
    configured.setenv("JWT_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:000000000000:secret:jwt")
    assert _app_client().get("/t/docs").status_code == 404
    assert _app_client().get("/t/openapi.json").status_code == 404
    configured.setenv("API_DOCS", "on")
    assert _app_client().get("/t/docs").status_code == 200


def test_cors_preflight_only_for_an_allowed_origin(configured: pytest.MonkeyPatch) -> None:
    configured.setenv("CORS_ALLOWED_ORIGINS", "https://shop.example.com")
    app = _app_client()
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    allowed = app.options("/t/items", headers={"Origin": "https://shop.example.com", **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example.com"
    refused = app.options("/t/items", headers={"Origin": "https://evil.example.net", **preflight})
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    simple = app.get("/t/health", headers={"Origin": "https://evil.example.net"})
    assert "access-control-allow-origin" not in simple.headers
