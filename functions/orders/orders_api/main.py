"""The `orders` function: FastAPI routes under `/order-api`, served through API Gateway."""

from orders_api.routes import orders
from store.http import create_app, lambda_handler

app = create_app(service="orders", prefix="/order-api", routers=[orders.router])
handler = lambda_handler(app)
