"""Popular products with in-memory sales and products: counted at checkout,
ranked over the window, per category, cached for the TTL (hits and misses)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from fakes import World
from store.checkout import CheckoutCreate
from store.popular import PopularProducts, PopularQuery

# No Lambda context in unit tests: Powertools warns it cannot see the remaining time.
pytestmark = pytest.mark.filterwarnings("ignore:Couldn.t determine the remaining time left")


class Timer:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world() -> World:
    return World()


def _buy(world: World, *lines: tuple[uuid.UUID, int]) -> None:
    user = uuid.uuid4()
    for product_id, units in lines:
        world.carts.put(user, product_id, units)
    world.checkout.run(user, CheckoutCreate())


def _popular(world: World, timer: Timer | None = None) -> PopularProducts:
    return PopularProducts(world.sales, world.products, clock=world.clock, timer=timer or Timer())


def test_checkout_counts_units_and_the_ranking_follows_them(world: World) -> None:
    tea, cake = world.products.add(100, name="Tea"), world.products.add(100, name="Cake")
    soap = world.products.add(100, name="Soap")
    world.products.items[soap.id] = soap.model_copy(update={"category": "home"})
    _buy(world, (tea.id, 2), (cake.id, 1))
    _buy(world, (cake.id, 4))
    _buy(world, (soap.id, 3))
    answer, cached = _popular(world).top(PopularQuery())
    assert not cached
    assert [(item.product.name, item.units_ordered) for item in answer.items] == [("Cake", 5), ("Soap", 3), ("Tea", 2)]
    food, _ = _popular(world).top(PopularQuery(category="FOOD", limit=1))  # categories are lower-cased
    assert [(item.product.name, item.units_ordered) for item in food.items] == [("Cake", 5)]


def test_the_window_leaves_older_days_out_and_deleted_products_drop_out(world: World) -> None:
    old, new, gone = world.products.add(100, name="Old"), world.products.add(100, name="New"), world.products.add(9)
    _buy(world, (old.id, 9))
    world.clock.now += timedelta(days=3)
    _buy(world, (new.id, 1), (gone.id, 5))
    del world.products.items[gone.id]
    week, _ = _popular(world).top(PopularQuery(days=7))
    assert [item.product.name for item in week.items] == ["Old", "New"]
    two_days, _ = _popular(world).top(PopularQuery(days=2))
    assert [item.product.name for item in two_days.items] == ["New"]
    assert two_days.since == world.clock.now.date() - timedelta(days=1)


def test_answers_are_cached_for_the_ttl_and_hits_and_misses_are_counted(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    tea = world.products.add(100)
    _buy(world, (tea.id, 1))
    timer = Timer()
    popular = _popular(world, timer)
    capsys.readouterr()
    first, cached = popular.top(PopularQuery())
    assert (first.items[0].units_ordered, cached) == (1, False)
    _buy(world, (tea.id, 1))
    timer.now += 59
    second, cached = popular.top(PopularQuery())
    assert (second.items[0].units_ordered, cached) == (1, True)  # still the cached answer
    assert popular.top(PopularQuery(days=2))[1] is False  # another query, another entry
    timer.now += 2
    third, cached = popular.top(PopularQuery())
    assert (third.items[0].units_ordered, cached) == (2, False)
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "popular_products_cache" in line]
    assert [record["result"] for record in records] == ["miss", "hit", "miss", "miss"]


def test_a_failed_count_never_fails_the_checkout(world: World) -> None:
    tea = world.products.add(100)
    world.faults.fail("sales.record")
    _buy(world, (tea.id, 2))
    assert world.products.stock(tea.id) == 98  # the order was made
    assert _popular(world).top(PopularQuery())[0].items == []
