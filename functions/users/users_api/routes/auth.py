"""Register, log in (OAuth2 password form or JSON), log out."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from store.auth import CurrentUser, RevokedTokensDep
from store.errors import UnsupportedMediaType
from store.openapi import errors
from store.security import issue_token
from store.users import TokenCreate, TokenPublic, UserCreate, UserPublic, authenticate, logout_everywhere, register
from users_api.dependencies import LoginThrottleDep, RegistrationThrottleDep, SettingsDep, UsersDep

router = APIRouter(tags=["auth"])

_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"

# Both bodies are documented; Swagger UI's Authorize button sends the form.
_LOGIN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            _FORM: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "username": {"type": "string"},
                        "password": {"type": "string", "format": "password"},
                        "grant_type": {"type": "string", "enum": ["password"]},
                    },
                    "required": ["username", "password"],
                }
            },
            _JSON: {"schema": TokenCreate.model_json_schema()},
        },
    }
}


def source_ip(request: Request) -> str:
    """API Gateway's requestContext.identity.sourceIp (Mangum puts it in the ASGI
    scope); never a client header."""
    return request.client.host if request.client else "unknown"


@router.post("/register", status_code=201, response_model=UserPublic, responses=errors(409, 429))
def register_user(data: UserCreate, request: Request, users: UsersDep, throttle: RegistrationThrottleDep) -> UserPublic:
    return register(users, throttle, data, source_ip(request)).public()


def _invalid(errors: Sequence[Mapping[str, Any]]) -> RequestValidationError:
    return RequestValidationError([{**error, "loc": ("body", *error.get("loc", ()))} for error in errors])


async def login_credentials(request: Request) -> TokenCreate:
    """The credentials from an OAuth2 password form or a JSON body (chosen by Content-Type)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
        if media_type == _FORM:
            # Only the two fields we need; grant_type, scope and client_id are ignored.
            form = parse_qs(text, keep_blank_values=True, max_num_fields=10)
            data: Any = {key: form[key][0] for key in ("username", "password") if key in form}
        elif media_type == _JSON:
            data = json.loads(text)
        else:
            raise UnsupportedMediaType(f"send the credentials as {_FORM} or {_JSON}")
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as error:
        raise _invalid([{"loc": (), "msg": f"malformed body: {error}", "type": "value_error"}]) from error
    try:
        return TokenCreate.model_validate(data)
    except ValidationError as error:
        raise _invalid(error.errors(include_url=False, include_input=False)) from error


@router.post("/login", response_model=TokenPublic, openapi_extra=_LOGIN_BODY, responses=errors(401, 415, 429))
def login(
    credentials: Annotated[TokenCreate, Depends(login_credentials)],
    request: Request,
    users: UsersDep,
    throttle: LoginThrottleDep,
    settings: SettingsDep,
) -> TokenPublic:
    user = authenticate(users, throttle, credentials.username, credentials.password, source_ip(request))
    issued = issue_token(settings, user.id, user.role, version=user.token_version)
    return TokenPublic(access_token=issued.access_token, expires_in=issued.expires_in)


@router.post("/logout", status_code=204)
def logout(principal: CurrentUser, revoked: RevokedTokensDep) -> None:
    """Revoke the presented token (until it would expire anyway)."""
    revoked.revoke(principal.token)


@router.post("/logout-all", status_code=204)
def logout_all(principal: CurrentUser, users: UsersDep) -> None:
    """Revoke every token of this account, on every device (this one too)."""
    logout_everywhere(users, principal.user)
