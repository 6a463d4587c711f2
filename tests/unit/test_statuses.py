"""Accept-Language negotiation for the status names."""

from __future__ import annotations

import pytest

from store.orders import STATUSES
from store.statuses import STATUS_NAMES, negotiate_language


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("ru", "ru"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
        ("en-GB,ru;q=0.5", "en"),
        ("de-DE,de;q=0.9", "en"),  # unknown: English
        ("de, ru;q=0.3", "ru"),  # the best supported one
        ("en;q=0.2, RU;q=0.8", "ru"),
        ("ru;q=0, en;q=0.1", "en"),  # q=0 means "not this one"
        ("ru;q=abc", "en"),  # unreadable weight: not chosen
        ("*", "en"),
        ("fr, *;q=0.5", "en"),
        ("ru;q=0.5, en;q=0.5", "ru"),  # a tie goes to the first
        ("ru" + ", x" * 400, "en"),  # absurdly long: not negotiated
    ],
)
def test_negotiation(header: str | None, language: str) -> None:
    assert negotiate_language(header) == language


def test_every_status_has_a_name_in_every_language() -> None:
    for names in STATUS_NAMES.values():
        assert list(names) == list(STATUSES)
    assert STATUS_NAMES["ru"]["CREATED"] == "Создан"
    assert STATUS_NAMES["ru"]["PROCESSING"] == "Обрабатывается"
