"""Notifications per user, through the deployed stack: the user's language, the
templates an admin changes, an admin's message, the delivery history, and the
admin's view of one user's profile (issue 16)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support import add_to_cart, bearer, checkout, create_product, eventually, register, token_for


def _user(api: httpx.Client, **extra: Any) -> tuple[dict[str, Any], str]:
    user = register(api, **extra)
    return user, token_for(api, user["username"], "a-good-password")


def _phone() -> str:
    return f"+1555{uuid.uuid4().int % 10**7:07d}"


def _inbox(api: httpx.Client, token: str) -> list[str]:
    response = api.get("/user-api/me/notifications", headers=bearer(token))
    assert response.status_code == 200, response.text
    return [item["message"] for item in response.json()["items"]]


def test_the_language_is_set_at_registration_and_by_put_me(api: httpx.Client) -> None:
    user, token = _user(api, language="ru")
    assert user["language"] == "ru"
    changed = api.put("/user-api/me", json={"language": "en"}, headers=bearer(token))
    assert changed.status_code == 200, changed.text
    assert api.get("/user-api/me", headers=bearer(token)).json()["language"] == "en"
    refused = api.put("/user-api/me", json={"language": "de"}, headers=bearer(token))
    assert refused.status_code == 422
    assert "language" in refused.text
    assert (
        api.post(
            "/user-api/register",
            json={"username": f"l{uuid.uuid4().hex[:8]}", "password": "a-good-password", "language": "fr"},
        ).status_code
        == 422
    )


def test_order_events_reach_each_user_in_their_own_language(api: httpx.Client, admin_token: str) -> None:
    _, russian = _user(api, language="ru")
    _, english = _user(api)
    product = create_product(api, admin_token, price="2.00")
    orders = {}
    for token in (russian, english):
        assert add_to_cart(api, token, product["id"]).status_code == 201
        response = checkout(api, token)
        assert response.status_code == 201, response.text
        orders[token] = response.json()["id"]

    def created(token: str, text: str) -> bool:
        return text in _inbox(api, token)

    eventually(lambda: created(russian, f"Ваш заказ {orders[russian]} создан."), timeout=60, what="the Russian message")
    eventually(
        lambda: created(english, f"Your order {orders[english]} has been created."), timeout=60, what="the English one"
    )


@pytest.fixture
def russian_created_template(api: httpx.Client, admin_token: str) -> Iterator[str]:
    """The ru OrderCreated template changed for one test, then back to the default."""
    path = "/user-api/notifications/templates/OrderCreated/ru"
    response = api.put(path, json={"body": "Заказ {order_id} принят!"}, headers=bearer(admin_token))
    assert response.status_code == 200, response.text
    try:
        yield path
    finally:
        assert api.delete(path, headers=bearer(admin_token)).status_code == 200


def test_templates_are_listed_read_changed_and_reset(
    api: httpx.Client, admin_token: str, russian_created_template: str
) -> None:
    listed = api.get("/user-api/notifications/templates", headers=bearer(admin_token))
    assert listed.status_code == 200, listed.text
    templates = {(t["event_type"], t["language"]): t for t in listed.json()["items"]}
    assert len(templates) == 6
    assert templates[("OrderCreated", "ru")]["body"] == "Заказ {order_id} принят!"
    assert templates[("OrderCreated", "ru")]["is_default"] is False
    assert templates[("OrderStatusChanged", "en")]["body"] == "Your order {order_id} changed status to: {status}"
    assert templates[("OrderStatusChanged", "en")]["placeholders"] == ["order_id", "status"]

    # The consumer renders with the changed template.
    _, token = _user(api, language="ru")
    product = create_product(api, admin_token, price="2.00")
    assert add_to_cart(api, token, product["id"]).status_code == 201
    order_id = checkout(api, token).json()["id"]
    eventually(lambda: f"Заказ {order_id} принят!" in _inbox(api, token), timeout=60, what="the changed template")

    reset = api.delete(russian_created_template, headers=bearer(admin_token))
    assert reset.status_code == 200
    assert reset.json()["body"] == "Ваш заказ {order_id} создан."
    assert reset.json()["is_default"] is True


def test_a_bad_template_is_a_400_naming_the_placeholder(api: httpx.Client, admin_token: str) -> None:
    path = "/user-api/notifications/templates/OrderStatusChanged/en"
    response = api.put(path, json={"body": "Order {order} is {status}"}, headers=bearer(admin_token))
    assert response.status_code == 400
    error = response.json()["error"]
    assert "unknown placeholder {order}" in error["message"]
    assert "missing placeholder {order_id}" in error["message"]
    assert api.put(path, json={"body": "{order_id.__class__} {status}"}, headers=bearer(admin_token)).status_code == 400
    assert api.get("/user-api/notifications/templates/Nope/en", headers=bearer(admin_token)).status_code == 422
    _, token = _user(api)
    assert api.put(path, json={"body": "{order_id} {status}"}, headers=bearer(token)).status_code == 403
    # Unchanged by all of the above.
    assert api.get(path, headers=bearer(admin_token)).json()["is_default"] is True


def test_an_admin_sends_a_notification_and_reads_the_history(api: httpx.Client, admin_token: str) -> None:
    phone = _phone()
    user, token = _user(api, phone=phone, language="ru")
    sent = api.post(
        "/user-api/notifications",
        json={"user_id": user["id"], "fields": {"text": "Скидка 10% на чай"}},
        headers=bearer(admin_token),
    )
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert body["outcomes"] == {"inbox": "sent", "sms": "sent"}
    assert body["language"] == "ru"
    assert "Скидка 10% на чай" in _inbox(api, token)
    profile = api.get("/user-api/me/profile", headers=bearer(token)).json()
    assert profile["notifications"][0]["message"] == "Скидка 10% на чай"
    assert profile["notifications"][0]["order_id"] is None

    history = api.get("/user-api/notifications", params={"user_id": user["id"]}, headers=bearer(admin_token))
    assert history.status_code == 200, history.text
    assert sorted(item["channel"] for item in history.json()["items"]) == ["inbox", "sms"]
    only_sms = api.get(
        "/user-api/notifications", params={"user_id": user["id"], "channel": "sms"}, headers=bearer(admin_token)
    ).json()["items"]
    assert [(item["channel"], item["outcome"], item["message"]) for item in only_sms] == [
        ("sms", "sent", "Скидка 10% на чай")
    ]
    failed = api.get(
        "/user-api/notifications", params={"user_id": user["id"], "outcome": "failed"}, headers=bearer(admin_token)
    )
    assert failed.json()["items"] == []

    # Paged, across everyone's history of the day.
    first = api.get("/user-api/notifications", params={"limit": 1}, headers=bearer(admin_token)).json()
    assert len(first["items"]) == 1
    assert first["next_cursor"] is not None
    second = api.get(
        "/user-api/notifications", params={"limit": 1, "cursor": first["next_cursor"]}, headers=bearer(admin_token)
    ).json()
    assert second["items"][0]["at"] <= first["items"][0]["at"]
    assert second["items"] != first["items"]
    assert api.get("/user-api/notifications", params={"cursor": "nope"}, headers=bearer(admin_token)).status_code == 400


def test_sending_is_validated_and_for_admins_only(api: httpx.Client, admin_token: str) -> None:
    user, token = _user(api)
    wrong = api.post(
        "/user-api/notifications", json={"user_id": user["id"], "fields": {"txt": "hi"}}, headers=bearer(admin_token)
    )
    assert wrong.status_code == 400
    assert "unknown field 'txt'; missing field 'text'" in wrong.json()["error"]["message"]
    unknown = api.post(
        "/user-api/notifications",
        json={"user_id": str(uuid.uuid4()), "fields": {"text": "hi"}},
        headers=bearer(admin_token),
    )
    assert unknown.status_code == 404
    as_user = api.post(
        "/user-api/notifications", json={"user_id": user["id"], "fields": {"text": "hi"}}, headers=bearer(token)
    )
    assert as_user.status_code == 403
    assert api.get("/user-api/notifications", headers=bearer(token)).status_code == 403


def test_an_admin_reads_one_users_whole_profile(api: httpx.Client, admin_token: str) -> None:
    user, token = _user(api)
    product = create_product(api, admin_token, price="4.00")
    assert add_to_cart(api, token, product["id"], 2).status_code == 201
    order = checkout(api, token).json()
    assert add_to_cart(api, token, product["id"], 1).status_code == 201
    created = f"Your order {order['id']} has been created."
    eventually(lambda: created in _inbox(api, token), timeout=60, what="the order's notification")

    response = api.get(f"/user-api/users/{user['id']}/profile", headers=bearer(admin_token))
    assert response.status_code == 200, response.text
    profile = response.json()
    assert profile["user"]["id"] == user["id"]
    assert profile["unavailable"] == []
    assert [item["quantity"] for item in profile["cart"]["items"]] == [1]
    assert [o["id"] for o in profile["orders"]] == [order["id"]]
    assert profile["statistics"]["total_orders"] == 1
    assert created in [n["message"] for n in profile["notifications"]]

    assert api.get(f"/user-api/users/{user['id']}/profile", headers=bearer(token)).status_code == 403
    missing = api.get(f"/user-api/users/{uuid.uuid4()}/profile", headers=bearer(admin_token))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
