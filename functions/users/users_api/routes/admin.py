"""User management, admins only: list (paged), read, update (role too), delete."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from store.auth import AdminUser
from store.users import AdminUserUpdate, UserPage, UserPublic, admin_update, delete_user, get_user, list_users
from users_api.dependencies import Users

router = APIRouter(prefix="/users", tags=["admin"])


@router.get("", response_model=UserPage)
def list_all(
    admin: AdminUser,
    users: Users,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[UUID | None, Query(description="`next_cursor` of the previous page")] = None,
) -> UserPage:
    return list_users(users, cursor, limit)


@router.get("/{user_id}", response_model=UserPublic)
def read(user_id: UUID, admin: AdminUser, users: Users) -> UserPublic:
    return get_user(users, user_id).public()


@router.put("/{user_id}", response_model=UserPublic)
def update(user_id: UUID, data: AdminUserUpdate, admin: AdminUser, users: Users) -> UserPublic:
    return admin_update(users, admin.user, user_id, data).public()


@router.delete("/{user_id}", status_code=204)
def delete(user_id: UUID, admin: AdminUser, users: Users) -> None:
    delete_user(users, admin.user, user_id)
