"""GET /{prefix}/ on every service: name, version, links to its health and the docs."""

from __future__ import annotations

import httpx
import pytest

from store import __version__

SERVICES = [("/api", "catalog"), ("/cart-api", "cart"), ("/order-api", "orders"), ("/user-api", "users")]


@pytest.mark.parametrize(("prefix", "service"), SERVICES)
def test_each_service_says_what_it_is_and_where_its_docs_and_health_are(
    api: httpx.Client, prefix: str, service: str
) -> None:
    for path in (f"{prefix}/", prefix):
        response = api.get(path)  # no token needed
        assert response.status_code == 200, (path, response.text)
        info = response.json()
        assert info == {
            "name": f"Product Store API: {service}",
            "service": service,
            "version": __version__,
            "links": {
                "self": f"{prefix}/",
                "health": f"{prefix}/health",
                "docs": "/api/docs",
                "openapi": "/api/openapi.json",
            },
        }
    # Every link works, relative to the API base URL.
    for link in info["links"].values():
        assert api.get(link.lstrip("/")).status_code == 200, link
