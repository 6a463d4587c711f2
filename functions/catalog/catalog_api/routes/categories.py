"""Categories with their product counts."""

from __future__ import annotations

from fastapi import APIRouter

from catalog_api.dependencies import ProductsDep
from store.auth import CurrentUser
from store.catalog import CategoryPublic
from store.observability import MetricUnit, count, observe
from store.paging import Page

router = APIRouter(prefix="/categories", tags=["categories"])


@router.get("", response_model=Page[CategoryPublic])
def list_categories(_: CurrentUser, products: ProductsDep) -> Page[CategoryPublic]:
    """Every category with products, with its count: always one page."""
    categories = products.categories()
    for category in categories:
        count("products_per_category", value=category.product_count, category=category.name)
    observe("products_total", MetricUnit.Count, sum(category.product_count for category in categories))
    return Page(items=categories, next_cursor=None)
