"""Amounts of money in requests: a decimal string ("19.90") or a JSON number,
with a JSON schema that says exactly what is accepted, so that a schema-valid
request is never refused and nothing the schema refuses is accepted.

    Price = Annotated[Decimal, Amount("0.01", integer_digits=10)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Amount:
    """At least `minimum`, at most `integer_digits` digits before the point; two
    decimals always. A string must have two decimals at most (it is exact); a
    JSON number is rounded to cents (it is a binary float: 19.9 is 19.8999...)."""

    minimum: str
    integer_digits: int

    @property
    def lowest(self) -> Decimal:
        return Decimal(self.minimum)

    @property
    def highest(self) -> Decimal:
        return Decimal(10) ** self.integer_digits - CENT

    @property
    def pattern(self) -> str:
        # Zero is excluded by the pattern itself when the minimum is above it.
        positive = r"(?!0*(?:\.0*)?$)" if self.lowest > 0 else ""
        return rf"^{positive}[0-9]{{1,{self.integer_digits}}}(?:\.[0-9]{{1,2}})?$"

    def parse(self, value: Any) -> Decimal:
        if isinstance(value, str):
            if not re.fullmatch(self.pattern, value):
                raise ValueError(
                    f"a decimal string of up to {self.integer_digits} digits and 2 decimals is expected, e.g. 19.90"
                )
            amount = Decimal(value)
        elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
            if not amount.is_finite():
                raise ValueError("a finite amount is expected")
        else:
            raise ValueError("a decimal string (19.90) or a number is expected")
        if not self.lowest <= amount <= self.highest:
            raise ValueError(f"the amount must be between {self.lowest} and {self.highest}")
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            self.parse, serialization=core_schema.to_string_ser_schema(when_used="json")
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        if handler.mode == "serialization":
            return {"type": "string", "examples": ["19.90"]}
        return {
            "anyOf": [
                {"type": "number", "minimum": float(self.lowest), "maximum": float(self.highest)},
                {"type": "string", "pattern": self.pattern},
            ],
            "examples": ["19.90"],
        }
