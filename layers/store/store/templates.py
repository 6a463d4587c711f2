"""Notification templates: one per event type and language, with `{name}`
placeholders for the event's fields.

The built-in texts (`DEFAULTS`, the seeds' messages) apply until an admin
changes one; a changed template is a row of `notification_templates`, and
deleting it brings the default back. A template is checked against its event
before it is stored: every placeholder must be a field of the event and every
field must appear, so a stored template always renders.
"""

from __future__ import annotations

import string
from datetime import datetime
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from store.clock import aware, to_ms, utc_now
from store.db import Database
from store.errors import BadRequest
from store.wire import NOT_BLANK

Language = Literal["en", "ru"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
TemplateType = Literal["OrderCreated", "OrderStatusChanged", "AdminMessage"]
TEMPLATE_TYPES: tuple[TemplateType, ...] = get_args(TemplateType)

# The fields each notification type carries: a template's placeholders.
FIELDS: dict[TemplateType, frozenset[str]] = {
    "OrderCreated": frozenset({"order_id"}),
    "OrderStatusChanged": frozenset({"order_id", "status"}),
    "AdminMessage": frozenset({"text"}),
}

DEFAULTS: dict[tuple[TemplateType, Language], str] = {
    ("OrderCreated", "en"): "Your order {order_id} has been created.",
    ("OrderStatusChanged", "en"): "Your order {order_id} changed status to: {status}",
    ("AdminMessage", "en"): "{text}",
    ("OrderCreated", "ru"): "Ваш заказ {order_id} создан.",
    ("OrderStatusChanged", "ru"): "Ваш заказ {order_id} изменил статус на: {status}",
    ("AdminMessage", "ru"): "{text}",
}

Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000, pattern=NOT_BLANK)]


class TemplateUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Body = Field(description="the text, with `{name}` placeholders for the event's fields")


class TemplatePublic(BaseModel):
    event_type: TemplateType
    language: Language
    body: str
    placeholders: list[str] = Field(description="the fields the template must and may use")
    is_default: bool = Field(description="true while no admin has changed it")
    updated_at: datetime | None
    updated_by: UUID | None


def placeholders(body: str) -> set[str]:
    """The `{name}` placeholders of a template; 400 for anything else in braces
    (positional `{}`, attribute or index access, conversions, format specs):
    a template is data, never a way to reach into the objects it is given."""
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(body))
    except ValueError as error:
        raise BadRequest(
            f"the template is malformed: {error} (write a literal brace as {{{{ or }}}})",
            details=[{"field": "body"}],
        ) from error
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise BadRequest(
                f"placeholder {{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}} "
                "is not allowed: use {name} with a field name only",
                details=[{"field": "body", "placeholder": name}],
            )
        names.add(name)
    return names


def check_template(event_type: TemplateType, body: str) -> None:
    """400 naming each unknown and each missing placeholder."""
    used = placeholders(body)
    fields = FIELDS[event_type]
    unknown, missing = sorted(used - fields), sorted(fields - used)
    if unknown or missing:
        parts = [f"unknown placeholder {{{name}}}" for name in unknown]
        parts += [f"missing placeholder {{{name}}}" for name in missing]
        expected = ", ".join(f"{{{name}}}" for name in sorted(fields))
        raise BadRequest(
            f"{'; '.join(parts)}: an {event_type} template uses exactly {expected}",
            details=[{"field": "body", "unknown": unknown, "missing": missing}],
        )


def render(body: str, fields: dict[str, str]) -> str:
    return body.format(**fields)


class TemplateStore:
    """The changed templates (`notification_templates`); a missing row is the default."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def get(self, event_type: TemplateType, language: Language) -> TemplatePublic:
        row = self._db.execute(
            "SELECT body, updated_at, updated_by FROM notification_templates WHERE event_type = ? AND language = ?",
            (event_type, language),
        ).one()
        return _public(event_type, language, row)

    def all(self) -> list[TemplatePublic]:
        # A dozen rows at most: one read of the whole table.
        rows = {
            (row.event_type, row.language): row
            for row in self._db.execute(
                "SELECT event_type, language, body, updated_at, updated_by FROM notification_templates"
            )
        }
        return [
            _public(event_type, language, rows.get((event_type, language)))
            for event_type in TEMPLATE_TYPES
            for language in LANGUAGES
        ]

    def put(self, event_type: TemplateType, language: Language, body: str, admin_id: UUID) -> TemplatePublic:
        check_template(event_type, body)
        now = to_ms(utc_now())
        self._db.execute(
            "INSERT INTO notification_templates (event_type, language, body, updated_at, updated_by) "
            "VALUES (?, ?, ?, ?, ?)",
            (event_type, language, body, now, admin_id),
        )
        return _public(event_type, language, None, body=body, updated_at=now, updated_by=admin_id)

    def reset(self, event_type: TemplateType, language: Language) -> TemplatePublic:
        self._db.execute(
            "DELETE FROM notification_templates WHERE event_type = ? AND language = ?", (event_type, language)
        )
        return _public(event_type, language, None)

    def render(self, event_type: TemplateType, language: Language, fields: dict[str, str]) -> str:
        return render(self.get(event_type, language).body, fields)


def _public(
    event_type: TemplateType,
    language: Language,
    row: Any,
    *,
    body: str | None = None,
    updated_at: datetime | None = None,
    updated_by: UUID | None = None,
) -> TemplatePublic:
    if row is not None:
        body, updated_at, updated_by = row.body, aware(row.updated_at), row.updated_by
    return TemplatePublic(
        event_type=event_type,
        language=language,
        body=body if body is not None else DEFAULTS[(event_type, language)],
        placeholders=sorted(FIELDS[event_type]),
        is_default=body is None,
        updated_at=updated_at,
        updated_by=updated_by,
    )
