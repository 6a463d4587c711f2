"""Swagger UI works through API Gateway: the page, its packaged assets and the spec."""

from __future__ import annotations

import httpx
import pytest

PREFIXES = ["/api", "/cart-api", "/order-api", "/user-api"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_docs_page_assets_and_spec_load_under_the_api_prefix(api: httpx.Client, prefix: str) -> None:
    page = api.get(f"{prefix}/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    # The page's relative URLs, resolved the way a browser does.
    base = page.url.join("./")
    assert api.get(str(base.join("docs/assets/swagger-ui-bundle.js"))).status_code == 200
    assert api.get(str(base.join("docs/assets/swagger-ui.css"))).status_code == 200
    spec = api.get(str(base.join("openapi.json")))
    assert spec.status_code == 200
    assert spec.json()["info"]["title"].startswith("Product Store")


def test_authorize_button_posts_to_the_login_route(api: httpx.Client) -> None:
    spec = api.get("/api/openapi.json").json()
    token_url = spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"]
    login = httpx.URL(str(api.base_url) + "/api/openapi.json").join(token_url)
    response = api.post(str(login), data={"username": "swagger_user", "password": "password123"})
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"
