"""Users through API Gateway: register, log in and out, one's profile, admin management."""

from __future__ import annotations

import uuid

import httpx

from support import bearer, login, new_user, register, token_for, unique_username

PUBLIC_FIELDS = {"id", "username", "email", "full_name", "phone", "language", "role", "created_at"}


def test_register_returns_the_public_user_only(api: httpx.Client) -> None:
    username = unique_username()
    user = register(api, username, "s3cret-password", email="ann@example.com", full_name="Ann Lee", phone="+1 555 0100")
    assert set(user) == PUBLIC_FIELDS
    assert user["username"] == username
    assert user["role"] == "user"
    assert user["email"] == "ann@example.com"
    assert user["full_name"] == "Ann Lee"
    assert user["phone"] == "+1 555 0100"
    uuid.UUID(user["id"])
    assert "s3cret-password" not in str(user)


def test_login_with_json_and_with_the_oauth2_form(api: httpx.Client) -> None:
    user = register(api, password="form-and-json")
    for response in (
        login(api, user["username"], "form-and-json"),
        api.post(
            "/user-api/login",
            data={"grant_type": "password", "username": user["username"], "password": "form-and-json"},
        ),
    ):
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"access_token", "token_type", "expires_in"}
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 30 * 60
        me = api.get("/user-api/me", headers=bearer(body["access_token"]))
        assert me.status_code == 200
        assert me.json()["id"] == user["id"]


def test_demo_accounts_exist_with_their_roles_names_and_phones(api: httpx.Client) -> None:
    """The seeds' demo users, full names and phones included."""
    for username, password, role, full_name, phone in (
        ("swagger_user", "password123", "user", "Swagger Regular User", "+7 (999) 123-45-67"),
        ("swagger_admin", "admin123", "admin", "Swagger Admin User", "+7 (999) 987-65-43"),
    ):
        me = api.get("/user-api/me", headers=bearer(token_for(api, username, password)))
        assert me.status_code == 200
        assert (me.json()["role"], me.json()["full_name"], me.json()["phone"]) == (role, full_name, phone)


def test_update_me_changes_only_the_fields_sent(api: httpx.Client) -> None:
    _user, token = new_user(api)
    response = api.put(
        "/user-api/me", json={"full_name": "New Name", "phone": "+44 20 7946 0000"}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "New Name"
    assert response.json()["phone"] == "+44 20 7946 0000"
    assert response.json()["email"] is None
    assert api.get("/user-api/me", headers=bearer(token)).json()["full_name"] == "New Name"

    cleared = api.put("/user-api/me", json={"phone": None}, headers=bearer(token)).json()
    assert cleared["phone"] is None
    assert cleared["full_name"] == "New Name"


def test_password_change_needs_the_current_password(api: httpx.Client) -> None:
    user, token = new_user(api, password="old-password")
    missing = api.put("/user-api/me", json={"password": "new-password"}, headers=bearer(token))
    assert missing.status_code == 422
    assert {d["field"] for d in missing.json()["error"]["details"]} == {"current_password"}

    wrong = api.put(
        "/user-api/me", json={"password": "new-password", "current_password": "not-it!!"}, headers=bearer(token)
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"]["details"] == [{"field": "current_password"}]

    changed = api.put(
        "/user-api/me", json={"password": "new-password", "current_password": "old-password"}, headers=bearer(token)
    )
    assert changed.status_code == 200, changed.text
    assert login(api, user["username"], "old-password").status_code == 401
    assert login(api, user["username"], "new-password").status_code == 200


def test_logout_revokes_only_the_presented_token(api: httpx.Client) -> None:
    user, token = new_user(api)
    other = token_for(api, user["username"], "a-good-password")
    assert api.post("/user-api/logout", headers=bearer(token)).status_code == 204
    revoked = api.get("/user-api/me", headers=bearer(token))
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "unauthorized"
    assert api.post("/user-api/logout", headers=bearer(token)).status_code == 401
    assert api.get("/user-api/me", headers=bearer(other)).status_code == 200


def test_admin_lists_users_page_by_page(api: httpx.Client, admin_token: str) -> None:
    mine = {register(api)["id"] for _ in range(3)}
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = api.get("/user-api/users", params=params, headers=bearer(admin_token))
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        assert all(set(item) == PUBLIC_FIELDS for item in page["items"])
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))  # no user twice
    assert mine <= set(seen)  # and nobody missed


def test_admin_reads_and_updates_a_user(api: httpx.Client, admin_token: str) -> None:
    user, _ = new_user(api)
    read = api.get(f"/user-api/users/{user['id']}", headers=bearer(admin_token))
    assert read.status_code == 200
    assert read.json() == user
    updated = api.put(f"/user-api/users/{user['id']}", json={"full_name": "Set By Admin"}, headers=bearer(admin_token))
    assert updated.status_code == 200
    assert updated.json()["full_name"] == "Set By Admin"
    assert updated.json()["role"] == "user"
    missing = api.get(f"/user-api/users/{uuid.uuid4()}", headers=bearer(admin_token))
    assert missing.status_code == 404


def test_admin_changes_a_role_and_it_applies_at_once(api: httpx.Client, admin_token: str) -> None:
    user, token = new_user(api)
    assert api.get("/user-api/users", headers=bearer(token)).status_code == 403

    promoted = api.put(f"/user-api/users/{user['id']}", json={"role": "admin"}, headers=bearer(admin_token))
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "admin"
    # A role change ends the user's earlier tokens (token version); a new one has the role...
    assert api.get("/user-api/users", headers=bearer(token)).status_code == 401
    token = token_for(api, user["username"], "a-good-password")
    assert api.get("/user-api/users", headers=bearer(token)).status_code == 200
    assert api.get("/user-api/me", headers=bearer(token)).json()["role"] == "admin"

    demoted = api.put(f"/user-api/users/{user['id']}", json={"role": "user"}, headers=bearer(admin_token))
    assert demoted.json()["role"] == "user"
    # ...and a demoted admin loses the admin routes at once.
    assert api.get("/user-api/users", headers=bearer(token)).status_code == 401
    token = token_for(api, user["username"], "a-good-password")
    assert api.get("/user-api/users", headers=bearer(token)).status_code == 403


def test_admin_cannot_demote_or_delete_themself(api: httpx.Client, admin_token: str) -> None:
    me = api.get("/user-api/me", headers=bearer(admin_token)).json()
    demote = api.put(f"/user-api/users/{me['id']}", json={"role": "user"}, headers=bearer(admin_token))
    assert demote.status_code == 409
    assert api.delete(f"/user-api/users/{me['id']}", headers=bearer(admin_token)).status_code == 409
    assert api.get("/user-api/me", headers=bearer(admin_token)).json()["role"] == "admin"


def test_deleted_user_is_gone_and_their_token_is_401(api: httpx.Client, admin_token: str) -> None:
    user, token = new_user(api)
    assert api.delete(f"/user-api/users/{user['id']}", headers=bearer(admin_token)).status_code == 204
    assert api.get(f"/user-api/users/{user['id']}", headers=bearer(admin_token)).status_code == 404
    assert api.delete(f"/user-api/users/{user['id']}", headers=bearer(admin_token)).status_code == 404
    assert api.get("/user-api/me", headers=bearer(token)).status_code == 401
    assert login(api, user["username"], "a-good-password").status_code == 401
    # The name is free again.
    assert register(api, user["username"])["id"] != user["id"]
