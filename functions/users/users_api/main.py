"""The `users` function: FastAPI routes under `/user-api`, served through API Gateway."""

from store.http import create_app, lambda_handler
from users_api.routes import admin, admin_notifications, admin_profiles, audit, auth, me, notifications

app = create_app(
    service="users",
    prefix="/user-api",
    routers=[
        auth.router,
        me.router,
        notifications.router,
        admin.router,
        admin_profiles.router,
        admin_notifications.router,
        audit.router,
    ],
)
handler = lambda_handler(app)
