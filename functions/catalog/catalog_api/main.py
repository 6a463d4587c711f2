"""The `catalog` function: FastAPI routes under `/api`, served through API Gateway."""

from store.http import create_app, lambda_handler

app = create_app(service="catalog", prefix="/api")
handler = lambda_handler(app)
