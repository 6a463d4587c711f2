"""Circuit breakers (pybreaker) around dependencies that can die: the profile's
sources and the outbox relay's publish. After `breaker_fail_max` failures in a
row a breaker opens and calls fail at once (CircuitBreakerError) instead of
waiting on a dead dependency; after `breaker_reset_seconds` one trial call goes
through, and its success closes the breaker again.

Each breaker lives in its process (one per function worker): workers learn of
an outage on their own, which costs `breaker_fail_max` failed calls each.
Every transition is a log line and two EMF metrics: the gauge
`circuit_breaker_state` (0 closed, 1 half-open, 2 open) and the counter
`circuit_breaker_transitions_total` (labelled with the new state).
"""

from __future__ import annotations

import threading

import pybreaker

from store.config import Settings, get_settings
from store.observability import MetricUnit, count, logger, observe

__all__ = ["STATE_VALUES", "CircuitBreakerError", "breaker", "reset_breakers"]

CircuitBreakerError = pybreaker.CircuitBreakerError
STATE_VALUES = {pybreaker.STATE_CLOSED: 0, pybreaker.STATE_HALF_OPEN: 1, pybreaker.STATE_OPEN: 2}


class _Transitions(pybreaker.CircuitBreakerListener):
    """Log and measure each state change."""

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        name = cb.name or "unnamed"
        old = old_state.name if old_state is not None else None
        log = logger.warning if new_state.name == pybreaker.STATE_OPEN else logger.info
        log(
            f"circuit breaker {name}: {old} -> {new_state.name}",
            extra={"breaker": name, "from_state": old, "to_state": new_state.name, "failures": cb.fail_counter},
        )
        observe("circuit_breaker_state", MetricUnit.Count, STATE_VALUES[new_state.name], breaker=name)
        count("circuit_breaker_transitions_total", breaker=name, state=new_state.name)


_BREAKERS: dict[str, pybreaker.CircuitBreaker] = {}
_LOCK = threading.Lock()


def breaker(
    name: str, settings: Settings | None = None, *, outages: tuple[type[BaseException], ...] = (Exception,)
) -> pybreaker.CircuitBreaker:
    """The process's breaker called `name` (created on first use, with the settings'
    thresholds). Only errors of the `outages` types count as failures; others
    (a bug, one bad record) pass through without opening it for every caller."""
    with _LOCK:
        found = _BREAKERS.get(name)
        if found is None:
            settings = settings or get_settings()
            found = _BREAKERS[name] = pybreaker.CircuitBreaker(
                fail_max=settings.breaker_fail_max,
                reset_timeout=settings.breaker_reset_seconds,
                exclude=[lambda error: not isinstance(error, outages)],
                listeners=[_Transitions()],
                name=name,
            )
        return found


def reset_breakers() -> None:
    """Forget every breaker (tests start each from closed)."""
    with _LOCK:
        _BREAKERS.clear()
