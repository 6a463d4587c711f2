"""Display names of the order statuses, in English and Russian (the seeds'
ORDER_STATUSES), and the language a client asks for with Accept-Language."""

from __future__ import annotations

from typing import Literal, get_args

from store.orders import OrderStatus

Language = Literal["en", "ru"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "en"

STATUS_NAMES: dict[Language, dict[OrderStatus, str]] = {
    "en": {
        "CREATED": "Created",
        "PROCESSING": "Processing",
        "SHIPPING": "Shipping",
        "DELIVERED": "Delivered",
        "CANCELLED": "Cancelled",
    },
    "ru": {
        "CREATED": "Создан",
        "PROCESSING": "Обрабатывается",
        "SHIPPING": "Доставляется",
        "DELIVERED": "Доставлен",
        "CANCELLED": "Отменен",
    },
}

MAX_HEADER = 500  # longer headers are not negotiated (the default answers)


def negotiate_language(header: str | None) -> Language:
    """The supported language the client prefers most (RFC 9110 weights; the
    primary subtag decides: `ru-RU` is `ru`); English when none is supported,
    the header is absent, or it cannot be read."""
    if not header or len(header) > MAX_HEADER:
        return DEFAULT_LANGUAGE
    choices: list[tuple[float, int, Language]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        primary = tag.strip().lower().split("-")[0]
        language = DEFAULT_LANGUAGE if primary == "*" else primary
        if language in LANGUAGES and 0 < weight <= 1:
            choices.append((-weight, position, language))
    return min(choices)[2] if choices else DEFAULT_LANGUAGE
