"""Write order_event.schema.json from the models: `python -m store.schemas.generate`."""

from __future__ import annotations

from importlib import resources

from store.schemas import ORDER_EVENT_SCHEMA, order_event_schema, render

if __name__ == "__main__":
    with resources.as_file(resources.files("store.schemas").joinpath(ORDER_EVENT_SCHEMA)) as file:
        file.write_text(render(order_event_schema()))
        print(f"wrote {file}")
