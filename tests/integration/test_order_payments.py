"""GET /order-api/orders/{id}/payment and the payment summary on orders, through
the deployed stack: the simulated provider declines totals ending in .13."""

from __future__ import annotations

from typing import Any

import httpx

from support import add_to_cart, bearer, checkout, create_product, eventually, new_user


def _order(api: httpx.Client, admin_token: str, token: str, price: str) -> dict[str, Any]:
    product = create_product(api, admin_token, price=price, quantity=10)
    assert add_to_cart(api, token, product["id"], 1).status_code == 201
    response = checkout(api, token)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def _payment_in(api: httpx.Client, token: str, order_id: str, status: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        response = api.get(f"/order-api/orders/{order_id}/payment", headers=bearer(token))
        return response.json() if response.status_code == 200 and response.json()["status"] == status else None

    return eventually(reached, timeout=60, interval=0.2, what=f"payment of {order_id} {status}")


def test_an_authorized_payment_then_refunded_on_cancel(api: httpx.Client, admin_token: str) -> None:
    _, token = new_user(api)
    order = _order(api, admin_token, token, "7.25")
    authorized = _payment_in(api, token, order["id"], "AUTHORIZED")
    assert authorized["amount"] == "7.25"
    assert authorized["refunded_amount"] == "0.00"
    assert authorized["authorized_at"] is not None
    assert authorized["refunded_at"] is None

    summary = api.get(f"/order-api/orders/{order['id']}", headers=bearer(token)).json()["payment"]
    assert summary["status"] == "AUTHORIZED"
    assert summary["amount"] == "7.25"
    listed = api.get("/order-api/orders", headers=bearer(token)).json()["items"]
    assert [item["payment"]["status"] for item in listed if item["id"] == order["id"]] == ["AUTHORIZED"]

    cancelled = api.put(f"/order-api/orders/{order['id']}/cancel", headers=bearer(admin_token))
    assert cancelled.status_code == 200, cancelled.text
    refunded = _payment_in(api, token, order["id"], "REFUNDED")
    assert refunded["refunded_amount"] == "7.25"
    assert refunded["refunded_at"] >= refunded["authorized_at"]


def test_a_declined_payment_shows_its_reason(api: httpx.Client, admin_token: str) -> None:
    _, token = new_user(api)
    order = _order(api, admin_token, token, "10.13")
    declined = _payment_in(api, token, order["id"], "DECLINED")
    assert declined["reason"] == "card declined by the issuer"
    assert declined["declined_at"] is not None
    assert declined["authorized_at"] is None
    # The admin sees it too.
    as_admin = api.get(f"/order-api/orders/{order['id']}/payment", headers=bearer(admin_token))
    assert as_admin.status_code == 200
    assert as_admin.json()["status"] == "DECLINED"


def test_another_users_payment_is_a_404_in_the_one_error_shape(api: httpx.Client, admin_token: str) -> None:
    _, owner = new_user(api)
    _, stranger = new_user(api)
    order = _order(api, admin_token, owner, "3.00")
    response = api.get(f"/order-api/orders/{order['id']}/payment", headers=bearer(stranger))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert api.get(f"/order-api/orders/{order['id']}/payment").status_code == 401
    assert api.get("/order-api/orders/not-a-uuid/payment", headers=bearer(owner)).status_code == 422
