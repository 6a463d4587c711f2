"""The API's Swagger UI and the docs site in real headless Chromium (Debian
`chromium` and `chromium-driver`, installed by localstack/install-browser.sh):
every operation and every page is found, and Authorize works end to end.
Screenshots are kept in .artifacts/screenshots/.
"""

from __future__ import annotations

from typing import Any

import httpx
import yaml
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from storectl.instance import PROJECT_ROOT
from support import SCREENSHOTS, LocalStack


def _operations(api: httpx.Client) -> list[tuple[str, str, str]]:
    """(METHOD, path, operationId) of every operation in the served document."""
    document = api.get("/api/openapi.json").json()
    return [
        (method.upper(), path, operation["operationId"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _url(api: httpx.Client, path: str) -> str:
    return str(api.base_url).rstrip("/") + path  # httpx ends a base URL with "/"


def _wait(browser: WebDriver, seconds: float = 60) -> WebDriverWait[WebDriver]:
    return WebDriverWait(browser, seconds)


def test_swagger_ui_shows_every_operation(browser: WebDriver, api: httpx.Client) -> None:
    operations = _operations(api)
    browser.get(_url(api, "/api/docs"))
    _wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".opblock")) >= len(operations))
    shown = {
        element.get_attribute("id") or ""
        for element in browser.find_elements(By.CSS_SELECTOR, ".opblock")
        if (element.get_attribute("id") or "").startswith("operations-")
    }
    missing = [f"{m} {p}" for m, p, op_id in operations if not any(i.endswith(f"-{op_id}") for i in shown)]
    browser.save_screenshot(str(SCREENSHOTS / "swagger-ui.png"))
    assert not missing, f"not in Swagger UI: {missing}"
    assert "Unable to render" not in browser.page_source


def test_authorize_then_try_an_operation(browser: WebDriver, api: httpx.Client) -> None:
    """Authorize posts the password form to /user-api/login; "Try it out" then
    reaches the API through the document's relative server URL with the token."""
    browser.get(_url(api, "/api/docs"))
    wait = _wait(browser)
    wait.until(expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, ".auth-wrapper .authorize"))).click()
    wait.until(expected_conditions.visibility_of_element_located((By.ID, "oauth_username"))).send_keys("swagger_user")
    browser.find_element(By.ID, "oauth_password").send_keys("password123")
    browser.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper .authorize").click()
    # The dialog says "Authorized" once the login route answered with a token.
    wait.until(expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, ".modal-ux-content"), "Authorized"))
    browser.find_element(By.CSS_SELECTOR, ".btn-done").click()

    operation = next(op_id for method, path, op_id in _operations(api) if (method, path) == ("GET", "/user-api/me"))
    block = browser.find_element(By.CSS_SELECTOR, f"[id$='-{operation}']")
    block.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    wait.until(lambda _: block.find_element(By.CSS_SELECTOR, ".try-out__btn")).click()
    wait.until(lambda _: block.find_element(By.CSS_SELECTOR, ".execute")).click()

    def answered(_: WebDriver) -> str | None:
        cells = block.find_elements(By.CSS_SELECTOR, ".live-responses-table .response-col_status")
        return next((cell.text.strip() for cell in cells if cell.text.strip()[:3].isdigit()), None)

    status = wait.until(answered)
    body = " ".join(
        cell.text for cell in block.find_elements(By.CSS_SELECTOR, ".live-responses-table .response-col_description")
    )
    browser.save_screenshot(str(SCREENSHOTS / "swagger-ui-authorized.png"))
    assert status is not None
    assert status.startswith("200"), body
    assert '"username": "swagger_user"' in body


def _pages() -> list[tuple[str, str]]:
    """(title, path) of every page in mkdocs.yml's nav."""
    config: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "mkdocs.yml").read_text())
    pages = []
    for entry in config["nav"]:
        ((title, source),) = entry.items()
        pages.append((title, "" if source == "index.md" else source.removesuffix(".md") + "/"))
    return pages


def test_docs_site_serves_every_page(browser: WebDriver, local_stack: LocalStack) -> None:
    base = local_stack.instance.docs_url
    pages = _pages()
    assert len(pages) >= 14
    for title, path in pages:
        browser.get(base + path)
        heading = _wait(browser, 20).until(lambda b: b.find_element(By.CSS_SELECTOR, "article h1"))
        browser.save_screenshot(str(SCREENSHOTS / f"docs-{path.strip('/') or 'index'}.png"))
        assert heading.text.strip(), f"{path}: no heading"
        # The page is in the site's navigation under its nav title.
        links = [link.get_attribute("textContent") or "" for link in browser.find_elements(By.CSS_SELECTOR, "nav a")]
        assert any(title in text for text in links), f"{title!r} not in the navigation of {path}"
        assert "404" not in browser.title


def test_docs_api_reference_lists_every_operation(
    browser: WebDriver, local_stack: LocalStack, api: httpx.Client
) -> None:
    browser.get(local_stack.instance.docs_url + "api/")
    headings = {
        " ".join(element.text.replace("¶", "").split())
        for element in _wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "article h3"))
    }
    missing = [f"{m} {p}" for m, p, _ in _operations(api) if f"{m} {p}" not in headings]
    assert not missing, f"not in the docs' API reference: {missing}"
