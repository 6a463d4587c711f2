"""The one paging envelope of every list route, and its opaque cursors.

Every route that answers a collection answers `{"items": [...], "next_cursor":
...}`; `next_cursor` is null on the last page, and a client passes it back as
the `cursor` query parameter for the next one. A cursor is URL-safe base64 of
a small JSON object that only the route that made it understands; anything
that is not one (tampered, truncated, from another listing) is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from store.errors import BadRequest

T = TypeVar("T")

MAX_CURSOR_LENGTH = 1000


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


def _no_constants(name: str) -> Any:
    # JSON has no NaN or Infinity; Python's json accepts them unless told not to.
    raise ValueError(f"{name} is not a JSON value")


def encode_cursor(fields: dict[str, Any]) -> str:
    raw = json.dumps(fields, separators=(",", ":"), allow_nan=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The fields of a cursor made by `encode_cursor`; 400 for anything else."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)), parse_constant=_no_constants)
        if not isinstance(data, dict):
            raise TypeError("not an object")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise invalid_cursor() from error
    return data


def invalid_cursor() -> BadRequest:
    return BadRequest(
        "cursor is not valid: pass the next_cursor of the previous page of the same listing",
        details={"parameter": "cursor"},
    )
