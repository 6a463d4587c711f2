"""Password hashing and access tokens. Pure functions: no I/O, no database.

Passwords: argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
It costs about 20 ms on one server core and a few times that on a 512 MB Lambda,
which keeps login and registration fast while making each guess memory-hard.

Tokens: JWT HS256 (PyJWT) with sub, role, exp, iat, jti, iss and aud, all
required when decoding, and `kid` in the header naming the signing key
(store.signing_keys: fetched from Secrets Manager, rotatable); the only accepted algorithm is HS256, so `alg: none`
and algorithm-confusion tokens are rejected before any claim is looked at.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from store.config import Settings
from store.observability import counted, timed
from store.signing_keys import key_source

Role = Literal["user", "admin"]
ROLES: tuple[str, ...] = get_args(Role)

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "role", "exp", "iat", "jti", "iss", "aud"]

# argon2id, OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the username is unknown, so that answering "no such
# user" takes as long as "wrong password" and timing does not reveal usernames.
# A constant with the same parameters as _hasher (a hash of a random password
# nobody kept), so no worker of any function pays an argon2 hash when it starts.
_DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$LXfj1s/9EaAgSaNMK6d9BQ$VNeX2VEd8dYdMxwPZTDN9Vk2uJX5aNV7JcqFONBxZRk"


@timed("password_hash_seconds", operation="hash")
def hash_password(password: str) -> str:
    return _hasher.hash(password)


@timed("password_hash_seconds", operation="verify")
def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no hash, spends the same time and says no."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class InvalidToken(Exception):
    """The token is malformed, forged, expired or not for this API."""


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    role: Role
    token_id: uuid.UUID
    issued_at: datetime
    expires_at: datetime
    # The user's token version when issued: a password or role change and
    # logout-all bump the user's version, which revokes every earlier token.
    version: int = 0


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    claims: TokenClaims


@counted("jwt_operations_total", operation="issue")
def issue_token(
    settings: Settings, user_id: uuid.UUID, role: Role, now: datetime | None = None, version: int = 0
) -> IssuedToken:
    issued_at = (now or datetime.now(UTC)).replace(microsecond=0)
    lifetime = timedelta(minutes=settings.jwt_lifetime_minutes)
    claims = TokenClaims(
        user_id=user_id,
        role=role,
        token_id=uuid.uuid4(),
        issued_at=issued_at,
        expires_at=issued_at + lifetime,
        version=version,
    )
    payload = {
        "sub": str(user_id),
        "role": role,
        "iat": issued_at,
        "exp": claims.expires_at,
        "jti": str(claims.token_id),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "ver": version,
    }
    key = key_source(settings).ring().current
    token = jwt.encode(payload, key.key, algorithm=ALGORITHM, headers={"kid": key.kid})
    return IssuedToken(access_token=token, expires_in=int(lifetime.total_seconds()), claims=claims)


@counted("jwt_operations_total", operation="verify")
def decode_token(settings: Settings, token: str) -> TokenClaims:
    """Verify signature, algorithm, expiry, issuer and audience; raise InvalidToken otherwise."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("no key id (kid) in the header")
        key = key_source(settings).verifying(kid, datetime.now(UTC))
        if key is None:
            raise InvalidToken(f"unknown or retired signing key {kid!r}")
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": REQUIRED_CLAIMS, "strict_aud": True},
        )
        role = payload["role"]
        if role not in ROLES:
            raise InvalidToken(f"unknown role {role!r}")
        # Absent in tokens from before versions existed: version 0, revoked by the first bump.
        version = payload.get("ver", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            raise InvalidToken("ver must be an integer")
        return TokenClaims(
            user_id=uuid.UUID(str(payload["sub"])),
            role=role,
            token_id=uuid.UUID(str(payload["jti"])),
            issued_at=datetime.fromtimestamp(int(payload["iat"]), UTC),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
            version=version,
        )
    except (jwt.InvalidTokenError, ValueError, TypeError) as error:
        raise InvalidToken(str(error)) from error
