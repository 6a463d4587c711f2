"""Notification channels beyond the inbox: email (SES) and SMS (SNS).

A channel is best effort: its failure is logged and counted
(`notifications_sent_total` by channel and outcome) but does not fail the event,
whose inbox entry is already written (a retry would not resend, the event is
claimed). A user gets a channel only when they have its address.
"""

from __future__ import annotations

from typing import Protocol

from store.observability import count, logger
from store.users import User

SUBJECTS = {"en": "Your order", "ru": "Ваш заказ"}


class Channel(Protocol):
    name: str

    def address(self, user: User) -> str | None: ...

    def send(self, address: str, subject: str, message: str) -> None: ...


class SesEmail:
    name = "email"

    def __init__(self, sender: str) -> None:
        import boto3  # noqa: PLC0415 - slow import, only in the notifications consumer

        self._sender = sender
        self._client = boto3.client("ses")

    def address(self, user: User) -> str | None:
        return user.email

    def send(self, address: str, subject: str, message: str) -> None:
        self._client.send_email(
            Source=self._sender,
            Destination={"ToAddresses": [address]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": message, "Charset": "UTF-8"}},
            },
        )


class SnsSms:
    name = "sms"

    def __init__(self) -> None:
        import boto3  # noqa: PLC0415

        self._client = boto3.client("sns")

    def address(self, user: User) -> str | None:
        return user.phone

    def send(self, address: str, subject: str, message: str) -> None:
        self._client.publish(PhoneNumber=address, Message=message)


def send_all(channels: list[Channel], user: User, message: str, language: str) -> dict[str, str]:
    """Send through every channel the user has an address for; the outcome of each."""
    outcomes: dict[str, str] = {}
    for channel in channels:
        address = channel.address(user)
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
