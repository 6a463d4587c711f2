"""The issue's "bad input and attacks" list, each through API Gateway."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from store.signing_keys import SigningKey
from support import bearer, login, new_user, register, unique_username

ADMIN_ROUTES = [
    ("GET", "/user-api/users"),
    ("GET", "/user-api/users/{id}"),
    ("PUT", "/user-api/users/{id}"),
    ("DELETE", "/user-api/users/{id}"),
]


def _fields(response: httpx.Response) -> set[str]:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    return {detail["field"] for detail in error["details"]}


def _forge(claims: dict[str, Any], key: SigningKey) -> str:
    """A token signed with the stack's real current key."""
    return jwt.encode(claims, key.key, "HS256", headers={"kid": key.kid})


# -- malformed input -> 422 naming the field -----------------------------------


@pytest.mark.parametrize("path", ["/user-api/register", "/user-api/login"])
def test_malformed_json_is_422(api: httpx.Client, path: str) -> None:
    response = api.post(path, content=b'{"username": "x", ', headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"username", "password"}),
        ({"username": "someone"}, {"password"}),
        ({"password": "long-enough"}, {"username"}),
    ],
)
def test_missing_fields_are_named(api: httpx.Client, body: dict[str, Any], fields: set[str]) -> None:
    assert _fields(api.post("/user-api/register", json=body)) == fields
    assert _fields(api.post("/user-api/login", json=body)) == fields


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"username": "u" * 33}, "username"),
        ({"password": "p" * 129}, "password"),
        ({"full_name": "n" * 101}, "full_name"),
        ({"email": "e" * 250 + "@x.io"}, "email"),
        ({"phone": "1" * 33}, "phone"),
    ],
)
def test_over_long_fields_are_422(api: httpx.Client, extra: dict[str, str], field: str) -> None:
    body = {"username": unique_username(), "password": "long-enough", **extra}
    assert _fields(api.post("/user-api/register", json=body)) == {field}


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"username": 12345}, "username"),
        ({"password": ["a", "list"]}, "password"),
        ({"email": 42}, "email"),
        ({"full_name": {"an": "object"}}, "full_name"),
    ],
)
def test_wrong_types_are_422(api: httpx.Client, extra: dict[str, Any], field: str) -> None:
    body = {"username": unique_username(), "password": "long-enough", **extra}
    assert _fields(api.post("/user-api/register", json=body)) == {field}


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"username": "ab"}, "username"),
        ({"username": "has space"}, "username"),
        ({"username": "semi;colon"}, "username"),
        ({"username": "ünïcode"}, "username"),
        ({"password": "short"}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "call me"}, "phone"),
    ],
)
def test_invalid_values_are_422(api: httpx.Client, extra: dict[str, Any], field: str) -> None:
    body = {"username": unique_username(), "password": "long-enough", **extra}
    assert _fields(api.post("/user-api/register", json=body)) == {field}


def test_nobody_registers_themself_as_admin(api: httpx.Client) -> None:
    body = {"username": unique_username(), "password": "long-enough", "role": "admin"}
    assert _fields(api.post("/user-api/register", json=body)) == {"role"}
    # And the seeds' shortcuts do not exist: an admin_ name and an admin header give a user.
    user = api.post(
        "/user-api/register",
        json={"username": unique_username("admin"), "password": "long-enough"},
        headers={"admin": "true"},
    ).json()
    assert user["role"] == "user"


def test_body_over_the_limit_is_413(api: httpx.Client) -> None:
    body = json.dumps({"username": unique_username(), "password": "x" * (1024 * 1024 + 1)})
    response = api.post("/user-api/register", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_login_with_another_content_type_is_415(api: httpx.Client) -> None:
    response = api.post("/user-api/login", content=b"username=a", headers={"content-type": "text/plain"})
    assert response.status_code == 415


# -- duplicates and credentials ---------------------------------------------------


def test_duplicate_username_is_409_whatever_the_case(api: httpx.Client) -> None:
    username = unique_username()
    register(api, username)
    for name in (username, username.upper()):
        response = api.post("/user-api/register", json={"username": name, "password": "long-enough"})
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "conflict"


def test_wrong_password_and_unknown_user_get_the_same_401(api: httpx.Client) -> None:
    user = register(api)
    wrong_password = login(api, user["username"], "not-the-password")
    unknown_user = login(api, unique_username(), "not-the-password")
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json() == unknown_user.json()
    assert wrong_password.json()["error"]["message"] == "invalid username or password"


# -- tokens -----------------------------------------------------------------------


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(user_id: str, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "sub": user_id,
        "role": "user",
        "iat": now,
        "exp": now + timedelta(minutes=10),
        "jti": str(uuid.uuid4()),
        "iss": "product-store",
        "aud": "product-store-api",
        **overrides,
    }


def _assert_401(api: httpx.Client, token: str) -> None:
    response = api.get("/user-api/me", headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_correctly_forged_token_works_so_the_negative_cases_below_mean_something(
    api: httpx.Client, jwt_secret: SigningKey
) -> None:
    user, _ = new_user(api)
    token = _forge(_claims(user["id"]), jwt_secret)
    assert api.get("/user-api/me", headers=bearer(token)).json()["id"] == user["id"]


def test_expired_token_is_401(api: httpx.Client, jwt_secret: SigningKey) -> None:
    user, _ = new_user(api)
    past = datetime.now(UTC) - timedelta(hours=1)
    token = jwt.encode(
        _claims(user["id"], iat=past, exp=past + timedelta(minutes=30)),
        jwt_secret.key,
        "HS256",
        headers={"kid": jwt_secret.kid},
    )
    _assert_401(api, token)


def test_token_signed_with_another_key_is_401(api: httpx.Client) -> None:
    user, _ = new_user(api)
    _assert_401(api, jwt.encode(_claims(user["id"]), "some-other-key-of-a-decent-length-0123456789", "HS256"))


def test_alg_none_token_is_401(api: httpx.Client) -> None:
    user, _ = new_user(api)
    claims = _claims(user["id"], iat=int(datetime.now(UTC).timestamp()), exp=4102444800)
    _assert_401(api, f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.")


def test_tampered_claims_are_401(api: httpx.Client) -> None:
    _user, token = new_user(api)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    _assert_401(api, f"{header}.{_b64(claims)}.{signature}")
    claims["role"], claims["sub"] = "user", str(uuid.uuid4())
    _assert_401(api, f"{header}.{_b64(claims)}.{signature}")


@pytest.mark.parametrize(("claim", "value"), [("iss", "someone-else"), ("aud", "another-api")])
def test_wrong_issuer_or_audience_is_401(api: httpx.Client, jwt_secret: SigningKey, claim: str, value: str) -> None:
    user, _ = new_user(api)
    _assert_401(api, _forge(_claims(user["id"], **{claim: value}), jwt_secret))


def test_token_of_a_user_that_never_existed_is_401(api: httpx.Client, jwt_secret: SigningKey) -> None:
    _assert_401(
        api,
        _forge(_claims(str(uuid.uuid4()), role="admin"), jwt_secret),
    )


def test_revoked_token_is_401(api: httpx.Client) -> None:
    _, token = new_user(api)
    assert api.post("/user-api/logout", headers=bearer(token)).status_code == 204
    _assert_401(api, token)


def test_deleted_users_token_is_401(api: httpx.Client, admin_token: str) -> None:
    user, token = new_user(api)
    assert api.delete(f"/user-api/users/{user['id']}", headers=bearer(admin_token)).status_code == 204
    _assert_401(api, token)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic dXNlcjpwYXNz"}])
def test_missing_token_is_401(api: httpx.Client, headers: dict[str, str]) -> None:
    response = api.get("/user-api/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_user_token_on_admin_routes_is_403(api: httpx.Client, method: str, path: str) -> None:
    user, token = new_user(api)
    response = api.request(
        method,
        path.format(id=user["id"]),
        headers=bearer(token),
        json={"role": "admin"} if method == "PUT" else None,
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_admin_routes_without_a_token_are_401(api: httpx.Client, method: str, path: str) -> None:
    response = api.request(method, path.format(id=uuid.uuid4()))
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/user-api/users?limit=0", "limit"),
        ("/user-api/users?limit=101", "limit"),
        ("/user-api/users/not-a-uuid", "user_id"),
    ],
)
def test_bad_admin_parameters_are_422(api: httpx.Client, admin_token: str, path: str, field: str) -> None:
    response = api.get(path, headers=bearer(admin_token))
    assert response.status_code == 422, response.text
    assert any(detail["field"].endswith(field) for detail in response.json()["error"]["details"])


@pytest.mark.parametrize("cursor", ["not-a-cursor", "eyJ1Ijoibm90LWEtdXVpZCJ9", "W10"])
def test_a_tampered_users_cursor_is_400(api: httpx.Client, admin_token: str, cursor: str) -> None:
    response = api.get("/user-api/users", params={"cursor": cursor}, headers=bearer(admin_token))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"] == {"parameter": "cursor"}
