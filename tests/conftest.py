"""Fixtures shared by the integration and end-to-end tests.

`local_stack` brings up a test instance of the whole stack (its own Cassandra
node and emulator, on ports of their own and in a throwaway directory), deploys
the real template to it, and stops everything afterwards. A `make up` stack can
keep running meanwhile: nothing here touches its ports or its data.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from store.signing_keys import SigningKey, parse_keyring
from storectl import stack
from storectl.instance import test_instance
from support import TEST_PARAMETERS, LocalStack, token_for


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    state_dir = Path(tempfile.mkdtemp(prefix="product-store-test-"))
    instance = test_instance(state_dir)
    try:
        result = stack.up(instance, parameters=TEST_PARAMETERS, report=lambda line: None)
        yield LocalStack(instance, result)
    finally:
        stack.down(instance)
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def api(local_stack: LocalStack) -> Iterator[httpx.Client]:
    with local_stack.http() as client:
        yield client


@pytest.fixture(scope="session")
def admin_token(api: httpx.Client) -> str:
    """A token of the demo admin that the local stack creates."""
    return token_for(api, "swagger_admin", "admin123")


@pytest.fixture(scope="session")
def jwt_secret(local_stack: LocalStack) -> SigningKey:
    """The stack's current signing key (id and material), read from the emulator's
    Secrets Manager, to forge tokens that are correctly signed but wrong in some
    other way."""
    text: str = local_stack.client("secretsmanager").get_secret_value(SecretId=local_stack.outputs["JwtSecretArn"])[
        "SecretString"
    ]
    return parse_keyring(text).current


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `runs_last` go to the end, in their order (stable sort)."""
    items.sort(key=lambda item: item.get_closest_marker("runs_last") is not None)
