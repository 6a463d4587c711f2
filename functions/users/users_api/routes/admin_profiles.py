"""One user's aggregated profile, for admins: the same aggregation as GET /me/profile."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from store.auth import AdminUser
from store.profile import ProfilePublic, build_profile
from store.users import get_user
from users_api.dependencies import ProfileSourcesDep, UsersDep

router = APIRouter(prefix="/users", tags=["admin"])


@router.get("/{user_id}/profile", response_model=ProfilePublic)
def user_profile(user_id: UUID, _: AdminUser, users: UsersDep, sources: ProfileSourcesDep) -> ProfilePublic:
    """The user, cart, orders, statistics and recent notifications of any user;
    a source that fails is named in `unavailable`. 404 for an unknown user."""
    return build_profile(get_user(users, user_id).public(), sources)
