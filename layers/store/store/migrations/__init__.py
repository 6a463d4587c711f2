"""Versioned, idempotent schema migrations, applied at deploy.

Each `V<number>__<name>.cql` file runs once per keyspace, in version order, and
is recorded in `schema_migrations`. Every statement is also written to be safe to
re-run (IF NOT EXISTS), so a deploy that died half-way can simply be repeated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from cassandra.cluster import Session

from store.config import Settings

_FILE_NAME = re.compile(r"^V(\d{3})__([a-z0-9_]+)\.cql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def load_migrations() -> list[Migration]:
    migrations = []
    for entry in resources.files(__package__).iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None:
            continue
        text = "\n".join(
            line for line in entry.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("--")
        )
        statements = tuple(part.strip() for part in text.split(";") if part.strip())
        migrations.append(Migration(int(match.group(1)), match.group(2), statements))
    migrations.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in migrations]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions: {versions}")
    return migrations


def replication(settings: Settings) -> str:
    """The keyspace's replication: NetworkTopologyStrategy, replicas per data
    centre (the names and counts are validated by Settings: safe to splice)."""
    per_dc = ", ".join(f"'{dc}': {count}" for dc, count in settings.keyspace_replication.items())
    return f"{{'class': 'NetworkTopologyStrategy', {per_dc}}}"


def apply_migrations(session: Session, settings: Settings) -> list[Migration]:
    """Create the keyspace and apply what has not been applied; returns what ran."""
    keyspace = settings.cassandra_keyspace
    session.execute(f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = {replication(settings)}")
    session.set_keyspace(keyspace)
    session.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ( version int PRIMARY KEY, name text, applied_at timestamp)"
    )
    applied = {row.version for row in session.execute("SELECT version FROM schema_migrations")}
    record = session.prepare(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, toTimestamp(now()))"
    )
    ran = []
    for migration in load_migrations():
        if migration.version in applied:
            continue
        for statement in migration.statements:
            session.execute(statement)
        session.execute(record, (migration.version, migration.name))
        ran.append(migration)
    return ran
