"""What every HTTP function shares: the app factory, the one error shape, the
health route and the Lambda handler (Mangum + Powertools)."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.routing import iter_route_contexts
from mangum import Mangum
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from store import __version__
from store.config import Settings, get_settings
from store.db import CassandraUnavailable, get_database
from store.errors import AppError
from store.observability import logger, metrics, observe
from store.openapi import TITLE, document_errors, stored_document
from store.profiling import profiled
from store.tracing import flushed

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


_LOCATIONS = {"body", "query", "path", "header", "cookie"}


def _validation_details(error: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for item in error.errors():
        loc = [str(part) for part in item.get("loc", ())]
        # ("query", "limit") -> field "limit", location "query"; body fields keep their path.
        located = bool(loc) and loc[0] in _LOCATIONS
        location = loc[0] if located else "body"
        path = loc[1:] if located else loc
        details.append(
            {
                "field": ".".join(path) or location,
                "location": location,
                "message": item.get("msg", "invalid"),
                "type": item.get("type", "value_error"),
            }
        )
    return details


# What FastAPI answers (400) for a body it cannot decode at all; malformed JSON is its 422.
FASTAPI_UNPARSABLE_BODY = "There was an error parsing the body"


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure to `{"error": {code, message, details}}` with its status."""

    @app.exception_handler(AppError)
    async def _app_error(_: Request, error: AppError) -> JSONResponse:
        return JSONResponse(
            error_body(error.code, error.message, error.details),
            status_code=error.status_code,
            headers=error.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        details = _validation_details(error)
        fields = ", ".join(sorted({item["field"] for item in details}))
        return JSONResponse(error_body("validation_error", f"invalid input: {fields}", details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400 and error.detail == FASTAPI_UNPARSABLE_BODY:
            # A body that is not even text (e.g. not UTF-8): invalid input like
            # malformed JSON, so the same 422 the API documents for it.
            message = "invalid input: body (send JSON encoded as UTF-8)"
            return JSONResponse(error_body("validation_error", message), status_code=422)
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        headers = getattr(error, "headers", None)
        if error.status_code == 405:
            headers = {**(headers or {}), "Allow": _allowed_methods(app, request)}
        return JSONResponse(error_body(code, str(error.detail)), status_code=error.status_code, headers=headers)

    @app.exception_handler(CassandraUnavailable)
    async def _db_down(_: Request, error: CassandraUnavailable) -> JSONResponse:
        logger.warning("cassandra unavailable", extra={"error": str(error)})
        return JSONResponse(
            error_body("service_unavailable", "the database is unavailable; retry shortly"),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error")
        response = JSONResponse(error_body("internal_error", "internal error"), status_code=500)
        _secure(response)  # answered outside the middlewares
        return response


def _allowed_methods(app: FastAPI, request: Request) -> str:
    """Every method the path serves: Starlette's 405 names only the first route
    that matched the path (GET /products, not also POST /products)."""
    methods: set[str] = set()
    for route in iter_route_contexts(app.routes):
        if route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


class HealthPublic(BaseModel):
    status: str
    service: str
    cassandra: str


def health_router(service: str) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health", response_model=HealthPublic, responses={503: {"model": HealthPublic}})
    def health(response: Response) -> HealthPublic:
        try:
            get_database().ping()
        except CassandraUnavailable:
            response.status_code = 503
            return HealthPublic(status="unavailable", service=service, cassandra="down")
        return HealthPublic(status="ok", service=service, cassandra="up")

    return router


class InfoLinks(BaseModel):
    self_: str = Field(alias="self")
    health: str
    docs: str
    openapi: str


class InfoPublic(BaseModel):
    name: str
    service: str
    version: str
    links: InfoLinks = Field(description="paths under the API base URL (the stage prefix is not known to the service)")


def info_router(service: str, prefix: str) -> APIRouter:
    """`GET {prefix}/` (and `{prefix}`): the service's name, version and where its docs and health are."""
    router = APIRouter(tags=["health"])
    info = InfoPublic(
        name=f"{TITLE}: {service}",
        service=service,
        version=__version__,
        links=InfoLinks(self=f"{prefix}/", health=f"{prefix}/health", docs="/api/docs", openapi="/api/openapi.json"),
    )

    @router.get("/", response_model=InfoPublic, response_model_by_alias=True)
    def service_info() -> InfoPublic:
        return info

    # API Gateway hands `{prefix}` and `{prefix}/` alike; answer both without a redirect.
    router.add_api_route("", service_info, methods=["GET"], include_in_schema=False)
    return router


class BodySizeLimit:
    """413 for a request body over `max_bytes`: at once when Content-Length says
    so, otherwise while reading it (a chunked body has no length up front)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            error_body("payload_too_large", f"the request body is larger than {self.max_bytes} bytes"),
            status_code=413,
        )
        await response(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that hands out already-read messages, then the real ones."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def startup_settings() -> Settings:
    """The settings, or a clear log line and no start: a function must not serve
    with, for example, a placeholder signing secret outside local mode."""
    try:
        return get_settings()
    except ValidationError as error:
        # Only the messages: the inputs could include the (bad) secret itself.
        problems = "; ".join(str(item["msg"]) for item in error.errors(include_input=False, include_url=False))
        logger.critical(f"refusing to start: invalid configuration: {problems}")
        raise RuntimeError(f"refusing to start: invalid configuration: {problems}") from None


_SWAGGER_ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}


class DocsRouter(APIRouter):
    """The docs routes: left out when the settings switch the docs off."""


def docs_router() -> APIRouter:
    """The one Swagger UI of the whole API (the catalog function serves it at
    `/api/docs`) over the merged document (`/api/openapi.json`), from the
    Swagger UI packaged in fastapi-swagger (our machines are offline, so no CDN). Every URL
    in the page and the document is relative, because the API is reached under
    a prefix the app cannot know (the stage on AWS, `/_aws/execute-api/...` on
    the emulator)."""
    router = DocsRouter(include_in_schema=False)
    # Swagger UI 5 (OpenAPI 3.1, which FastAPI writes), as packaged by fastapi-swagger.
    assets = resources.files("fastapi_swagger") / "resources"

    @router.get("/docs")
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="openapi.json",
            title=TITLE,
            swagger_js_url="docs/assets/swagger-ui-bundle.js",
            swagger_css_url="docs/assets/swagger-ui.css",
            swagger_favicon_url="data:,",
            oauth2_redirect_url=None,
            swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
        )

    @router.get("/docs/assets/{name}")
    def docs_asset(name: str) -> FileResponse:
        if name not in _SWAGGER_ASSETS:
            raise StarletteHTTPException(status_code=404, detail=f"no docs asset {name!r}")
        with resources.as_file(assets / name) as path:
            return FileResponse(path, media_type=_SWAGGER_ASSETS[name], headers={"Cache-Control": "max-age=86400"})

    @router.get("/openapi.json")
    def openapi_document() -> Response:
        return Response(stored_document(), media_type="application/json")

    return router


# On every response. The API answers JSON only; the one HTML page (Swagger UI)
# has an inline script, so it gets its own, looser policy.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Cross-Origin-Resource-Policy": "same-site",
}
_API_CSP = "default-src 'none'; frame-ancestors 'none'"
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'"
)


def _secure(response: Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    html = response.headers.get("content-type", "").startswith("text/html")
    response.headers.setdefault("Content-Security-Policy", _DOCS_CSP if html else _API_CSP)


def create_app(service: str, prefix: str, routers: list[APIRouter] | None = None) -> FastAPI:
    """A FastAPI app whose routes all live under `prefix` (its API Gateway path)."""
    settings = startup_settings()
    app = FastAPI(
        title=f"Product Store: {service}",
        # One document and one Swagger UI for the whole API: docs_router.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        # FastAPI's own OpenTelemetry: one server span per request, named by route
        # template, continuing the caller's traceparent (store.tracing sets the SDK up).
        # Not its spans per dependency and serialization: a readable trace, less overhead.
        telemetry={"operation_spans": False},
    )

    def openapi() -> dict[str, Any]:
        # Read by `storectl openapi`, which merges the four functions' documents.
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    install_error_handlers(app)
    app.include_router(health_router(service), prefix=prefix)
    app.include_router(info_router(service, prefix), prefix=prefix)
    for router in routers or []:
        if isinstance(router, DocsRouter) and not settings.api_docs_enabled:
            continue  # off on AWS unless API_DOCS=on: no public map of the API
        app.include_router(router, prefix=prefix)
    # Added before the logging middleware, which so stays outermost and logs the 413s too.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # Starlette's CORS: answers preflights itself (400 for an origin not listed),
    # and adds Access-Control-Allow-Origin only for a listed one.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        expose_headers=["Retry-After", "Location"],
        max_age=600,
    )

    @app.middleware("http")
    async def _log_request(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        status = 500  # an unhandled error leaves here and becomes a 500 further out
        try:
            response = await call_next(request)
            status = response.status_code
            _secure(response)
        finally:
            _record_request(request, status, (time.perf_counter() - started) * 1000)
        return response

    return app


def _record_request(request: Request, status: int, duration_ms: float) -> None:
    logger.info(
        "request",
        extra={
            "method": request.method,
            "path": request.url.path,
            "status": status,
            "duration_ms": round(duration_ms, 2),
        },
    )
    # One record per request; its count is the request count (no separate counter).
    observe(
        "http_request_duration_ms",
        MetricUnit.Milliseconds,
        duration_ms,
        route=route_template(request),
        method=request.method,
        status_class=f"{status // 100}xx",
    )


_CONVERTOR = re.compile(r"\{(\w+):\w+\}")


def route_template(request: Request) -> str:
    """The matched route's template (`/api/products/{product_id}`), never the raw
    path, so the metric's dimensions stay bounded; `unmatched` for a 404 of no route."""
    template = getattr(request.scope.get("route"), "path", None)
    if not isinstance(template, str):
        return "unmatched"
    template = _CONVERTOR.sub(r"{\1}", template)  # `{product_id:uuid}` -> `{product_id}`
    # An included router's route knows its path without the router's prefix:
    # take the prefix from the request path, whose tail matched the template.
    segments = request.url.path.strip("/").split("/")
    depth = len(template.strip("/").split("/")) if template.strip("/") else 0
    prefix = segments[: len(segments) - depth]
    return "/" + "/".join([*prefix, template.strip("/")]).strip("/") if prefix else template


def lambda_handler(app: FastAPI) -> LambdaHandler:
    """Wrap `app` for API Gateway REST proxy events."""
    asgi = Mangum(app, lifespan="off")

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @profiled
    @metrics.log_metrics
    @flushed
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return asgi(event, context)  # type: ignore[arg-type]

    return handler
