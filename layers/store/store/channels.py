"""Notification channels beyond the inbox: email and SMS.

A channel is best effort: its failure is logged and counted
(`notifications_sent_total` by channel and outcome) but does not fail the event,
whose inbox entry is already written (a retry would not resend, the event is
claimed). A user gets a channel only when they have its address. The channels
themselves are AWS adapters (`store.aws`: SES email, SNS SMS).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from store.observability import count, logger
from store.ports import Channel
from store.users import User

SUBJECTS = {"en": "Your order", "ru": "Ваш заказ"}

# Where each channel sends to: a user without that address gets nothing on it.
ADDRESSES: dict[str, Callable[[User], str | None]] = {
    "email": lambda user: user.email,
    "sms": lambda user: user.phone,
}


def send_all(channels: Sequence[Channel], user: User, message: str, language: str) -> dict[str, str]:
    """Send through every channel the user has an address for; the outcome of each."""
    outcomes: dict[str, str] = {}
    for channel in channels:
        address = ADDRESSES[channel.name](user)
        if not address:
            continue
        try:
            channel.send(address, SUBJECTS.get(language, SUBJECTS["en"]), message)
            outcomes[channel.name] = "sent"
        except Exception as error:
            outcomes[channel.name] = "failed"
            logger.warning("notification channel failed", extra={"channel": channel.name, "error": repr(error)})
        count("notifications_sent_total", channel=channel.name, outcome=outcomes[channel.name])
    return outcomes
