"""One order, one trace: from the checkout request to the last notification,
through the deployed stack and its real trace server (Zipkin).

The order runs at the test stack's time scale (0.02) to DELIVERED; the trace
server must then hold ONE trace with spans of the cart function, the outbox
publish (fast path or relay), the starter, every lifecycle task and the
notifications consumer, each span's parent in the same trace. `storectl trace`
prints it; headless Chromium shows it in Zipkin's UI (screenshot kept).
And opt-in profiling: a profiled function's .prof files, via `storectl profiles`.
"""

from __future__ import annotations

import pstats
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait
from typer.testing import CliRunner

from storectl import deploy, profiles, traces
from storectl.cli import app
from support import SCREENSHOTS, LocalStack, add_to_cart, bearer, checkout, create_product, eventually, new_user

# The lifecycle of an approved order: every task it runs, to DELIVERED.
TASKS = {"task authorize_payment", "task transition"}
STATUSES_NOTIFIED = {"PROCESSING", "SHIPPING", "DELIVERED"}


def _names(spans: list[dict[str, Any]], service: str) -> set[str]:
    return {span["name"] for span in spans if span["localEndpoint"]["serviceName"] == service}


def _complete(spans: list[dict[str, Any]]) -> bool:
    notified = {
        span["tags"].get("status")
        for span in spans
        if span["localEndpoint"]["serviceName"] == "notifications" and span["name"] == "notification"
    }
    return (
        "checkout" in _names(spans, "cart")
        and "start lifecycle" in _names(spans, "order_starter")
        and _names(spans, "order_workflow") >= TASKS
        and notified >= STATUSES_NOTIFIED
        and any(span["name"] == "outbox.publish" for span in spans)
    )


@pytest.fixture(scope="module")
def delivered_order(api: httpx.Client, admin_token: str, local_stack: LocalStack) -> dict[str, Any]:
    """An order taken to DELIVERED, and every span of its trace once the last notification's arrived."""
    token = new_user(api)[1]
    product = create_product(api, admin_token, price="3.00", quantity=5)
    assert add_to_cart(api, token, product["id"], 1).status_code == 201
    response = checkout(api, token)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()

    def delivered() -> bool:
        found = api.get(f"/order-api/orders/{order['id']}", headers=bearer(token))
        return found.status_code == 200 and found.json()["status"] == "DELIVERED"

    eventually(delivered, timeout=90, what="the order to be DELIVERED")

    def whole_trace() -> list[dict[str, Any]] | None:
        spans = traces.order_spans(local_stack.instance, order["id"])
        return spans if _complete(spans) else None

    spans = eventually(whole_trace, timeout=60, what="every span of the order's trace in the trace server")
    return {"order": order, "spans": spans}


def test_one_order_is_one_trace_with_intact_parent_links(delivered_order: dict[str, Any]) -> None:
    spans = delivered_order["spans"]
    assert len({span["traceId"] for span in spans}) == 1, "the order's spans are split over several traces"
    ids = {span["id"] for span in spans}
    roots = [span for span in spans if "parentId" not in span]
    assert [root["localEndpoint"]["serviceName"] for root in roots] == ["cart"]
    assert roots[0]["name"] == "post /cart-api/cart/checkout"
    orphans = [span["name"] for span in spans if "parentId" in span and span["parentId"] not in ids]
    assert orphans == []
    services = {span["localEndpoint"]["serviceName"] for span in spans}
    assert {"cart", "order_starter", "order_workflow", "notifications"} <= services
    # Cassandra queries and AWS calls are spans of their own, under the business steps
    # (Zipkin keeps span names in lower case).
    names = {span["name"] for span in spans}
    assert {"cassandra_query", "sns.publish", "stepfunctions.startexecution", "payment.authorize"} <= names
    assert "order.transition" in names
    assert "reservation" in names


def test_the_tasks_continue_the_starters_trace(delivered_order: dict[str, Any]) -> None:
    spans = {span["id"]: span for span in delivered_order["spans"]}

    def ancestors(span: dict[str, Any]) -> list[str]:
        chain = []
        while "parentId" in span:
            span = spans[span["parentId"]]
            chain.append(span["name"])
        return chain

    task = next(span for span in spans.values() if span["name"] == "task authorize_payment")
    assert "start lifecycle" in ancestors(task)
    assert ancestors(task)[-1] == "post /cart-api/cart/checkout"
    delivered = next(
        span for span in spans.values() if span["name"] == "notification" and span["tags"].get("status") == "DELIVERED"
    )
    # checkout -> ... -> the DELIVERED transition's task -> its event -> the notification.
    assert "task transition" in ancestors(delivered)


@pytest.mark.usefixtures("cli_env")
def test_storectl_trace_prints_the_tree(delivered_order: dict[str, Any]) -> None:
    result = CliRunner().invoke(app, ["trace", delivered_order["order"]["id"]])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"trace {delivered_order['spans'][0]['traceId']}: ")
    assert lines[1].startswith("cart: post /cart-api/cart/checkout")
    assert lines[1].endswith("OK")
    # Children are indented under their parents.
    assert any(line.startswith("  cart: checkout") for line in lines)
    assert any(line.lstrip().startswith("order_starter: start lifecycle") for line in lines)
    assert len(lines) == len(delivered_order["spans"]) + 1


@pytest.mark.usefixtures("cli_env")
def test_storectl_trace_of_an_unknown_order_says_so() -> None:
    result = CliRunner().invoke(app, ["trace", "00000000-0000-0000-0000-000000000000"])
    assert result.exit_code != 0
    assert "no span of order" in str(result.exception)


def test_the_trace_in_zipkins_ui(browser: WebDriver, local_stack: LocalStack, delivered_order: dict[str, Any]) -> None:
    trace_id = delivered_order["spans"][0]["traceId"]
    browser.get(f"{traces.ui_url(local_stack.instance)}traces/{trace_id}")
    # The trace page lists the services of the trace once its data has loaded.
    WebDriverWait(browser, 60).until(lambda page: "order_starter" in page.find_element(By.TAG_NAME, "body").text)
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "notifications" in body
    assert "order_workflow" in body
    browser.save_screenshot(str(SCREENSHOTS / "zipkin-order-trace.png"))


@pytest.mark.usefixtures("cli_env")
def test_a_profiled_function_leaves_prof_files_that_storectl_downloads(
    api: httpx.Client, local_stack: LocalStack, tmp_path: Path
) -> None:
    instance = local_stack.instance
    assert profiles.listing(instance, "catalog") == []  # off by default
    # What ProfiledFunctions=catalog sets, on the deployed function for this test only.
    with deploy.function_environment(
        instance, local_stack.outputs["CatalogFunctionName"], STORE_PROFILE_FUNCTIONS="catalog"
    ):

        def profiled() -> list[profiles.Profile] | None:
            assert api.get("/api/health").status_code == 200
            return profiles.listing(instance, "catalog") or None

        eventually(profiled, timeout=60, interval=1, what="a profile of the catalog function")
    result = CliRunner().invoke(app, ["profiles", "catalog", "--to", str(tmp_path)])
    assert result.exit_code == 0, result.output
    downloaded = sorted(tmp_path.glob("catalog/*.prof"))
    assert downloaded
    assert f"snakeviz {downloaded[-1]}" in result.output
    stats = pstats.Stats(str(downloaded[-1]))
    # The whole invocation is in it: down to the route's own code.
    assert any(function == "health" for _filename, _line, function in stats.stats)  # type: ignore[attr-defined]
