"""FastAPI dependencies of the users routes (overridable in tests)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from store.config import Settings, get_settings
from store.db import Database, get_database
from store.throttle import LoginThrottle
from store.users import UserRepository

SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]


def _users(database: DatabaseDep) -> UserRepository:
    return UserRepository(database)


def _throttle(database: DatabaseDep, settings: SettingsDep) -> LoginThrottle:
    return LoginThrottle(database, settings)


Users = Annotated[UserRepository, Depends(_users)]
Throttle = Annotated[LoginThrottle, Depends(_throttle)]
