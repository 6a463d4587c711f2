"""The `orders` function: FastAPI routes under `/order-api`, served through API Gateway."""

from store.http import create_app, lambda_handler

app = create_app(service="orders", prefix="/order-api")
handler = lambda_handler(app)
