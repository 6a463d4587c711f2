"""Per-user token versions (issue 14): a password change, a role change and
logout-all revoke every token issued before, on every device."""

from __future__ import annotations

import httpx

from support import bearer, login, new_user, token_for


def _me(api: httpx.Client, token: str) -> int:
    return api.get("/user-api/me", headers=bearer(token)).status_code


def test_a_password_change_revokes_every_earlier_token(api: httpx.Client) -> None:
    user, phone = new_user(api, password="the-old-password")
    laptop = token_for(api, user["username"], "the-old-password")
    body = {"password": "the-new-password", "current_password": "the-old-password"}
    assert api.put("/user-api/me", json=body, headers=bearer(laptop)).status_code == 200
    assert _me(api, phone) == 401
    assert _me(api, laptop) == 401
    assert login(api, user["username"], "the-old-password").status_code == 401
    assert _me(api, token_for(api, user["username"], "the-new-password")) == 200


def test_a_role_change_revokes_the_users_tokens(api: httpx.Client, admin_token: str) -> None:
    user, token = new_user(api)
    promoted = api.put(f"/user-api/users/{user['id']}", json={"role": "admin"}, headers=bearer(admin_token))
    assert promoted.status_code == 200, promoted.text
    assert _me(api, token) == 401
    admin_now = token_for(api, user["username"], "a-good-password")
    assert api.get("/user-api/users", headers=bearer(admin_now)).status_code == 200
    demoted = api.put(f"/user-api/users/{user['id']}", json={"role": "user"}, headers=bearer(admin_token))
    assert demoted.status_code == 200
    assert _me(api, admin_now) == 401
    # Changing other fields keeps the tokens.
    fresh = token_for(api, user["username"], "a-good-password")
    renamed = api.put(f"/user-api/users/{user['id']}", json={"full_name": "Ann"}, headers=bearer(admin_token))
    assert renamed.status_code == 200
    assert _me(api, fresh) == 200


def test_logout_all_revokes_every_device(api: httpx.Client) -> None:
    user, first = new_user(api)
    second = token_for(api, user["username"], "a-good-password")
    assert _me(api, first) == 200
    assert _me(api, second) == 200
    assert api.post("/user-api/logout-all", headers=bearer(second)).status_code == 204
    assert _me(api, first) == 401
    assert _me(api, second) == 401
    assert api.post("/user-api/logout-all", headers=bearer(second)).status_code == 401
    # Logging in again works, and other users are untouched.
    assert _me(api, token_for(api, user["username"], "a-good-password")) == 200
    other, token = new_user(api)
    assert _me(api, token) == 200
    assert other["id"] != user["id"]
