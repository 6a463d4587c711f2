"""A warm worker whose driver has marked every node down connects afresh,
at most once per interval, instead of answering 503 until the driver's own
reconnection comes round."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from store import db
from store.config import Settings


@dataclass
class _Host:
    is_up: bool | None


@dataclass
class _Metadata:
    hosts: list[_Host]

    def all_hosts(self) -> list[_Host]:
        return self.hosts


@dataclass
class _Cluster:
    metadata: _Metadata
    shut_down: bool = False

    def shutdown(self) -> None:
        self.shut_down = True


@dataclass
class _Connections:
    """Stands in for `Database._connect`: each call opens a new fake cluster."""

    database: db.Database
    clusters: list[_Cluster] = field(default_factory=list)

    def __call__(self) -> Any:
        cluster = _Cluster(_Metadata([_Host(is_up=True)]))
        self.clusters.append(cluster)
        self.database._cluster = cluster
        return f"session {len(self.clusters)}"


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch) -> tuple[db.Database, _Connections]:
    database = db.Database(Settings(store_stage="local"))
    connections = _Connections(database)
    monkeypatch.setattr(database, "_connect", connections)
    return database, connections


def test_a_live_session_is_reused(database: tuple[db.Database, _Connections]) -> None:
    store, connections = database
    assert store.session() == store.session() == "session 1"
    assert len(connections.clusters) == 1


def test_every_node_down_reconnects_afresh(database: tuple[db.Database, _Connections]) -> None:
    store, connections = database
    store.session()
    store._prepared["SELECT 1"] = object()
    connections.clusters[0].metadata.hosts[0].is_up = False
    store._connected_at -= db.RECONNECT_INTERVAL_SECONDS  # the last connect is an interval old

    assert store.session() == "session 2"
    assert connections.clusters[0].shut_down
    assert store._prepared == {}  # statements prepared on the old cluster are unknown to the new one


def test_reconnects_at_most_once_per_interval(database: tuple[db.Database, _Connections]) -> None:
    store, connections = database
    store.session()
    connections.clusters[0].metadata.hosts[0].is_up = False

    assert store.session() == "session 1"  # the old session answers (503) until the interval has passed
    assert len(connections.clusters) == 1


def test_a_node_of_unknown_state_is_not_down(database: tuple[db.Database, _Connections]) -> None:
    store, connections = database
    store.session()
    connections.clusters[0].metadata.hosts.append(_Host(is_up=None))
    connections.clusters[0].metadata.hosts[0].is_up = False
    assert store.session() == "session 1"
