"""The `cart` function: FastAPI routes under `/cart-api`, served through API Gateway."""

from store.http import create_app, lambda_handler

app = create_app(service="cart", prefix="/cart-api")
handler = lambda_handler(app)
