"""Opt-in profiling of a function's invocations with cProfile.

Off by default: `profiled` then returns the handler itself, so profiling costs
nothing but one settings read per process. On (the function's service name in
STORE_PROFILE_FUNCTIONS, the template's ProfiledFunctions), every invocation
runs under cProfile and its stats go to the stack's profiles bucket as
`<service>/<UTC time>-<request id>.prof` (pstats' format: `snakeviz FILE`).
"""

from __future__ import annotations

import cProfile
import functools
import marshal
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from store.config import ProfilingSettings
from store.observability import logger

P = ParamSpec("P")
R = TypeVar("R")


def profile_key(service: str, request_id: str | None, now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{service}/{moment}-{request_id or uuid.uuid4()}.prof"


def stats_bytes(profile: cProfile.Profile) -> bytes:
    """The .prof file's content, as `Profile.dump_stats` writes it (no temp file)."""
    profile.create_stats()
    return marshal.dumps(profile.stats)


def profiled(handler: Callable[P, R]) -> Callable[P, R]:
    """Decorator of a Lambda handler `(event, context)`: cProfile each invocation when enabled."""
    settings = ProfilingSettings()
    if not settings.enabled or settings.profiles_bucket is None:
        return handler
    from store.aws import S3Objects  # noqa: PLC0415 - boto3 only where profiling is on

    bucket = S3Objects(settings.profiles_bucket)
    service = settings.powertools_service_name

    @functools.wraps(handler)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        profile = cProfile.Profile()
        try:
            return profile.runcall(handler, *args, **kwargs)
        finally:
            context = args[1] if len(args) > 1 else None
            key = profile_key(service, getattr(context, "aws_request_id", None))
            try:
                bucket.put(key, stats_bytes(profile))
            except Exception as error:  # a lost profile must not fail the request
                logger.warning("profile not stored", extra={"key": key, "error": repr(error)})

    return call
