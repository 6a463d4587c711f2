"""The one API description: current, complete in its error answers, and it
describes every route of the four HTTP functions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from store.openapi import render, stored_document
from storectl.openapi import combined_document

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    stored: dict[str, Any] = json.loads(stored_document())
    return stored


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in document["paths"].items() for method, op in item.items()]


def test_the_stored_document_is_the_merge_of_the_functions() -> None:
    assert stored_document().decode() == render(combined_document()), (
        "regenerate: .venv/bin/storectl openapi (storectl up and deploy do it too)"
    )


def test_every_function_prefix_is_described(document: dict[str, Any]) -> None:
    prefixes = {path.split("/")[1] for path in document["paths"]}
    assert prefixes == {"api", "cart-api", "order-api", "user-api"}
    assert len(_operations(document)) >= 38


def test_every_operation_declares_its_errors_in_the_one_shape(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        errors = {int(status) for status in responses if int(status) >= 400}
        if path.endswith("/health"):
            continue
        assert 503 in errors, (method, path)
        if operation.get("security"):
            assert 401 in errors, (method, path)
        if "requestBody" in operation:
            assert {413, 422} <= errors, (method, path)
        if "{" in path:
            assert 404 in errors, (method, path)
        for status in errors:
            assert responses[str(status)]["content"]["application/json"]["schema"] == ERROR_REF, (method, path, status)


def test_admin_routes_declare_403_and_user_routes_do_not(document: dict[str, Any]) -> None:
    assert "403" in document["paths"]["/api/products"]["post"]["responses"]
    assert "403" in document["paths"]["/user-api/users"]["get"]["responses"]
    assert "403" not in document["paths"]["/api/products"]["get"]["responses"]
    assert "403" not in document["paths"]["/cart-api/cart"]["get"]["responses"]


def test_authorize_posts_the_password_form_to_the_login_route(document: dict[str, Any]) -> None:
    flow = document["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]
    # Relative to <base>/api/openapi.json, where the API serves this document.
    assert flow["tokenUrl"] == "../user-api/login"
    login = document["paths"]["/user-api/login"]["post"]
    assert "application/x-www-form-urlencoded" in login["requestBody"]["content"]
    assert document["servers"] == [{"url": "..", "description": "this API"}]
