"""GET /user-api/audit through the deployed stack: every critical operation
leaves a record, newest first, filtered by actor, action and time, paged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from support import bearer, create_product, new_user


def _audit(api: httpx.Client, token: str, **params: Any) -> httpx.Response:
    return api.get("/user-api/audit", params=params, headers=bearer(token))


def _all_pages(api: httpx.Client, token: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        response = _audit(api, token, **params, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the pages never ended")


def test_critical_operations_are_audited_and_listed_newest_first(api: httpx.Client, admin_token: str) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=2)).isoformat()
    admin = bearer(admin_token)
    product = create_product(api, admin_token, quantity=3)
    pid = product["id"]
    assert api.put(f"/api/products/{pid}", json={"price": "3.10"}, headers=admin).status_code == 200
    assert api.patch(f"/api/products/{pid}/stock", json={"adjust": 4}, headers=admin).status_code == 200
    assert api.delete(f"/api/products/{pid}", headers=admin).status_code == 204
    user, _ = new_user(api)
    uid = user["id"]
    assert api.put(f"/user-api/users/{uid}", json={"role": "admin"}, headers=admin).status_code == 200
    assert api.delete(f"/user-api/users/{uid}", headers=admin).status_code == 204

    entries = [item for item in _all_pages(api, admin_token, since=since) if item["target_id"] in {pid, uid}]
    assert [item["action"] for item in entries] == [
        "user.deleted",
        "user.role_changed",
        "product.deleted",
        "product.stock_changed",
        "product.updated",
        "product.created",
    ]
    assert {item["actor"] for item in entries} == {"swagger_admin"}
    by_action = {item["action"]: item for item in entries}
    assert by_action["product.updated"]["details"] == {"price": {"from": "2.50", "to": "3.10"}}
    assert by_action["product.stock_changed"]["details"] == {"from": 3, "to": 7}
    assert by_action["user.role_changed"]["details"] == {"username": user["username"], "from": "user", "to": "admin"}
    assert by_action["product.created"]["details"]["name"] == product["name"]
    times = [item["at"] for item in entries]
    assert times == sorted(times, reverse=True)

    # Filters: action, actor, time range; paging gives the same as one page.
    created = _all_pages(api, admin_token, since=since, action="product.created")
    assert pid in {item["target_id"] for item in created}
    assert {item["action"] for item in created} == {"product.created"}
    assert _all_pages(api, admin_token, since=since, actor="nobody-at-all") == []
    assert [item["id"] for item in _all_pages(api, admin_token, since=since, actor="swagger_admin", limit=2)] == [
        item["id"] for item in _all_pages(api, admin_token, since=since, actor="swagger_admin", limit=100)
    ]
    before = (datetime.fromisoformat(since) - timedelta(seconds=1)).isoformat()
    earlier = _all_pages(
        api, admin_token, since=(datetime.fromisoformat(since) - timedelta(days=1)).isoformat(), until=before
    )
    assert not {pid, uid} & {item["target_id"] for item in earlier}


def test_audit_is_for_admins_and_validates_its_query(api: httpx.Client, admin_token: str) -> None:
    _, token = new_user(api)
    assert _audit(api, token).status_code == 403
    assert api.get("/user-api/audit").status_code == 401
    now = datetime.now(UTC)
    for since, until in ((now, now - timedelta(hours=1)), (now - timedelta(days=400), now)):
        response = _audit(api, admin_token, since=since.isoformat(), until=until.isoformat())
        assert response.status_code == 400, response.text
        assert response.json()["error"]["details"] == {"parameter": "since"}
    invalid: tuple[dict[str, Any], ...] = (
        {"until": "0.5"},  # not a Unix time: ISO 8601 only
        {"action": "product.stolen"},
        {"limit": 0},
        {"limit": 101},
        {"since": "yesterday"},
    )
    for params in invalid:
        response = _audit(api, admin_token, **params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    bad = _audit(api, admin_token, cursor="not-a-cursor")
    assert bad.status_code == 400
    assert bad.json()["error"]["details"] == {"parameter": "cursor"}
    # A cursor of another filter is refused too.
    page = _audit(api, admin_token, limit=1).json()
    if page["next_cursor"]:
        other = _audit(api, admin_token, limit=1, action="user.deleted", cursor=page["next_cursor"])
        assert other.status_code == 400
