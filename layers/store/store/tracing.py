"""OpenTelemetry tracing of the functions, and the trace context carried between them.

The SDK is configured once per process from the standard `OTEL_*` settings
(`OTEL_TRACES_EXPORTER` zipkin locally, otlp on AWS; `OTEL_SDK_DISABLED=true`
turns it all off). Spans are batched and flushed at the end of every
invocation (`flushed`): a frozen Lambda worker never sends what it kept.

The context (W3C `traceparent`) travels with an order: HTTP headers, the
event envelope (`DomainEvent.trace`, so the outbox row carries it), SNS message
attributes (copied onto SQS messages), the state-machine input (`$.trace`)
and each task's payload.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind

from store.config import TracingSettings

__all__ = [
    "SpanKind",
    "aws_call",
    "carrier",
    "configure",
    "context_of",
    "flush",
    "flushed",
    "from_body",
    "from_sqs",
    "sns_attributes",
    "span",
    "tag",
    "traced",
]

P = ParamSpec("P")
R = TypeVar("R")

FLUSH_TIMEOUT_MS = 2000  # at most this much of an invocation goes to exporting
CARRIER_KEYS = ("traceparent", "tracestate")

tracer = trace.get_tracer("store")
_configured = False
_lock = threading.Lock()


def configure() -> None:
    """Install the SDK's tracer provider once per process, as `OTEL_*` says.
    Without an exporter (or with OTEL_SDK_DISABLED=true) the API stays a no-op."""
    global _configured  # noqa: PLW0603 - once per process
    with _lock:
        if _configured:
            return
        _configured = True
        settings = TracingSettings()
        exporter = None if settings.otel_sdk_disabled else _exporter(settings.otel_traces_exporter)
        if exporter is None:
            return
        from opentelemetry.sdk.resources import Resource  # noqa: PLC0415 - only when tracing is on
        from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
        from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

        service = settings.otel_service_name or settings.powertools_service_name or "store"
        attributes = {"service.name": service}
        if settings.aws_lambda_function_name:
            attributes["faas.name"] = settings.aws_lambda_function_name
        provider = TracerProvider(resource=Resource.create(attributes))
        provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)


def _exporter(name: str) -> Any:
    """The exporter OTEL_TRACES_EXPORTER names; each reads its own endpoint setting."""
    if name == "zipkin":
        from opentelemetry.exporter.zipkin.json import ZipkinExporter  # noqa: PLC0415

        return ZipkinExporter()
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: PLC0415

        return OTLPSpanExporter()
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter  # noqa: PLC0415

        return ConsoleSpanExporter()
    return None


def flush() -> None:
    """Send the spans of this invocation now (the worker may be frozen next)."""
    force_flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    if force_flush is not None:
        force_flush(FLUSH_TIMEOUT_MS)


def flushed(handler: Callable[P, R]) -> Callable[P, R]:
    """Decorator of a Lambda handler: tracing configured, spans flushed on return."""
    configure()

    @functools.wraps(handler)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return handler(*args, **kwargs)
        finally:
            flush()

    return call


@contextmanager
def span(
    name: str, *, context: Context | None = None, kind: SpanKind = SpanKind.INTERNAL, **attributes: Any
) -> Iterator[Span]:
    """A span, current while the block runs; an exception marks it as an error."""
    with tracer.start_as_current_span(name, context=context, kind=kind, attributes=_clean(attributes)) as current:
        yield current


def traced(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: a business operation's span around each call."""

    def wrap(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            with span(name):
                return function(*args, **kwargs)

        return call

    return wrap


def tag(**attributes: Any) -> None:
    """Attributes on the current span (`order_id` becomes `order.id`: found by `storectl trace`)."""
    current = trace.get_current_span()
    for key, value in _clean(attributes).items():
        current.set_attribute(key, value)


def _clean(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted names (`order_id` -> `order.id`); values as strings unless plain scalars."""
    cleaned: dict[str, Any] = {}
    for key, value in attributes.items():
        if value is None:
            continue
        cleaned[key.replace("_", ".")] = value if isinstance(value, bool | int | float | str) else str(value)
    return cleaned


@contextmanager
def aws_call(service: str, operation: str, **attributes: Any) -> Iterator[Span]:
    """A client span around one AWS API call (the adapters in store.aws)."""
    with span(
        f"{service}.{operation}",
        kind=SpanKind.CLIENT,
        **{"rpc_system": "aws-api", "rpc_service": service, "rpc_method": operation, **attributes},
    ) as current:
        yield current


def carrier() -> dict[str, str]:
    """The current context as W3C headers (empty when no span is recording)."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return {key: value for key, value in headers.items() if key in CARRIER_KEYS}


def context_of(headers: Mapping[str, str] | None) -> Context:
    """The context a carrier holds (an empty one starts a new trace)."""
    return propagate.extract(dict(headers or {}))


def sns_attributes() -> dict[str, dict[str, str]]:
    """The current context as SNS message attributes (SQS gets them with raw delivery)."""
    return {key: {"DataType": "String", "StringValue": value} for key, value in carrier().items()}


def from_sqs(record: Mapping[str, Any], body_trace: Mapping[str, str] | None = None) -> Context:
    """The context of an SQS message: its message attributes, else the event's own."""
    attributes = record.get("messageAttributes") or {}
    headers = {
        key: str(attributes[key].get("stringValue") or attributes[key].get("StringValue") or "")
        for key in CARRIER_KEYS
        if isinstance(attributes.get(key), Mapping)
    }
    return context_of(headers if headers.get("traceparent") else body_trace)


def from_body(body: str) -> Context:
    """The context an event envelope (JSON) carries in its `trace`."""
    try:
        headers = json.loads(body).get("trace")
    except (ValueError, AttributeError):
        return context_of(None)
    return context_of(headers if isinstance(headers, dict) else None)
