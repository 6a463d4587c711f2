"""Build step: merge the four HTTP functions' OpenAPI documents into the one the
API serves (`layers/store/store/schemas/openapi.json`). `storectl up` and
`storectl deploy` run it before `sam build`; `storectl openapi` runs it alone."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from storectl.instance import PROJECT_ROOT

# (function folder, its app module), in the order the document lists them.
HTTP_FUNCTIONS = (
    ("catalog", "catalog_api.main"),
    ("cart", "cart_api.main"),
    ("orders", "orders_api.main"),
    ("users", "users_api.main"),
)
DOCUMENT = PROJECT_ROOT / "layers" / "store" / "store" / "schemas" / "openapi.json"


def combined_document() -> dict[str, Any]:
    from store.openapi import merge  # noqa: PLC0415 - imports FastAPI, slow

    documents = []
    for folder, module in HTTP_FUNCTIONS:
        # Imported by name from its folder, as the Lambda runtime does.
        path = str(PROJECT_ROOT / "functions" / folder)
        if path not in sys.path:
            sys.path.append(path)
        documents.append(importlib.import_module(module).app.openapi())
    return merge(documents)


def write(target: Path = DOCUMENT) -> bool:
    """Write the document if it changed; True when it did."""
    from store.openapi import render  # noqa: PLC0415

    text = render(combined_document())
    if target.exists() and target.read_text() == text:
        return False
    target.write_text(text)
    return True
