"""The `users` function: FastAPI routes under `/user-api`, served through API Gateway."""

from store.http import create_app, lambda_handler

app = create_app(service="users", prefix="/user-api")
handler = lambda_handler(app)
