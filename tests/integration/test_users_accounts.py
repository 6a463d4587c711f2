"""Accounts created at deploy: the bootstrap admin from configuration, the demo accounts."""

from __future__ import annotations

import httpx
import pytest

from storectl import deploy
from support import LocalStack, bearer, token_for, unique_username


def test_bootstrap_admin_is_created_once_from_configuration(
    local_stack: LocalStack, api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    username = unique_username("root")
    monkeypatch.setenv("BOOTSTRAP_ADMIN_USERNAME", username)
    monkeypatch.setenv("BOOTSTRAP_ADMIN_PASSWORD", "bootstrap-password")
    assert deploy.seed_accounts(local_stack.instance, demo=False) == [username]
    assert deploy.seed_accounts(local_stack.instance, demo=False) == []  # idempotent
    token = token_for(api, username, "bootstrap-password")
    assert api.get("/user-api/me", headers=bearer(token)).json()["role"] == "admin"
    assert api.get("/user-api/users", headers=bearer(token)).status_code == 200


def test_without_configuration_no_admin_is_created(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOOTSTRAP_ADMIN_USERNAME", raising=False)
    monkeypatch.delenv("BOOTSTRAP_ADMIN_PASSWORD", raising=False)
    assert deploy.seed_accounts(local_stack.instance, demo=False) == []


def test_demo_accounts_are_created_idempotently(local_stack: LocalStack, api: httpx.Client) -> None:
    # `stack.up` created them already; a second run changes nothing.
    assert deploy.seed_accounts(local_stack.instance, demo=True) == []
    assert token_for(api, "swagger_user", "password123")
