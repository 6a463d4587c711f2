from __future__ import annotations

import pytest
from pydantic import ValidationError

from store.config import Settings
from store.migrations import load_migrations, replication


def test_migrations_are_numbered_in_order_and_parse_into_statements() -> None:
    migrations = load_migrations()
    versions = [migration.version for migration in migrations]
    assert versions == sorted(versions)
    assert versions[0] == 1
    assert len(set(versions)) == len(versions)
    for migration in migrations:
        assert migration.statements
        for statement in migration.statements:
            assert "--" not in statement
            # Re-runnable: a deploy that died half-way can be repeated.
            assert "IF NOT EXISTS" in statement.upper() or statement.upper().startswith("ALTER")


@pytest.mark.parametrize("keyspace", ["Store", "store; DROP KEYSPACE x", "1store", ""])
def test_keyspace_must_be_a_plain_identifier(keyspace: str) -> None:
    with pytest.raises(ValidationError):
        Settings(cassandra_keyspace=keyspace)


def test_the_keyspace_uses_network_topology_with_rf_1_in_the_local_dc_by_default() -> None:
    assert replication(Settings()) == "{'class': 'NetworkTopologyStrategy', 'datacenter1': 1}"
    several = Settings(cassandra_replication="eu-west:3,eu-central:2")
    assert replication(several) == "{'class': 'NetworkTopologyStrategy', 'eu-west': 3, 'eu-central': 2}"


@pytest.mark.parametrize("value", ["dc1:3;DROP KEYSPACE store", "dc1", "dc 1:3", "'dc1':3"])
def test_replication_settings_that_could_break_the_ddl_are_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        Settings(cassandra_replication=value)
