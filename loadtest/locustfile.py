"""The seeds' load test: eight scenarios of a shopper, weighted browse 10 / cart 5 / order 1.

Each simulated user registers a fresh account and logs in (scenarios `register`
and `login`), then keeps choosing a task by weight:

- browse (10): a category's first page, then the next page through the paging
  token (`browse`);
- cart (5): put a product seen while browsing into the cart (`add_to_cart`),
  then read the cart and change or remove a line (`manage_cart`);
- order (1): check out (`checkout`), follow the orders' statuses
  (`order_status`) and read the profile (`profile`).

Every request is named `<scenario>: <what>`, so Locust's tables group by
scenario and the load-run report can aggregate them. Business answers (409 out
of stock, 400 empty cart) are expected outcomes of a shop under load: they
count as successes under a name ending in `[409]` / `[400]`, apart from failures.

Run it through `make load` (report folder, plots), or by hand:
    .venv-load/bin/locust -f loadtest/locustfile.py --host "$(.venv/bin/storectl url)"

List routes are read as `{items, next_cursor}` or the catalog's current
`{items, next_page_token}`.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO, cast

from locust import HttpUser, between, events, task
from locust.clients import ResponseContextManager

PASSWORD = "load-test-password"  # noqa: S105 - throwaway accounts on a local stack
BUSINESS_STATUSES = {400: "empty cart", 409: "conflict"}
# Where each request's (time, scenario, name, ms, ok) goes, for the report's plots.
SAMPLES_FILE = os.environ.get("LOAD_SAMPLES_CSV")


def next_page(body: dict[str, Any]) -> tuple[str, str] | None:
    """(query parameter, value) for the page after `body`, whichever envelope it uses."""
    if body.get("next_cursor"):
        return "cursor", str(body["next_cursor"])
    if body.get("next_page_token"):
        return "page_token", str(body["next_page_token"])
    return None


class Shopper(HttpUser):
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.token = ""
        self.seen_products: list[str] = []
        self.categories: list[str] = []
        username = f"load_{uuid.uuid4().hex[:20]}"
        with self.call("POST", "/user-api/register", "register", json={"username": username, "password": PASSWORD}):
            pass
        with self.call("POST", "/user-api/login", "login", json={"username": username, "password": PASSWORD}) as r:
            if r.status_code == 200:
                self.token = r.json()["access_token"]
        with self.call("GET", "/api/categories", "browse: categories") as r:
            if r.status_code == 200:
                self.categories = [item["name"] for item in r.json()["items"] if item.get("product_count")]

    @contextmanager
    def call(self, method: str, path: str, name: str, **kwargs: Any) -> Iterator[ResponseContextManager]:
        """One request under `name`, judged by its status (see `judge`) before the caller reads it."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        with self.client.request(method, path, name=name, headers=headers, catch_response=True, **kwargs) as response:
            judge(response)
            yield response

    # ---- browse (10)

    @task(10)
    def browse(self) -> None:
        if not self.categories:
            return
        params: dict[str, str | int] = {"category": random.choice(self.categories), "limit": 20}  # noqa: S311
        with self.call("GET", "/api/products", "browse: page 1", params=params) as r:
            body = self._json(r)
        if body is None:
            return
        self.seen_products = [item["id"] for item in body.get("items", []) if item.get("quantity", 1) > 0][:10]
        following = next_page(body)
        if following is not None and random.random() < 0.5:  # noqa: S311 - half the shoppers read on
            with self.call("GET", "/api/products", "browse: next page", params={**params, following[0]: following[1]}):
                pass

    # ---- cart (5)

    @task(5)
    def cart(self) -> None:
        if not self.seen_products:
            self.browse()
        if not self.seen_products:
            return
        product_id = random.choice(self.seen_products)  # noqa: S311
        with self.call("POST", "/cart-api/cart/items", "add_to_cart", json={"product_id": product_id, "quantity": 1}):
            pass
        with self.call("GET", "/cart-api/cart", "manage_cart: read") as r:
            cart = self._json(r)
        lines = (cart or {}).get("items", [])
        if len(lines) > 3:  # keep carts small: drop a line
            with self.call("DELETE", f"/cart-api/cart/items/{lines[0]['id']}", "manage_cart: remove line"):
                pass
        elif lines:
            line = random.choice(lines)  # noqa: S311
            quantity = {"quantity": random.randint(1, 2)}  # noqa: S311
            with self.call("PUT", f"/cart-api/cart/items/{line['id']}", "manage_cart: set quantity", json=quantity):
                pass

    # ---- order (1)

    @task(1)
    def order(self) -> None:
        with self.call("POST", "/cart-api/cart/checkout", "checkout") as r:
            self._json(r)
        with self.call("GET", "/order-api/orders", "order_status: my orders", params={"limit": 10}) as r:
            orders = self._json(r)
        newest = (orders or {}).get("items", [])
        if newest:
            with self.call("GET", f"/order-api/orders/{newest[0]['id']}", "order_status: one order"):
                pass
        with self.call("GET", "/user-api/me/profile", "profile"):
            pass

    @staticmethod
    def _json(response: ResponseContextManager) -> dict[str, Any] | None:
        if response.status_code // 100 == 2:
            body = response.json()
            return body if isinstance(body, dict) else None
        return None


def judge(response: ResponseContextManager) -> None:
    """2xx is a success; 400/409 are business answers (success, own name); anything else fails."""
    status = response.status_code
    if status // 100 == 2:
        response.success()
    elif status in BUSINESS_STATUSES and scenario_of(response.request_meta["name"]) in {
        "add_to_cart",
        "manage_cart",
        "checkout",
    }:
        # Locust reports the request under request_meta's name when the block exits.
        meta = cast(dict[str, Any], response.request_meta)
        meta["name"] = f"{meta['name']} [{status}]"
        response.success()
    else:
        response.failure(f"{status}: {response.text[:200] if response.text else ''}")


class SampleLog:
    """Each request as a CSV row (time, scenario, name, ms, ok), when LOAD_SAMPLES_CSV names a file."""

    def __init__(self) -> None:
        self.file: TextIO | None = None

    def open(self, **kwargs: Any) -> None:
        if SAMPLES_FILE and self.file is None:
            self.file = open(SAMPLES_FILE, "w", newline="")  # noqa: SIM115 - closed at quit
            self.file.write("time,scenario,name,ms,ok\n")

    def record(self, name: str, response_time: float, exception: BaseException | None, **kwargs: Any) -> None:
        if self.file is not None:
            scenario = scenario_of(name)
            self.file.write(f"{time.time():.3f},{scenario},{name},{response_time:.1f},{int(exception is None)}\n")

    def close(self, **kwargs: Any) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def scenario_of(name: str) -> str:
    """'manage_cart: read' -> 'manage_cart'; 'checkout [409]' -> 'checkout'."""
    return name.split(":", maxsplit=1)[0].split(" [", maxsplit=1)[0]


_samples = SampleLog()
events.test_start.add_listener(_samples.open)
events.request.add_listener(_samples.record)
events.quitting.add_listener(_samples.close)
