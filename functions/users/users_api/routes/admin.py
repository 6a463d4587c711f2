"""User management, admins only: list (paged), read, update (role too), delete."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from store.auth import AdminUser
from store.openapi import errors
from store.paging import MAX_CURSOR_LENGTH, Page
from store.users import AdminUserUpdate, UserPublic, admin_update, delete_user, get_user, list_users
from users_api.dependencies import AuditDep, UsersDep

router = APIRouter(prefix="/users", tags=["admin"])


@router.get("", response_model=Page[UserPublic])
def list_all(
    admin: AdminUser,
    users: UsersDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page")
    ] = None,
) -> Page[UserPublic]:
    return list_users(users, cursor, limit)


@router.get("/{user_id}", response_model=UserPublic)
def read(user_id: UUID, admin: AdminUser, users: UsersDep) -> UserPublic:
    return get_user(users, user_id).public()


@router.put("/{user_id}", response_model=UserPublic, responses=errors(400, 409))
def update(user_id: UUID, data: AdminUserUpdate, admin: AdminUser, users: UsersDep, audit: AuditDep) -> UserPublic:
    return admin_update(users, admin.user, user_id, data, audit).public()


@router.delete("/{user_id}", status_code=204, responses=errors(409))
def delete(user_id: UUID, admin: AdminUser, users: UsersDep, audit: AuditDep) -> None:
    delete_user(users, admin.user, user_id, audit)
