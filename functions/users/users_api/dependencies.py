"""FastAPI dependencies of the users routes: the collaborators from the store's
wiring (overridable in tests with `app.dependency_overrides`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from store.audit import AuditLog
from store.config import Settings, get_settings
from store.deliveries import NotificationDeliveries
from store.notifications import NotificationInbox, Notifier
from store.profile import ProfileSources
from store.templates import TemplateStore
from store.throttle import LoginThrottle, Throttle
from store.users import UserRepository
from store.wiring import wiring


def _users() -> UserRepository:
    return wiring().users


def _login_throttle() -> LoginThrottle:
    return wiring().login_throttle


def _registration_throttle() -> Throttle:
    return wiring().registration_throttle


def _password_throttle() -> Throttle:
    return wiring().password_throttle


def _inbox() -> NotificationInbox:
    return wiring().inbox


def _audit() -> AuditLog:
    return wiring().audit


def _profile_sources() -> ProfileSources:
    return wiring().profile_sources


def _notifier() -> Notifier:
    return wiring().notifier


def _templates() -> TemplateStore:
    return wiring().templates


def _deliveries() -> NotificationDeliveries:
    return wiring().deliveries


SettingsDep = Annotated[Settings, Depends(get_settings)]
UsersDep = Annotated[UserRepository, Depends(_users)]
LoginThrottleDep = Annotated[LoginThrottle, Depends(_login_throttle)]
RegistrationThrottleDep = Annotated[Throttle, Depends(_registration_throttle)]
PasswordThrottleDep = Annotated[Throttle, Depends(_password_throttle)]
InboxDep = Annotated[NotificationInbox, Depends(_inbox)]
AuditDep = Annotated[AuditLog, Depends(_audit)]
ProfileSourcesDep = Annotated[ProfileSources, Depends(_profile_sources)]
NotifierDep = Annotated[Notifier, Depends(_notifier)]
TemplatesDep = Annotated[TemplateStore, Depends(_templates)]
DeliveriesDep = Annotated[NotificationDeliveries, Depends(_deliveries)]
