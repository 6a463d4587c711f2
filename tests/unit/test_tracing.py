"""The trace context helpers: what goes into a carrier comes back out as the
parent, through each hop an order takes (HTTP, event envelope, SNS/SQS
attributes, the outbox relay, the state-machine input)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from fakes import World
from store import http, tracing
from store.config import TracingSettings
from store.events import DomainEvent

EXPORTER = InMemorySpanExporter()


@pytest.fixture(autouse=True)
def spans() -> Iterator[InMemorySpanExporter]:
    """An SDK provider that keeps finished spans in memory (set once per process)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
        trace.set_tracer_provider(provider)
    EXPORTER.clear()
    yield EXPORTER
    EXPORTER.clear()


def _hex(number: int, width: int) -> str:
    return format(number, f"0{width}x")


def _finished(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    return next(span for span in exporter.get_finished_spans() if span.name == name)


def test_no_span_no_carrier() -> None:
    assert tracing.carrier() == {}
    assert tracing.sns_attributes() == {}


def test_a_carrier_holds_the_current_span_and_makes_it_the_parent(spans: InMemorySpanExporter) -> None:
    with tracing.span("checkout") as parent:
        headers = tracing.carrier()
    context = parent.get_span_context()
    assert headers["traceparent"].startswith(f"00-{_hex(context.trace_id, 32)}-{_hex(context.span_id, 16)}-")
    with tracing.span("next hop", context=tracing.context_of(headers)):
        pass
    child = _finished(spans, "next hop")
    assert child.parent is not None
    assert (child.context.trace_id, child.parent.span_id) == (context.trace_id, context.span_id)


def test_an_empty_carrier_starts_a_new_trace(spans: InMemorySpanExporter) -> None:
    with tracing.span("checkout") as current, tracing.span("fresh", context=tracing.context_of({})):
        pass
    fresh = _finished(spans, "fresh")
    assert fresh.parent is None
    assert fresh.context.trace_id != current.get_span_context().trace_id


def test_sns_attributes_and_the_sqs_record_they_become(spans: InMemorySpanExporter) -> None:
    with tracing.span("publish") as publisher:
        attributes = tracing.sns_attributes()
    assert attributes["traceparent"]["DataType"] == "String"
    # SNS raw delivery: SQS message attributes, in the Lambda event's spelling.
    record = {
        "messageAttributes": {
            key: {"stringValue": value["StringValue"], "dataType": "String"} for key, value in attributes.items()
        }
    }
    # The attributes win over the envelope's own context.
    envelope = {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}
    with tracing.span("consume", context=tracing.from_sqs(record, envelope)):
        pass
    consumed = _finished(spans, "consume")
    assert consumed.parent is not None
    assert consumed.parent.span_id == publisher.get_span_context().span_id


def test_without_message_attributes_the_event_envelope_is_the_carrier(spans: InMemorySpanExporter) -> None:
    with tracing.span("checkout") as checkout:
        event = DomainEvent(type="OrderCreated", order_id=uuid.uuid4(), user_id=uuid.uuid4())
    assert event.trace["traceparent"].split("-")[2] == _hex(checkout.get_span_context().span_id, 16)
    body = event.model_dump_json()
    for context in (tracing.from_sqs({"messageAttributes": {}}, event.trace), tracing.from_body(body)):
        with tracing.span("consume", context=context):
            pass
        consumed = _finished(spans, "consume")
        assert consumed.parent is not None
        assert consumed.parent.span_id == checkout.get_span_context().span_id
        spans.clear()


def test_a_body_that_is_no_envelope_starts_a_new_trace(spans: InMemorySpanExporter) -> None:
    for body in ("not json", "[]", json.dumps({"trace": "nonsense"})):
        with tracing.span("consume", context=tracing.from_body(body)):
            pass
        assert _finished(spans, "consume").parent is None
        spans.clear()


def test_the_relay_publishes_under_the_span_that_recorded_the_event(spans: InMemorySpanExporter) -> None:
    world = World()
    seen: list[dict[str, str]] = []
    original = world.publisher.publish

    def publish(event_type: str, body: str) -> None:
        seen.append(tracing.carrier())  # what the SNS adapter puts into the message attributes
        original(event_type, body)

    world.publisher.publish = publish  # type: ignore[method-assign]
    with tracing.span("checkout") as checkout:
        event = DomainEvent(type="OrderCreated", order_id=uuid.uuid4(), user_id=uuid.uuid4(), occurred_at=world.clock())
        world.outbox.write(event)
    # The sweep runs later, in another invocation with no span of its own.
    assert world.relay.sweep().published == 1
    published = _finished(spans, "outbox.publish")
    assert published.parent is not None
    assert published.parent.span_id == checkout.get_span_context().span_id
    assert seen[0]["traceparent"].split("-")[2] == _hex(published.context.span_id, 16)


def test_http_requests_are_server_spans_named_by_route_and_continue_the_callers_trace(
    spans: InMemorySpanExporter,
) -> None:
    router = APIRouter()

    @router.get("/things/{thing_id}")
    def thing(thing_id: str) -> dict[str, str]:
        tracing.tag(thing_id=thing_id)
        return {"id": thing_id}

    client = TestClient(http.create_app("test", "/t", [router]))
    caller = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    assert client.get("/t/things/42", headers={"traceparent": caller}).status_code == 200
    served = _finished(spans, "GET /t/things/{thing_id}")
    assert served.kind == trace.SpanKind.SERVER
    assert served.parent is not None
    assert (served.context.trace_id, served.parent.span_id) == (int("a" * 32, 16), int("b" * 16, 16))
    assert served.attributes is not None
    assert served.attributes["http.response.status_code"] == 200
    assert served.attributes["thing.id"] == "42"


def test_a_failing_business_step_is_an_error_span(spans: InMemorySpanExporter) -> None:
    @tracing.traced("payment.authorize")
    def authorize() -> None:
        raise RuntimeError("provider down")

    with pytest.raises(RuntimeError):
        authorize()
    failed = _finished(spans, "payment.authorize")
    assert failed.status.status_code == trace.StatusCode.ERROR


def test_flushed_handlers_force_flush(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    provider = trace.get_tracer_provider()
    monkeypatch.setattr(provider, "force_flush", calls.append)

    @tracing.flushed
    def handler(event: dict[str, str], context: object) -> str:
        return "done"

    assert handler({}, None) == "done"
    assert calls == [tracing.FLUSH_TIMEOUT_MS]


def test_the_exporter_is_the_one_otel_traces_exporter_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    monkeypatch.setenv("OTEL_EXPORTER_ZIPKIN_ENDPOINT", "http://127.0.0.1:9/api/v2/spans")
    settings = TracingSettings()
    exporter = tracing._exporter(settings.otel_traces_exporter)
    assert type(exporter).__name__ == "ZipkinExporter"
    assert exporter.endpoint == "http://127.0.0.1:9/api/v2/spans"
    assert type(tracing._exporter("otlp")).__name__ == "OTLPSpanExporter"
    assert tracing._exporter("none") is None
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert TracingSettings().otel_sdk_disabled is True
