"""Opt-in profiling of a function's invocations.

Off by default: `profiled` then returns the handler itself, so profiling costs
nothing but one settings read per process. On (the function's service name in
STORE_PROFILE_FUNCTIONS, the template's ProfiledFunctions), every invocation
is profiled and its stats go to the stack's profiles bucket as
`<service>/<UTC time>-<request id>.prof`, in cProfile's pstats format
(`snakeviz FILE`, `python -m pstats FILE`).

The profiler is yappi, not cProfile: cProfile sees only the thread that
started it, and FastAPI runs the sync routes in worker threads, so a cProfile
of an HTTP invocation misses the route's own code. yappi profiles every thread
(wall-clock time, like cProfile's default timer) and writes the same format.
"""

from __future__ import annotations

import functools
import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

from store.config import ProfilingSettings
from store.observability import logger

P = ParamSpec("P")
R = TypeVar("R")


def profile_key(service: str, request_id: str | None, now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{service}/{moment}-{request_id or uuid.uuid4()}.prof"


def profiled(handler: Callable[P, R]) -> Callable[P, R]:
    """Decorator of a Lambda handler `(event, context)`: profile each invocation when enabled."""
    settings = ProfilingSettings()
    if not settings.enabled or settings.profiles_bucket is None:
        return handler
    import yappi  # noqa: PLC0415 - only where profiling is on

    from store.aws import S3Objects  # noqa: PLC0415 - boto3 likewise

    bucket = S3Objects(settings.profiles_bucket)
    service = settings.powertools_service_name
    yappi.set_clock_type("wall")

    @functools.wraps(handler)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        yappi.clear_stats()
        yappi.start(builtins=False, profile_threads=True)
        try:
            return handler(*args, **kwargs)
        finally:
            yappi.stop()
            context = args[1] if len(args) > 1 else None
            key = profile_key(service, getattr(context, "aws_request_id", None))
            try:
                bucket.put(key, _pstats_bytes(yappi.get_func_stats()))
            except Exception as error:  # a lost profile must not fail the request
                logger.warning("profile not stored", extra={"key": key, "error": repr(error)})
            yappi.clear_stats()

    return call


def _pstats_bytes(stats: object) -> bytes:
    """yappi's stats as a pstats (.prof) file's content; it writes only to a path."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "profile.prof"
        stats.save(str(path), type="pstat")  # type: ignore[attr-defined]
        return path.read_bytes()
