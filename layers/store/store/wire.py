"""Request fields that accept exactly what their JSON schema says."""

from __future__ import annotations

from typing import Any

from pydantic import BeforeValidator


def _json_integer(value: Any) -> Any:
    # JSON Schema's integer is any whole number (3 and 3.0), never true or "3";
    # pydantic's lax int would take true and "3", its strict int would refuse 3.0.
    if isinstance(value, bool | str | bytes):
        raise ValueError("an integer is expected")
    return value


JsonInteger = BeforeValidator(_json_integer)

# What pydantic's strip_whitespace strips (Unicode White_Space), spelled out:
# `\s` means other characters to Python, Rust and JavaScript regexes.
WHITESPACE = r"\x09-\x0d\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# A stripped field that must not end up empty: some character that is not whitespace.
NOT_BLANK = rf"[^{WHITESPACE}]"
