"""One's own account: read it, change profile fields or the password."""

from __future__ import annotations

from fastapi import APIRouter

from store.auth import CurrentUser
from store.openapi import errors
from store.profile import ProfilePublic, build_profile
from store.users import ProfileUpdate, UserPublic, update_profile
from users_api.dependencies import PasswordThrottleDep, ProfileSourcesDep, UsersDep

router = APIRouter(prefix="/me", tags=["me"])


@router.get("", response_model=UserPublic)
def read_me(principal: CurrentUser) -> UserPublic:
    return principal.user.public()


@router.put("", response_model=UserPublic, responses=errors(400, 429))
def update_me(
    data: ProfileUpdate, principal: CurrentUser, users: UsersDep, throttle: PasswordThrottleDep
) -> UserPublic:
    """Only the fields sent change; a new `password` needs `current_password`
    (wrong ones are throttled like logins)."""
    return update_profile(users, throttle, principal.user, data).public()


@router.get("/profile", response_model=ProfilePublic)
def my_profile(principal: CurrentUser, sources: ProfileSourcesDep) -> ProfilePublic:
    """The user, cart, orders and statistics, read in parallel; a source that
    fails is named in `unavailable` and the rest is still answered."""
    return build_profile(principal.user.public(), sources)
