"""Helpers for integration and end-to-end tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from storectl import stack
from storectl.emulator import aws_client
from storectl.instance import Instance

T = TypeVar("T")

# Template parameters of the test stack. The visibility timeout is small enough
# that a poison message reaches the DLQ within a minute.
TEST_PARAMETERS = {"EventQueueVisibilityTimeout": "15"}


class LocalStack:
    def __init__(self, instance: Instance, result: stack.UpResult) -> None:
        self.instance = instance
        self.outputs = result.outputs
        self.api_url = result.api_url
        self.timings = result.timings

    def client(self, service: str) -> Any:
        return aws_client(self.instance, service)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, timeout=30)


def eventually(probe: Callable[[], T | None], *, timeout: float = 60.0, interval: float = 0.5, what: str = "") -> T:
    """Poll `probe` until it returns something other than None (or falsy)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or probe.__name__}")
        time.sleep(interval)
