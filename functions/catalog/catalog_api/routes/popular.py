"""The most ordered products over the last days (any signed-in user)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from catalog_api.dependencies import PopularDep
from store.auth import CurrentUser
from store.popular import PopularPublic, PopularQuery

router = APIRouter(prefix="/products", tags=["products"])


@router.get("/popular", response_model=PopularPublic)
def popular_products(
    _: CurrentUser, popular: PopularDep, query: Annotated[PopularQuery, Query()], response: Response
) -> PopularPublic:
    """Products by units ordered over the last `days` days (today included, UTC),
    overall or in one `category`; products deleted since are left out. Answers
    are cached for 60 s per function worker: `X-Cache` says `hit` or `miss`."""
    answer, cached = popular.top(query)
    response.headers["X-Cache"] = "hit" if cached else "miss"
    return answer
