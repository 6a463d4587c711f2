"""The audit log of critical operations, admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from store.audit import AuditPage, AuditQuery
from store.auth import AdminUser
from store.openapi import errors
from users_api.dependencies import AuditDep

router = APIRouter(prefix="/audit", tags=["admin"])


@router.get("", response_model=AuditPage, responses=errors(400))
def read_audit(_: AdminUser, audit: AuditDep, query: Annotated[AuditQuery, Query()]) -> AuditPage:
    """Product creations, updates, deletions and stock changes, role changes and
    user deletions, newest first; filter by `actor` (username), `action` and
    time range (`since`, `until`: ISO 8601, default the last 30 days; 400 when
    `since` is after `until` or the range is over 366 days). A page reads at
    most 5000 records: with a narrow filter it may hold fewer than `limit`
    entries and still have a `next_cursor`."""
    return audit.page(query)
