"""The one authentication dependency every HTTP function uses.

    from store.auth import AdminUser, CurrentUser

    @router.get("/things")
    def things(user: CurrentUser) -> ...: ...        # any signed-in user
    @router.delete("/things/{id}")
    def remove(admin: AdminUser, id: UUID) -> ...: ...  # admins only

Identity comes only from the bearer token: its signature, algorithm, expiry,
issuer and audience are checked, then that it was not revoked (logout), that
its user still exists and that it carries the user's current token version (a
password or role change and logout-all bump it). The role that counts is the user's current one in
Cassandra, so a demoted admin loses admin rights at once, not at token expiry.
No token or a bad one -> 401; a user on an admin route -> 403.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from store.config import Settings, get_settings
from store.db import Database, get_database
from store.errors import Forbidden, Unauthorized
from store.observability import counted, logger
from store.security import InvalidToken, TokenClaims, decode_token
from store.users import User, UserRepository

# tokenUrl is what Swagger UI's Authorize button posts the password form to.
# auto_error=False: a missing token gets our error shape (below), not FastAPI's.
# Relative to each function's openapi.json (`<base>/<prefix>/openapi.json`), so it
# finds `<base>/user-api/login` whatever prefix the API is reached under.
bearer_token = OAuth2PasswordBearer(tokenUrl="../user-api/login", auto_error=False)

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


class RevokedTokens:
    def __init__(self, database: Database) -> None:
        self._db = database

    @counted("jwt_operations_total", operation="revoke")
    def revoke(self, claims: TokenClaims) -> None:
        # Kept only as long as the token could still be used.
        ttl = max(1, math.ceil((claims.expires_at - datetime.now(UTC)).total_seconds()))
        self._db.execute(
            "INSERT INTO revoked_tokens (jti, user_id, revoked_at) VALUES (?, ?, ?) USING TTL ?",
            (claims.token_id, claims.user_id, datetime.now(UTC), ttl),
        )

    def check(self, token_id: uuid.UUID) -> Callable[[], bool]:
        """Start the lookup now; the returned call waits for it and says whether the
        token was revoked. Lets a caller read the user meanwhile."""
        future = self._db.execute_async("SELECT jti FROM revoked_tokens WHERE jti = ?", (token_id,))
        return lambda: self._db.result(future).one() is not None


def _revoked_tokens(database: Annotated[Database, Depends(get_database)]) -> RevokedTokens:
    return RevokedTokens(database)


def _users(database: Annotated[Database, Depends(get_database)]) -> UserRepository:
    return UserRepository(database)


RevokedTokensDep = Annotated[RevokedTokens, Depends(_revoked_tokens)]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user as stored now, and the token they presented."""

    user: User
    token: TokenClaims

    @property
    def id(self) -> uuid.UUID:
        return self.user.id

    @property
    def is_admin(self) -> bool:
        return self.user.role == "admin"


def _unauthorized(message: str = "invalid or expired token") -> Unauthorized:
    return Unauthorized(message, headers=_CHALLENGE)


def current_principal(
    token: Annotated[str | None, Depends(bearer_token)],
    settings: Annotated[Settings, Depends(get_settings)],
    revoked: RevokedTokensDep,
    users: Annotated[UserRepository, Depends(_users)],
) -> Principal:
    if not token:
        raise _unauthorized("not authenticated: send Authorization: Bearer <token>")
    try:
        claims = decode_token(settings, token)
    except InvalidToken as error:
        # The reason is for the logs only; the client learns just "invalid".
        logger.info("token rejected", extra={"reason": str(error)})
        raise _unauthorized() from error
    # Both reads in flight together: one round trip instead of two, and still both
    # read on every request (a logout or a role change applies at once).
    is_revoked = revoked.check(claims.token_id)
    user = users.get(claims.user_id)
    if is_revoked():
        logger.info("token rejected", extra={"reason": "revoked", "user_id": str(claims.user_id)})
        raise _unauthorized()
    if user is None:
        logger.info("token rejected", extra={"reason": "user no longer exists", "user_id": str(claims.user_id)})
        raise _unauthorized()
    if claims.version != user.token_version:
        # A password or role change or a logout-all since the token was issued.
        logger.info("token rejected", extra={"reason": "token version", "user_id": str(claims.user_id)})
        raise _unauthorized()
    return Principal(user=user, token=claims)


CurrentUser = Annotated[Principal, Depends(current_principal)]


def admin_principal(principal: CurrentUser) -> Principal:
    if not principal.is_admin:
        raise Forbidden("this needs the admin role")
    return principal


AdminUser = Annotated[Principal, Depends(admin_principal)]
