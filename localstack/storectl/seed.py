"""Demo catalog data, loaded through the API's bulk import as an admin."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx

from storectl.errors import StoreCtlError

CHUNK = 500  # products per bulk request: well under the API's body limit

# category -> (price range, manufacturers, product nouns)
CATALOG: dict[str, tuple[tuple[int, int], list[str], list[str]]] = {
    "electronics": (
        (15, 2500),
        ["Sony", "Samsung", "Lenovo", "Logitech", "Xiaomi", "Asus", "Philips"],
        ["Headphones", "Smartphone", "Laptop", "Monitor", "Keyboard", "Mouse", "Speaker", "Camera", "Tablet"],
    ),
    "books": (
        (5, 90),
        ["Penguin", "HarperCollins", "O'Reilly", "Eksmo", "AST", "Vintage"],
        ["Novel", "Cookbook", "Atlas", "Biography", "Field Guide", "Anthology", "Textbook", "Poetry Collection"],
    ),
    "clothing": (
        (8, 400),
        ["Levi's", "Uniqlo", "Zara", "Columbia", "Patagonia", "Gloria Jeans"],
        ["Jacket", "T-Shirt", "Jeans", "Sweater", "Raincoat", "Scarf", "Sneakers", "Hoodie"],
    ),
    "home": (
        (5, 900),
        ["IKEA", "Tefal", "Bosch", "Zwilling", "Brabantia", "Hoff"],
        ["Frying Pan", "Kettle", "Lamp", "Pillow", "Shelf", "Blender", "Towel Set", "Coffee Maker"],
    ),
    "sports": (
        (6, 1200),
        ["Adidas", "Nike", "Decathlon", "Wilson", "Salomon", "Garmin"],
        ["Football", "Yoga Mat", "Tennis Racket", "Dumbbell Set", "Running Shoes", "Bike Helmet", "Backpack"],
    ),
    "toys": (
        (4, 300),
        ["LEGO", "Hasbro", "Mattel", "Ravensburger", "Playmobil"],
        ["Puzzle", "Building Set", "Board Game", "Plush Bear", "Race Car", "Doll House", "Kite"],
    ),
    "beauty": (
        (3, 200),
        ["L'Oreal", "Nivea", "Garnier", "Clinique", "The Body Shop"],
        ["Shampoo", "Face Cream", "Lip Balm", "Perfume", "Sunscreen", "Hair Dryer", "Soap Set"],
    ),
    "grocery": (
        (1, 60),
        ["Nestle", "Barilla", "Lavazza", "Twinings", "Alpen Gold", "Heinz"],
        ["Coffee Beans", "Pasta", "Green Tea", "Chocolate", "Olive Oil", "Granola", "Honey"],
    ),
    "garden": (
        (4, 700),
        ["Gardena", "Fiskars", "Husqvarna", "Bosch", "Greenworks"],
        ["Hose", "Pruning Shears", "Lawn Mower", "Planter", "Seed Kit", "Watering Can", "Rake"],
    ),
    "automotive": (
        (5, 800),
        ["Bosch", "Michelin", "Castrol", "Philips", "Osram", "Thule"],
        ["Wiper Blades", "Motor Oil", "Headlight Bulb", "Roof Box", "Tire Inflator", "Floor Mats", "Jump Starter"],
    ),
}
ADJECTIVES = ["Classic", "Pro", "Compact", "Deluxe", "Eco", "Smart", "Ultra", "Mini", "Premium", "Essential", "Travel"]


def generate_products(count: int, seed: int = 2026) -> Iterator[dict[str, Any]]:
    """`count` plausible products spread over the categories, reproducibly."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    categories = list(CATALOG)
    for _ in range(count):
        category = rng.choice(categories)
        (low, high), manufacturers, nouns = CATALOG[category]
        adjective, noun, manufacturer = rng.choice(ADJECTIVES), rng.choice(nouns), rng.choice(manufacturers)
        model = f"{rng.choice('ABCDEFGHKLMNPRSTVXZ')}{rng.randint(1, 999)}"
        price = (Decimal(rng.randint(low * 100, high * 100)) / 100).quantize(Decimal("0.01"))
        yield {
            "name": f"{manufacturer} {adjective} {noun} {model}",
            "category": category,
            "price": str(price),
            "quantity": rng.randint(0, 500),
            "description": f"{adjective} {noun.lower()} by {manufacturer}, model {model}.",
            "manufacturer": manufacturer,
        }


def admin_token(api_url: str, username: str, password: str) -> str:
    response = httpx.post(f"{api_url}/user-api/login", json={"username": username, "password": password}, timeout=30)
    if response.status_code != 200:
        raise StoreCtlError(
            f"could not log in as {username!r} to seed the catalog ({response.status_code}: {response.text[:200]})",
            "pass an admin's credentials with --username/--password",
        )
    return str(response.json()["access_token"])


def load_products(
    api_url: str,
    token: str,
    products: list[dict[str, Any]],
    *,
    workers: int = 4,
    on_progress: Callable[[int], None] = lambda done: None,
) -> list[str]:
    """POST the products in chunks, `workers` requests at a time; returns the new
    products' ids in the order of `products`."""
    chunks = [products[start : start + CHUNK] for start in range(0, len(products), CHUNK)]
    headers = {"Authorization": f"Bearer {token}"}

    with httpx.Client(base_url=api_url, headers=headers, timeout=120) as client:

        def send(chunk: list[dict[str, Any]]) -> list[str]:
            response = client.post("/api/products/bulk", json={"products": chunk})
            if response.status_code != 201:
                raise StoreCtlError(f"bulk import failed ({response.status_code}): {response.text[:500]}")
            ids = [str(product_id) for product_id in response.json()["ids"]]
            on_progress(len(ids))
            return ids

        with ThreadPoolExecutor(max_workers=workers) as pool:
            return [product_id for ids in pool.map(send, chunks) for product_id in ids]
