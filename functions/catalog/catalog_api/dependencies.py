"""FastAPI dependencies of the catalog routes (overridable in tests)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from store.catalog import ProductRepository
from store.db import Database, get_database


def _products(database: Annotated[Database, Depends(get_database)]) -> ProductRepository:
    return ProductRepository(database)


Products = Annotated[ProductRepository, Depends(_products)]
