"""The `cart` function: FastAPI routes under `/cart-api`, served through API Gateway."""

from cart_api.routes import admin, cart, views
from store.http import create_app, lambda_handler

app = create_app(service="cart", prefix="/cart-api", routers=[cart.router, views.router, admin.router])
handler = lambda_handler(app)
