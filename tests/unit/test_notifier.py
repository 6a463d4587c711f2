"""The notifications consumer's logic with in-memory collaborators: inbox,
channels, duplicates, and each collaborator failing."""

from __future__ import annotations

import uuid

import pytest

from fakes import World
from store.db import CassandraUnavailable
from store.events import DomainEvent


@pytest.fixture
def world() -> World:
    return World()


def _event(user_id: uuid.UUID, status: str = "SHIPPING") -> DomainEvent:
    return DomainEvent(type="OrderStatusChanged", order_id=uuid.uuid4(), user_id=user_id, payload={"status": status})


def test_an_event_goes_to_the_inbox_and_every_channel_the_user_has(world: World) -> None:
    user = world.users.add(email="ann@example.com", phone="+15550100")
    event = _event(user.id)
    world.notifier.handle(event)
    message = f"Your order {event.order_id} changed status to: SHIPPING"
    assert world.inbox.entries == [(user.id, event.id, message)]
    assert world.email.sent == [("ann@example.com", message)]
    assert world.sms.sent == [("+15550100", message)]


def test_a_user_without_addresses_gets_only_the_inbox(world: World) -> None:
    user = world.users.add()
    world.notifier.handle(_event(user.id))
    assert len(world.inbox.entries) == 1
    assert world.email.sent == world.sms.sent == []


def test_a_redelivered_event_is_handled_once(world: World) -> None:
    user = world.users.add(phone="+15550100")
    event = _event(user.id)
    world.notifier.handle(event)
    world.notifier.handle(event)
    assert len(world.inbox.entries) == 1
    assert len(world.sms.sent) == 1


@pytest.mark.parametrize("call", ["inbox.add", "users.get", "marks.done", "channel.email", "marks.mark"])
def test_a_failure_part_way_is_completed_by_the_redelivery_without_repeating_what_was_done(
    world: World, call: str
) -> None:
    user = world.users.add(email="ann@example.com", phone="+15550100")
    event = _event(user.id)
    world.faults.fail(call)
    try:
        world.notifier.handle(event)
    except CassandraUnavailable:
        world.faults.clear()
        world.notifier.handle(event)  # the queue delivers it again
    assert len(world.inbox.entries) == 1
    assert len(world.sms.sent) == 1
    # Email: sent once; again only when its mark was lost after sending; a failed
    # send is counted and not retried (channels are best effort).
    assert len(world.email.sent) == {"marks.mark": 2, "channel.email": 0}.get(call, 1)


def test_a_failing_channel_does_not_stop_the_others(world: World) -> None:
    user = world.users.add(email="ann@example.com", phone="+15550100")
    world.faults.fail("channel.email", error=ConnectionError("ses is down"))
    world.notifier.handle(_event(user.id))
    assert len(world.inbox.entries) == 1
    assert len(world.sms.sent) == 1


def test_the_message_is_in_the_users_own_language(world: World) -> None:
    russian = world.users.add(phone="+15550100", language="ru")
    english = world.users.add(phone="+15550101")  # no language: the deployment's (en here)
    world.notifier.handle(_event(russian.id))
    world.notifier.handle(_event(english.id))
    assert [message.split(" ")[0] for _, message in world.sms.sent] == ["Ваш", "Your"]


def test_a_changed_template_is_used(world: World) -> None:
    user = world.users.add(language="ru")
    world.templates.put("OrderStatusChanged", "ru", "Заказ {order_id}: {status}")
    event = _event(user.id, "DELIVERED")
    world.notifier.handle(event)
    assert world.inbox.entries == [(user.id, event.id, f"Заказ {event.order_id}: DELIVERED")]


def test_every_channel_tried_is_recorded_with_its_outcome(world: World) -> None:
    user = world.users.add(email="ann@example.com", phone="+15550100")
    world.faults.fail("channel.email", error=ConnectionError("ses is down"))
    event = _event(user.id)
    world.notifier.handle(event)
    assert world.deliveries.outcomes(event.id) == {"inbox": "sent", "email": "failed", "sms": "sent"}


def test_a_lost_delivery_record_sends_nothing_twice(world: World) -> None:
    user = world.users.add(phone="+15550100")
    world.faults.fail("deliveries.record", error=ConnectionError("cassandra blinked"))
    world.notifier.handle(_event(user.id))
    assert len(world.sms.sent) == 1
    assert len(world.inbox.entries) == 1


def test_past_the_users_allowance_channel_messages_are_dropped_but_the_inbox_is_not(world: World) -> None:

    allowance: dict[uuid.UUID, int] = {}

    def allow(user_id: uuid.UUID) -> bool:
        allowance[user_id] = allowance.get(user_id, 0) + 1
        return allowance[user_id] <= 2

    notifier = world.notifier_with(allow)
    user = world.users.add(email="ann@example.com", phone="+15550100")
    events = [_event(user.id, status) for status in ("CREATED", "CANCELLED", "CREATED", "CANCELLED")]
    for event in events:
        notifier.handle(event)
    assert len(world.inbox.entries) == 4
    assert len(world.sms.sent) == len(world.email.sent) == 2
    # A dropped message is not retried by a redelivery.
    notifier.handle(events[-1])
    assert len(world.sms.sent) == 2
