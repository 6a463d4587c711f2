"""Status notifications also go out by email (SES) and SMS (SNS) to users who
have an address; read back from the emulator's sent-message views."""

from __future__ import annotations

import uuid

import httpx
import pytest

from storectl.emulator import is_bundled
from support import LocalStack, add_to_cart, bearer, checkout, create_product, eventually, register, token_for


def test_a_status_change_is_emailed_and_texted(api: httpx.Client, admin_token: str, local_stack: LocalStack) -> None:
    if not is_bundled(local_stack.instance):
        pytest.skip(
            f"reads the bundled emulator's sent-message views (/_ministack/ses, /_ministack/sns), which the "
            f"emulator at {local_stack.instance.endpoint_url} (STORE_TEST_EMULATOR_URL) does not serve"
        )
    email = f"buyer-{uuid.uuid4().hex[:8]}@example.org"
    phone = f"+1555{uuid.uuid4().int % 10**7:07d}"
    user = register(api, email=email, phone=phone)
    token = token_for(api, user["username"], "a-good-password")
    product = create_product(api, admin_token, price="3.13")  # declined: one quick status change
    assert add_to_cart(api, token, product["id"]).status_code == 201
    order = checkout(api, token).json()
    expected = f"Your order {order['id']} changed status to: CANCELLED"
    base = local_stack.instance.endpoint_url

    def emailed() -> bool:
        text = httpx.get(f"{base}/_ministack/ses/messages", timeout=10).text
        return email in text and expected in text

    def texted() -> bool:
        response = httpx.get(f"{base}/_ministack/sns/sms-messages", params={"phoneNumber": phone}, timeout=10)
        return expected in response.text

    eventually(emailed, timeout=60, what="the email")
    eventually(texted, timeout=30, what="the SMS")
    assert api.get("/user-api/me/notifications", headers=bearer(token)).status_code == 200
