"""The API description: every operation's error answers, and one document for the whole API.

Each HTTP function's app documents its own routes; `document_errors` adds the
error answers every operation can give, in the one error shape, derived from the
route itself (a token -> 401, the admin dependency -> 403, a path id -> 404, a
body -> 413, ...), plus the ones a route declares with `errors(...)`.
`merge` joins the four apps' documents into the one the API serves at
`/api/openapi.json` (`store/schemas/openapi.json`, written at build time by
`storectl openapi`; a contract test checks it is current).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from importlib import resources
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field

from store.auth import admin_principal

OPENAPI_DOCUMENT = "openapi.json"
TITLE = "Product Store API"

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Bad request: a rule on the input that the schema cannot express (a foreign cursor, an empty cart, ...)",
    401: "Not authenticated: no token, or a bad, expired or revoked one",
    403: "Forbidden: this needs the admin role",
    404: "Not found",
    405: "Method not allowed on this path",
    409: "Conflict with the current state (a taken name, not enough stock, a forbidden transition, ...)",
    413: "The request body is larger than MAX_BODY_BYTES",
    415: "Unsupported Content-Type",
    422: "Invalid input; `details` names each field",
    429: "Too many requests; retry after `Retry-After` seconds",
    503: "The database is unavailable; retry after `Retry-After` seconds",
}


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable, e.g. `not_found`, `validation_error`")
    message: str
    details: Any = Field(default=None, description="what went wrong where, when there is more to say")


class ErrorBody(BaseModel):
    """The one shape of every error answer."""

    error: ErrorDetail


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for the error answers of a route that its signature does not
    show (409 from a state check, 400 from a rule); the rest are derived."""
    return {status: {"description": ERROR_DESCRIPTIONS[status]} for status in statuses}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _derived(route: APIRoute, operation: dict[str, Any]) -> set[int]:
    statuses = set()
    parameters = operation.get("parameters", [])
    if operation.get("security"):
        statuses.add(401)
    if admin_principal in set(_calls(route.dependant)):
        statuses.add(403)
    if any(parameter["in"] == "path" for parameter in parameters):
        statuses.add(404)
    if "requestBody" in operation:
        statuses |= {413, 422}
    if parameters:
        statuses.add(422)
    if any(parameter["name"] == "cursor" for parameter in parameters):
        statuses.add(400)
    statuses.add(503)  # every route but the health check reads Cassandra
    return statuses


_ERROR_REF = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ErrorBody.__name__}"}}}


def document_errors(app: FastAPI) -> dict[str, Any]:
    """`app`'s OpenAPI document with every operation's error answers in the one shape."""
    document = get_openapi(title=app.title, version=app.version, routes=app.routes)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs"))
    schemas[ErrorBody.__name__] = error_schema
    # Routes of included routers come as contexts (the route and its prefix).
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not context.include_in_schema:
            continue
        for method in context.methods or ():
            operation = document["paths"][context.path_format][method.lower()]
            responses = operation["responses"]
            for status in sorted(_derived(route, operation) | {int(code) for code in responses if code.isdigit()}):
                if status not in ERROR_DESCRIPTIONS:
                    continue
                declared = responses.get(str(status), {})
                if "HealthPublic" in json.dumps(declared):
                    continue  # the health check answers 503 with its own body
                responses[str(status)] = {"description": ERROR_DESCRIPTIONS[status], "content": _ERROR_REF}
    # FastAPI's own 422 shape is replaced everywhere by the one error shape.
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def merge(documents: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One document from the functions' documents (their paths never overlap: each
    function owns a prefix). A component defined twice must be defined alike."""
    merged: dict[str, Any] = {
        "openapi": "",
        "info": {
            "title": TITLE,
            "version": "",
            "description": (
                "The whole store: catalog (`/api`), cart and checkout (`/cart-api`), orders (`/order-api`), "
                "users (`/user-api`). Use **Authorize** with a demo account (local stacks: `swagger_user` / "
                "`password123`, `swagger_admin` / `admin123`). Every error answers "
                '`{"error": {"code", "message", "details"}}`.'
            ),
        },
        # Relative to this document (`<base>/api/openapi.json`): the API base URL,
        # whatever prefix the API is reached under (a stage, the emulator's path).
        "servers": [{"url": "..", "description": "this API"}],
        "paths": {},
        "components": {},
        "tags": [],
    }
    for document in documents:
        merged["openapi"] = merged["openapi"] or document["openapi"]
        merged["info"]["version"] = merged["info"]["version"] or document["info"]["version"]
        for path, item in document["paths"].items():
            if path in merged["paths"]:
                raise ValueError(f"two functions describe {path}")
            merged["paths"][path] = item
        for kind, components in document.get("components", {}).items():
            into = merged["components"].setdefault(kind, {})
            for name, component in components.items():
                if into.setdefault(name, component) != component:
                    raise ValueError(f"components.{kind}.{name} differs between functions: rename one model")
        for operation in (op for item in document["paths"].values() for op in item.values()):
            for tag in operation.get("tags", []):
                if tag not in [known["name"] for known in merged["tags"]]:
                    merged["tags"].append({"name": tag})
    for kind in merged["components"]:
        merged["components"][kind] = dict(sorted(merged["components"][kind].items()))
    return merged


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def stored_document() -> bytes:
    """The merged document as built into the layer."""
    return resources.files("store.schemas").joinpath(OPENAPI_DOCUMENT).read_bytes()
