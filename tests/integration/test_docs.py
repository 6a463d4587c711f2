"""One Swagger UI for the whole API works through API Gateway: the page, its
packaged assets, the merged document and the Authorize flow."""

from __future__ import annotations

import httpx
import pytest


def test_docs_page_assets_and_document_load_under_the_api_prefix(api: httpx.Client) -> None:
    page = api.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    # The page's relative URLs, resolved the way a browser does.
    base = page.url.join("./")
    assert api.get(str(base.join("docs/assets/swagger-ui-bundle.js"))).status_code == 200
    assert api.get(str(base.join("docs/assets/swagger-ui.css"))).status_code == 200
    document = api.get(str(base.join("openapi.json")))
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "Product Store API"
    prefixes = {path.split("/")[1] for path in document.json()["paths"]}
    assert prefixes == {"api", "cart-api", "order-api", "user-api"}


@pytest.mark.parametrize("prefix", ["/cart-api", "/order-api", "/user-api"])
def test_there_is_one_docs_page(api: httpx.Client, prefix: str) -> None:
    assert api.get(f"{prefix}/docs").status_code == 404
    assert api.get(f"{prefix}/openapi.json").status_code == 404


def test_the_server_url_resolves_to_the_api_base(api: httpx.Client) -> None:
    document_url = httpx.URL(str(api.base_url) + "/api/openapi.json")
    server = document_url.join(api.get("/api/openapi.json").json()["servers"][0]["url"])
    health = httpx.get(str(server).rstrip("/") + "/api/health", timeout=30)
    assert health.status_code == 200, health.text


def test_authorize_button_posts_to_the_login_route(api: httpx.Client) -> None:
    spec = api.get("/api/openapi.json").json()
    token_url = spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"]
    login = httpx.URL(str(api.base_url) + "/api/openapi.json").join(token_url)
    response = api.post(
        str(login), data={"username": "swagger_user", "password": "password123", "grant_type": "password"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"
