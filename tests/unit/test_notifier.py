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


def test_a_failing_inbox_write_releases_the_claim_so_the_redelivery_is_handled(world: World) -> None:
    user = world.users.add()
    event = _event(user.id)
    world.faults.fail("inbox.add")
    with pytest.raises(CassandraUnavailable):
        world.notifier.handle(event)
    assert event.id not in world.claims.claimed
    world.faults.clear()
    world.notifier.handle(event)
    assert len(world.inbox.entries) == 1


def test_a_failing_claim_raises_for_redelivery_and_writes_nothing(world: World) -> None:
    user = world.users.add()
    world.faults.fail("claims.claim")
    with pytest.raises(CassandraUnavailable):
        world.notifier.handle(_event(user.id))
    assert world.inbox.entries == []


def test_a_failing_channel_does_not_stop_the_others(world: World) -> None:
    user = world.users.add(email="ann@example.com", phone="+15550100")
    world.faults.fail("channel.email", error=ConnectionError("ses is down"))
    world.notifier.handle(_event(user.id))
    assert len(world.inbox.entries) == 1
    assert len(world.sms.sent) == 1


def test_a_failing_user_read_after_the_inbox_raises(world: World) -> None:
    """Today the channels are lost then: the event is claimed, so the redelivery
    skips it (the crash-safety work marks an event handled only after its effects)."""
    user = world.users.add(phone="+15550100")
    event = _event(user.id)
    world.faults.fail("users.get")
    with pytest.raises(CassandraUnavailable):
        world.notifier.handle(event)
    assert len(world.inbox.entries) == 1
    assert world.sms.sent == []
