"""Users: the API models, the Cassandra repository and the use cases.

The request models (`UserCreate`, `ProfileUpdate`, `AdminUserUpdate`) and the
response model (`UserPublic`) are separate classes, and only the internal `User`
record carries the password hash, so no route can return it by accident.
Roles are never taken from a request except from an admin (`AdminUserUpdate`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from store.audit import Actor, AuditLog, AuditRecord
from store.clock import aware, to_ms, utc_now
from store.config import Settings
from store.db import Database
from store.errors import BadRequest, Conflict, NotFound, TooManyRequests, Unauthorized
from store.observability import count, logger
from store.paging import Page, decode_cursor, encode_cursor, invalid_cursor
from store.security import Role, hash_password, verify_password
from store.templates import Language
from store.throttle import LoginThrottle, Throttle

Username = Annotated[str, Field(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]
Password = Annotated[str, Field(min_length=8, max_length=128)]
# Spaces spelled out: `\s` means different characters to Python, Rust (pydantic)
# and the JavaScript regexes of the schema's readers.
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@ \t\n\r\f\v]+@[^@ \t\n\r\f\v]+\.[^@ \t\n\r\f\v]+$")]
FullName = Annotated[str, Field(min_length=1, max_length=100)]
Phone = Annotated[str, Field(min_length=4, max_length=32, pattern=r"^\+?[0-9][0-9 ()-]*$")]

# One message for an unknown user and a wrong password: no username probing.
BAD_CREDENTIALS = "invalid username or password"


class _Body(BaseModel):
    # Unknown fields are an error: `{"role": "admin"}` on register is a 422, not ignored.
    model_config = ConfigDict(extra="forbid")


class UserCreate(_Body):
    username: Username
    password: Password
    email: Email | None = None
    full_name: FullName | None = None
    phone: Phone | None = None
    language: Language | None = Field(default=None, description="of the notifications; null: the store's default")


class TokenCreate(_Body):
    # Lenient on format (any mismatch is the same 401), bounded in size.
    username: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=1, max_length=128)


class ProfileUpdate(_Body):
    """PUT /me: only the fields sent are changed; null clears an optional one."""

    # A new password needs the current one: said in the schema too.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"required": ["password"], "properties": {"password": {"type": "string"}}},
            "then": {"required": ["current_password"], "properties": {"current_password": {"type": "string"}}},
        }
    )

    full_name: FullName | None = None
    email: Email | None = None
    phone: Phone | None = None
    language: Language | None = None
    password: Password | None = None
    current_password: str | None = Field(default=None, min_length=1, max_length=128, validate_default=True)

    @field_validator("current_password")
    @classmethod
    def _required_for_a_new_password(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("password") is not None and not value:
            raise ValueError("the current password is required to set a new one")
        return value


class AdminUserUpdate(_Body):
    full_name: FullName | None = None
    email: Email | None = None
    phone: Phone | None = None
    language: Language | None = None
    role: Role | None = None


class UserPublic(BaseModel):
    id: uuid.UUID
    username: str
    email: str | None
    full_name: str | None
    phone: str | None
    language: Language | None = Field(default=None, description="of the notifications; null: the store's default")
    role: Role
    created_at: datetime


class TokenPublic(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="seconds until the token expires")


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    username: str
    email: str | None
    full_name: str | None
    phone: str | None
    role: Role
    password_hash: str
    created_at: datetime
    language: Language | None = None
    # Tokens carry the version they were issued at; bumping it revokes them all.
    token_version: int = 0

    def public(self) -> UserPublic:
        return UserPublic(
            id=self.id,
            username=self.username,
            email=self.email,
            full_name=self.full_name,
            phone=self.phone,
            language=self.language,
            role=self.role,
            created_at=self.created_at,
        )

    @classmethod
    def from_row(cls, row: Any) -> Self:
        created_at: datetime = row.created_at
        return cls(
            id=row.id,
            username=row.username,
            email=row.email,
            full_name=row.full_name,
            phone=row.phone,
            role=row.role,
            password_hash=row.password_hash,
            created_at=aware(created_at),
            language=row.language,
            token_version=row.token_version or 0,
        )


def username_key(username: str) -> str:
    """Usernames are unique regardless of case: `Alice` and `alice` are one name."""
    return username.lower()


# token_version is read with the rest: the token check needs no extra query.
_COLUMNS = "id, username, email, full_name, phone, role, password_hash, created_at, language, token_version"
# Columns an update may set; names are spliced into CQL, so only from this list.
_UPDATABLE = ("email", "full_name", "phone", "role", "password_hash", "language", "token_version")
_PLACEHOLDERS = ", ".join("?" for _ in _COLUMNS.split(", "))


class UserRepository:
    """Every write to `users` and `usernames` is a lightweight transaction, so
    writes to one user are serialised and a deleted user is never re-created by
    a concurrent update."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self.database = database

    def claim_username(self, username: str, user_id: uuid.UUID) -> bool:
        result = self._db.execute(
            "INSERT INTO usernames (username, user_id) VALUES (?, ?) IF NOT EXISTS", (username_key(username), user_id)
        )
        return bool(result.was_applied)

    def release_username(self, username: str, user_id: uuid.UUID) -> None:
        """Free the name, but only if it still belongs to `user_id`."""
        self._db.execute("DELETE FROM usernames WHERE username = ? IF user_id = ?", (username_key(username), user_id))

    def insert(self, user: User) -> None:
        self._db.execute(
            f"INSERT INTO users ({_COLUMNS}, updated_at) VALUES ({_PLACEHOLDERS}, ?) IF NOT EXISTS",
            (
                user.id,
                user.username,
                user.email,
                user.full_name,
                user.phone,
                user.role,
                user.password_hash,
                user.created_at,
                user.language,
                user.token_version,
                user.created_at,
            ),
        )

    def get(self, user_id: uuid.UUID) -> User | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,)).one()
        return User.from_row(row) if row is not None else None

    def get_by_username(self, username: str) -> User | None:
        row = self._db.execute("SELECT user_id FROM usernames WHERE username = ?", (username_key(username),)).one()
        return self.get(row.user_id) if row is not None else None

    def update(self, user_id: uuid.UUID, changes: dict[str, Any]) -> bool:
        """Set the given columns; False when the user does not exist."""
        columns = sorted(changes)
        if not set(columns) <= set(_UPDATABLE):
            raise ValueError(f"not updatable: {set(columns) - set(_UPDATABLE)}")
        assignments = ", ".join(f"{column} = ?" for column in [*columns, "updated_at"])
        result = self._db.execute(
            f"UPDATE users SET {assignments} WHERE id = ? IF EXISTS",
            (*(changes[column] for column in columns), utc_now(), user_id),
        )
        return bool(result.was_applied)

    def delete(self, user: User) -> bool:
        result = self._db.execute("DELETE FROM users WHERE id = ? IF EXISTS", (user.id,))
        if result.was_applied:
            self.release_username(user.username, user.id)
        return bool(result.was_applied)

    def page(self, after: uuid.UUID | None, limit: int) -> list[User]:
        """Users in token order, `limit` at a time, starting after the id `after`."""
        if after is None:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM users LIMIT ?", (limit,))
        else:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM users WHERE token(id) > token(?) LIMIT ?", (after, limit))
        return [User.from_row(row) for row in rows]


class AdminRoster:
    """The set of admin ids in one row, changed only by compare-and-set, so that
    two admins demoting (or deleting) each other at once cannot leave none: the
    second change sees the first and is refused."""

    def __init__(self, database: Database, users: UserRepository, roster_id: str = "admins") -> None:
        self._db = database
        self._users = users
        self._ID = roster_id  # another id: a roster of its own (tests)

    def _read(self) -> set[uuid.UUID]:
        row = self._db.execute("SELECT admins FROM admin_roster WHERE id = ?", (self._ID,), serial=True).one()
        if row is not None:
            return set(row.admins or ())
        # First use on a store from before the roster: build it from the users.
        admins: set[uuid.UUID] = set()
        after: uuid.UUID | None = None
        while page := self._users.page(after, 500):
            admins |= {user.id for user in page if user.role == "admin"}
            after = page[-1].id
        self._db.execute("INSERT INTO admin_roster (id, admins) VALUES (?, ?) IF NOT EXISTS", (self._ID, admins))
        row = self._db.execute("SELECT admins FROM admin_roster WHERE id = ?", (self._ID,), serial=True).one()
        return set(row.admins or ())

    def _change(self, change: Callable[[set[uuid.UUID]], set[uuid.UUID]]) -> None:
        for _ in range(20):
            current = self._read()
            wanted = change(set(current))
            if wanted == current:
                return
            result = self._db.execute(
                "UPDATE admin_roster SET admins = ? WHERE id = ? IF admins = ?", (wanted, self._ID, current or None)
            )
            if result.was_applied:
                return
        raise Conflict("the admin list is being changed concurrently; try again")

    def add(self, user_id: uuid.UUID) -> None:
        self._change(lambda admins: admins | {user_id})

    def remove(self, user_id: uuid.UUID) -> None:
        """Take the user off the roster; 409 when they are the last admin."""

        def without(admins: set[uuid.UUID]) -> set[uuid.UUID]:
            if admins <= {user_id}:
                raise Conflict("the last admin can be neither demoted nor deleted")
            return admins - {user_id}

        self._change(without)


def create_user(repository: UserRepository, data: UserCreate, role: Role = "user") -> User:
    """Create a user; 409 when the name is taken (decided by Cassandra, atomically)."""
    now = to_ms(utc_now())  # what Cassandra keeps
    user = User(
        id=uuid.uuid4(),
        username=data.username,
        email=data.email,
        full_name=data.full_name,
        phone=data.phone,
        role=role,
        # Hashed before claiming the name, so the claim-to-insert window stays short.
        password_hash=hash_password(data.password),
        created_at=now,
        language=data.language,
    )
    if not repository.claim_username(user.username, user.id):
        raise Conflict("this username is already taken", details=[{"field": "username"}])
    try:
        repository.insert(user)
    except Exception:
        repository.release_username(user.username, user.id)
        raise
    if role == "admin":
        AdminRoster(repository.database, repository).add(user.id)
    return user


def register(repository: UserRepository, throttle: Throttle, data: UserCreate, source_ip: str) -> User:
    """Self-service sign-up: always the `user` role; a limited number per source IP."""
    try:
        throttle.take(source_ip)
    except TooManyRequests:
        count("registrations_throttled_total")
        logger.warning("registration throttled", extra={"source_ip": source_ip})
        raise
    user = create_user(repository, data)
    logger.info("user registered", extra={"user_id": str(user.id), "username": user.username})
    count("users_registered_total")
    return user


def ensure_user(
    repository: UserRepository,
    username: str,
    password: str,
    role: Role,
    *,
    full_name: str | None = None,
    phone: str | None = None,
) -> bool:
    """Create the account unless the name exists (bootstrap admin, demo accounts).
    An existing account is left as it is. True when it was created."""
    if repository.get_by_username(username) is not None:
        return False
    try:
        data = UserCreate(username=username, password=password, full_name=full_name, phone=phone)
        create_user(repository, data, role=role)
    except Conflict:
        return False  # created concurrently: also fine
    return True


def authenticate(
    repository: UserRepository, throttle: LoginThrottle, username: str, password: str, source_ip: str
) -> User:
    """The user for these credentials; 401 (one message for every reason) or 429.
    The attempt is counted before the password is checked (store.throttle), so
    concurrent guesses cannot get past the allowance."""
    try:
        throttle.take(username_key(username), source_ip)
    except TooManyRequests:
        count("login_attempts_total", outcome="throttled")
        logger.warning("login throttled", extra={"username": username, "source_ip": source_ip})
        raise
    user = repository.get_by_username(username)
    # Verified even for an unknown user (against a dummy hash): same time, same answer.
    if not verify_password(user.password_hash if user else None, password) or user is None:
        count("login_attempts_total", outcome="failure")
        logger.info("login failed", extra={"username": username, "source_ip": source_ip})
        raise Unauthorized(BAD_CREDENTIALS, headers={"WWW-Authenticate": "Bearer"})
    throttle.succeeded(username_key(username), source_ip)
    count("login_attempts_total", outcome="success")
    logger.info("login succeeded", extra={"user_id": str(user.id)})
    return user


def update_profile(repository: UserRepository, throttle: Throttle, user: User, data: ProfileUpdate) -> User:
    changes: dict[str, Any] = {
        field: getattr(data, field) for field in data.model_fields_set & {"full_name", "email", "phone", "language"}
    }
    if data.password is not None:
        # A stolen token must not become unlimited guesses at the password.
        throttle.take(str(user.id))
        if not verify_password(user.password_hash, data.current_password or ""):
            raise BadRequest("the current password is wrong", details=[{"field": "current_password"}])
        throttle.reset(str(user.id))
        changes["password_hash"] = hash_password(data.password)
        # Whoever else holds a token of this account (the reason to change it) is out.
        changes["token_version"] = user.token_version + 1
    return _apply(repository, user, changes)


def admin_update(
    repository: UserRepository,
    admin: User,
    user_id: uuid.UUID,
    data: AdminUserUpdate,
    audit: AuditLog | None = None,
) -> User:
    user = get_user(repository, user_id)
    changes: dict[str, Any] = {field: getattr(data, field) for field in data.model_fields_set}
    if "role" in changes:
        if changes["role"] is None:
            raise BadRequest("role cannot be null", details=[{"field": "role"}])
        if user.id == admin.id and changes["role"] != admin.role:
            # Otherwise the last admin could lock everybody out of the admin routes.
            raise Conflict("an admin cannot change their own role", details=[{"field": "role"}])
        if changes["role"] != user.role:
            # Tokens issued for the old role end with it.
            changes["token_version"] = user.token_version + 1
            roster = AdminRoster(repository.database, repository)
            if user.role == "admin":
                roster.remove(user.id)  # 409 for the last admin
            else:
                roster.add(user.id)
    updated = _apply(repository, user, changes)
    if updated.role != user.role:
        logger.info("role changed", extra={"user_id": str(user.id), "role": updated.role, "by_admin": str(admin.id)})
        if audit is not None:
            details = {"username": user.username, "from": user.role, "to": updated.role}
            audit.write(AuditRecord(Actor.of(admin), "user.role_changed", "user", user.id, details))
    return updated


def logout_everywhere(repository: UserRepository, user: User) -> None:
    """Revoke every token of the user issued until now (POST /user-api/logout-all)."""
    _apply(repository, user, {"token_version": user.token_version + 1})
    logger.info("logged out everywhere", extra={"user_id": str(user.id)})


def _apply(repository: UserRepository, user: User, changes: dict[str, Any]) -> User:
    if changes and not repository.update(user.id, changes):
        raise NotFound("user not found")
    return replace(user, **changes)


def get_user(repository: UserRepository, user_id: uuid.UUID) -> User:
    user = repository.get(user_id)
    if user is None:
        raise NotFound("user not found")
    return user


def delete_user(repository: UserRepository, admin: User, user_id: uuid.UUID, audit: AuditLog | None = None) -> None:
    user = get_user(repository, user_id)
    if user.id == admin.id:
        raise Conflict("an admin cannot delete themself")
    if user.role == "admin":
        AdminRoster(repository.database, repository).remove(user.id)  # 409 for the last admin
    if not repository.delete(user):
        raise NotFound("user not found")
    logger.info("user deleted", extra={"user_id": str(user.id), "by_admin": str(admin.id)})
    if audit is not None:
        details = {"username": user.username, "role": user.role}
        audit.write(AuditRecord(Actor.of(admin), "user.deleted", "user", user.id, details))


def list_users(repository: UserRepository, cursor: str | None, limit: int) -> Page[UserPublic]:
    after = _user_cursor(cursor) if cursor is not None else None
    # One extra row tells whether there is a next page.
    users = repository.page(after, limit + 1)
    items = [user.public() for user in users[:limit]]
    more = len(users) > limit
    return Page(items=items, next_cursor=encode_cursor({"u": str(items[-1].id)}) if more else None)


def _user_cursor(cursor: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(decode_cursor(cursor)["u"]))
    except (KeyError, ValueError) as error:
        raise invalid_cursor() from error


def bootstrap_admin(repository: UserRepository, settings: Settings) -> bool:
    """The initial admin from configuration (BOOTSTRAP_ADMIN_USERNAME/_PASSWORD)."""
    if not settings.bootstrap_admin_username or settings.bootstrap_admin_password is None:
        return False
    return ensure_user(
        repository,
        settings.bootstrap_admin_username,
        settings.bootstrap_admin_password.get_secret_value(),
        role="admin",
    )
