"""The outbox relay with an in-memory outbox and publisher: the sweep, leases,
and each collaborator failing (nothing lost; a duplicate at worst)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from fakes import World
from store.db import CassandraUnavailable
from store.events import DomainEvent


@pytest.fixture
def world() -> World:
    return World()


def _events(world: World, count: int) -> list[DomainEvent]:
    events = [
        DomainEvent(type="OrderCreated", order_id=uuid.uuid4(), user_id=uuid.uuid4(), occurred_at=world.clock())
        for _ in range(count)
    ]
    for event in events:
        world.outbox.write(event)
    world.faults.calls.clear()
    return events


def test_a_sweep_publishes_every_pending_event_in_order(world: World) -> None:
    events = _events(world, 3)
    assert world.relay.sweep().as_dict() == {"published": 3, "failed": 0, "skipped": 0}
    assert world.publisher.event_ids() == [event.id for event in events]
    assert world.publisher.published[0][0] == "OrderCreated"
    assert world.outbox.rows == {}


def test_an_event_leased_by_another_relay_is_skipped(world: World) -> None:
    [event] = _events(world, 1)
    row = world.outbox.pending()[0]
    assert world.outbox.lease(row, world.clock())  # another relay holds it
    assert world.relay.sweep().as_dict() == {"published": 0, "failed": 0, "skipped": 1}
    assert world.publisher.published == []
    world.clock.now += timedelta(seconds=31)  # its lease runs out
    assert world.relay.sweep().published == 1
    assert world.publisher.event_ids() == [event.id]


def test_sns_down_leaves_the_event_pending_and_free_for_the_next_sweep(world: World) -> None:
    [event] = _events(world, 1)
    world.faults.fail("publisher.publish", error=ConnectionError("sns is down"))
    assert world.relay.sweep().as_dict() == {"published": 0, "failed": 1, "skipped": 0}
    assert world.outbox.rows[event.id].lease_until is None
    world.faults.clear()
    assert world.relay.sweep().published == 1
    assert world.publisher.event_ids() == [event.id]


@pytest.mark.parametrize("call", ["outbox.pending", "outbox.lease"])
def test_a_database_failure_before_publishing_publishes_nothing(world: World, call: str) -> None:
    [event] = _events(world, 1)
    world.faults.fail(call)
    with pytest.raises(CassandraUnavailable):
        world.relay.sweep()
    assert world.publisher.published == []
    world.faults.clear()
    world.relay.sweep()
    assert world.publisher.event_ids() == [event.id]


def test_a_failure_after_publishing_publishes_again_later_never_loses_it(world: World) -> None:
    [event] = _events(world, 1)
    world.faults.fail("outbox.mark_sent")
    with pytest.raises(CassandraUnavailable):
        world.relay.sweep()
    world.faults.clear()
    world.clock.now += timedelta(seconds=31)
    world.relay.sweep()
    # At least once: consumers deduplicate on the event id.
    assert world.publisher.event_ids() == [event.id, event.id]
    assert world.outbox.rows == {}


def test_the_fast_path_never_fails_its_caller(world: World) -> None:
    [event] = _events(world, 1)
    world.faults.fail("outbox.lease")
    world.relay.deliver_soon(event)
    assert event.id in world.outbox.rows
