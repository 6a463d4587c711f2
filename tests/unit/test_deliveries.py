"""The delivery history's keys, filters and cursors (the reads are tested
through the deployed stack in tests/integration/test_notifications_admin.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from store.deliveries import DeliveryQuery, _position, delivery_key
from store.errors import BadRequest
from store.paging import encode_cursor

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_a_delivery_key_is_the_same_for_a_redelivery_and_differs_per_channel() -> None:
    notification = uuid.uuid4()
    assert delivery_key(AT, notification, "sms") == delivery_key(AT, notification, "sms")
    assert delivery_key(AT, notification, "sms") != delivery_key(AT, notification, "email")
    assert delivery_key(AT, notification, "sms") != delivery_key(AT, uuid.uuid4(), "sms")
    assert delivery_key(AT, notification, "sms").version == 1


def test_filters_on_channel_and_outcome() -> None:
    row = SimpleNamespace(channel="sms", outcome="failed")
    assert DeliveryQuery().matches(row)
    assert DeliveryQuery(channel="sms", outcome="failed").matches(row)
    assert not DeliveryQuery(channel="email").matches(row)
    assert not DeliveryQuery(outcome="sent").matches(row)


@pytest.mark.parametrize(
    "fields", [{"t": "nope"}, {"t": str(uuid.uuid4())}, {"d": "2026-13-01", "t": str(uuid.uuid1())}, {"x": 1}]
)
def test_a_cursor_this_listing_did_not_make_is_a_400(fields: dict[str, object]) -> None:
    with pytest.raises(BadRequest):
        _position(encode_cursor(fields))


def test_a_cursor_gives_back_its_day_and_key() -> None:
    key = uuid.uuid1()
    assert _position(encode_cursor({"d": "2026-03-01", "t": str(key)})) == (datetime(2026, 3, 1).date(), key)
