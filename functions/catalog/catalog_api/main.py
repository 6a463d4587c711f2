"""The `catalog` function: FastAPI routes under `/api`, served through API Gateway; also the
whole API's Swagger UI (`/api/docs`) and OpenAPI document (`/api/openapi.json`)."""

from catalog_api.routes import categories, popular, products
from store.http import create_app, docs_router, lambda_handler

app = create_app(
    service="catalog", prefix="/api", routers=[docs_router(), popular.router, products.router, categories.router]
)
handler = lambda_handler(app)
