"""Fixtures shared by the integration and end-to-end tests.

`local_stack` brings up a test instance of the whole stack (its own Cassandra
node and emulator, on ports of their own and in a throwaway directory), deploys
the real template to it, and stops everything afterwards. A `make up` stack can
keep running meanwhile: nothing here touches its ports or its data.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from store.signing_keys import SigningKey, parse_keyring
from storectl import stack
from storectl.instance import test_instance
from support import SCREENSHOTS, TEST_PARAMETERS, LocalStack, token_for


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


@pytest.fixture
def cli_env(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point storectl at the test instance instead of the dev one."""
    instance = local_stack.instance
    monkeypatch.setenv("STORE_EMULATOR_PORT", str(instance.emulator_port))
    monkeypatch.setenv("STORE_STACK_NAME", instance.stack_name)
    monkeypatch.setenv("STORE_STATE_DIR", str(instance.state_dir))
    monkeypatch.setenv("CASSANDRA_PORT", str(instance.cassandra_port))
    monkeypatch.setenv("STORE_TRACE_PORT", str(instance.trace_port))


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


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """Real headless Chromium (Debian `chromium`, `chromium-driver`); screenshots go to SCREENSHOTS."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.fail("needs the Debian packages chromium and chromium-driver: run localstack/install-browser.sh")
    profile = tempfile.mkdtemp(prefix="chromium-")
    options = Options()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in CI
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
        f"--user-data-dir={profile}",
        # Nothing but 127.0.0.1: no name resolves, and no background traffic.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        options.add_argument(argument)
    os.environ.setdefault("SE_AVOID_STATS", "true")
    # The packaged driver, given by path: Selenium downloads nothing.
    session = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield session
    finally:
        session.quit()
        shutil.rmtree(profile, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `runs_last` go to the end, in their order (stable sort)."""
    items.sort(key=lambda item: item.get_closest_marker("runs_last") is not None)
