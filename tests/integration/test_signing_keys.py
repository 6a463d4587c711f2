"""The token signing key lives only in Secrets Manager (issue 14): no function's
configuration holds it, it can be rotated with tokens of the old key working
until they expire, and a key whose window has passed is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from typer.testing import CliRunner

from store.signing_keys import KeyRing, SigningKey, parse_keyring
from storectl.cli import app
from storectl.keys import jwt_lifetime, rotate_jwt_key
from support import LocalStack, bearer, eventually, new_user, token_for

HTTP_FUNCTIONS = ("CatalogFunctionName", "CartFunctionName", "OrdersFunctionName", "UsersFunctionName")
# One authenticated route of each HTTP function: a token must work on all four.
AUTHENTICATED = ("/user-api/me", "/cart-api/cart", "/order-api/orders", "/user-api/me/profile")


def _ring(local_stack: LocalStack) -> KeyRing:
    secrets = local_stack.client("secretsmanager")
    return parse_keyring(secrets.get_secret_value(SecretId=local_stack.outputs["JwtSecretArn"])["SecretString"])


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def _statuses(api: httpx.Client, token: str) -> set[int]:
    return {api.get(path, headers=bearer(token)).status_code for path in AUTHENTICATED}


def test_no_function_configuration_contains_key_material(local_stack: LocalStack) -> None:
    lambdas = local_stack.client("lambda")
    ring = _ring(local_stack)
    names = [
        function["FunctionName"]
        for page in lambdas.get_paginator("list_functions").paginate()
        for function in page["Functions"]
    ]
    ours = [name for name in names if name in set(local_stack.outputs.values())]
    assert len(ours) == 8, names
    for name in ours:
        configuration: dict[str, Any] = lambdas.get_function_configuration(FunctionName=name)
        text = json.dumps(configuration, default=str)
        for key in ring.keys:
            assert key.key not in text, f"{name} holds key material"
        variables = configuration.get("Environment", {}).get("Variables", {})
        assert "JWT_SECRET" not in variables
    for output in HTTP_FUNCTIONS:
        variables = lambdas.get_function_configuration(FunctionName=local_stack.outputs[output])["Environment"][
            "Variables"
        ]
        assert variables["JWT_SECRET_ARN"] == local_stack.outputs["JwtSecretArn"]


@pytest.mark.runs_last
def test_tokens_survive_a_rotation_and_a_retired_key_ends_with_its_window(
    api: httpx.Client, local_stack: LocalStack
) -> None:
    user, before = new_user(api)
    old_kid = _kid(before)
    assert _statuses(api, before) == {200}

    ring = rotate_jwt_key(local_stack.instance)
    assert ring.current.kid != old_kid
    assert [key.kid for key in ring.keys[1:]] == [old_kid]
    # The token of the old key keeps working everywhere...
    assert _statuses(api, before) == {200}

    # ...and new tokens are signed with the new key once the users function's
    # cache (2 s on the test stack) has expired, and every function accepts them.
    def new_key_token() -> str | None:
        token = token_for(api, user["username"], "a-good-password")
        return token if _kid(token) == ring.current.kid else None

    after = eventually(new_key_token, timeout=30, what="a token signed with the new key")
    assert _statuses(api, after) == {200}
    assert _statuses(api, before) == {200}

    # Time passes: the old key was retired longer ago than a token lives.
    lifetime = jwt_lifetime(local_stack.instance)
    old = next(key for key in ring.keys if key.kid == old_kid)
    expired = KeyRing((ring.current, SigningKey(old.kid, old.key, datetime.now(UTC) - lifetime - timedelta(seconds=1))))
    local_stack.client("secretsmanager").put_secret_value(
        SecretId=local_stack.outputs["JwtSecretArn"], SecretString=expired.to_json()
    )
    eventually(lambda: _statuses(api, before) == {401}, timeout=30, what="the retired key's token to be refused")
    assert _statuses(api, after) == {200}


@pytest.mark.runs_last
def test_storectl_rotate_jwt_key_rotates_and_old_tokens_keep_working(
    api: httpx.Client, local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = local_stack.instance
    for name, value in {
        "STORE_EMULATOR_PORT": str(instance.emulator_port),
        "STORE_STACK_NAME": instance.stack_name,
        "STORE_STATE_DIR": str(instance.state_dir),
    }.items():
        monkeypatch.setenv(name, value)
    _, token = new_user(api)
    before = _ring(local_stack)
    result = CliRunner().invoke(app, ["rotate-jwt-key"])
    assert result.exit_code == 0, result.output
    after = _ring(local_stack)
    assert after.current.kid != before.current.kid
    assert after.current.kid in result.output
    retired = {key.kid: key for key in after.keys[1:]}
    assert retired[before.current.kid].retired_at is not None
    assert _statuses(api, token) == {200}
