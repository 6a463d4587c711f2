"""FastAPI dependencies of the catalog routes: the collaborators from the store's
wiring (overridable in tests with `app.dependency_overrides`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from store.catalog import ProductRepository
from store.popular import PopularProducts
from store.wiring import wiring


def _products() -> ProductRepository:
    return wiring().products


ProductsDep = Annotated[ProductRepository, Depends(_products)]


def _popular() -> PopularProducts:
    return wiring().popular


PopularDep = Annotated[PopularProducts, Depends(_popular)]
