"""Notification templates: placeholders checked against the event's fields, and
an admin's notification checked against its template."""

from __future__ import annotations

import uuid

import pytest

from fakes import World
from store.errors import BadRequest
from store.notification_admin import NotificationSend, send_notification
from store.templates import DEFAULTS, FIELDS, Language, TemplateType, check_template, placeholders, render


@pytest.mark.parametrize(("event_type", "language"), list(DEFAULTS))
def test_every_default_uses_exactly_its_events_fields(event_type: TemplateType, language: Language) -> None:
    check_template(event_type, DEFAULTS[(event_type, language)])


def test_an_unknown_and_a_missing_placeholder_are_both_named() -> None:
    with pytest.raises(BadRequest) as raised:
        check_template("OrderStatusChanged", "Order {order} is {status}")
    assert "unknown placeholder {order}" in raised.value.message
    assert "missing placeholder {order_id}" in raised.value.message
    assert raised.value.details == [{"field": "body", "unknown": ["order"], "missing": ["order_id"]}]


@pytest.mark.parametrize(
    "body",
    ["{order_id.__class__}", "{order_id[0]}", "{0}", "{}", "{order_id!r}", "{order_id:>99999}", "unclosed {order_id"],
)
def test_anything_but_a_plain_name_in_braces_is_refused(body: str) -> None:
    with pytest.raises(BadRequest):
        placeholders(body)


def test_literal_braces_are_written_doubled() -> None:
    body = "{{not a field}} {order_id}"
    check_template("OrderCreated", body)
    assert render(body, {"order_id": "42"}) == "{not a field} 42"
    assert FIELDS["OrderCreated"] == {"order_id"}


def test_an_admin_message_must_carry_exactly_its_fields() -> None:
    world = World()
    user = world.users.add()
    with pytest.raises(BadRequest, match="unknown field 'txt'; missing field 'text'"):
        send_notification(
            world.users,
            world.notifier,
            NotificationSend(user_id=user.id, fields={"txt": "hi"}),
        )


def test_an_admin_message_is_delivered_like_an_event() -> None:
    world = World()
    user = world.users.add(phone="+15550100", language="ru")
    sent = send_notification(
        world.users,
        world.notifier,
        NotificationSend(user_id=user.id, fields={"text": "Скидка 10%"}),
    )
    assert (sent.language, sent.message, sent.outcomes) == ("ru", "Скидка 10%", {"inbox": "sent", "sms": "sent"})
    assert world.sms.sent == [("+15550100", "Скидка 10%")]
    assert world.deliveries.outcomes(sent.notification_id) == {"inbox": "sent", "sms": "sent"}
    assert sent.user_id == user.id != uuid.UUID(int=0)
