"""The `catalog` function: FastAPI routes under `/api`, served through API Gateway."""

from catalog_api.routes import categories, products
from store.http import create_app, lambda_handler

app = create_app(service="catalog", prefix="/api", routers=[products.router, categories.router])
handler = lambda_handler(app)
