"""Production Cassandra settings: credentials from Secrets Manager, TLS, consistency."""

from __future__ import annotations

import ssl
from typing import Any

import pytest
from aws_lambda_powertools.utilities import parameters
from cassandra import ConsistencyLevel
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT

from store import db
from store.config import Settings


def test_no_credentials_and_no_tls_locally() -> None:
    assert db.cassandra_credentials(Settings()) is None
    assert db.cassandra_tls_context(Settings()) is None


def test_credentials_come_from_the_named_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, dict[str, Any]]] = []

    def get_secret(name: str, **options: Any) -> dict[str, str]:
        asked.append((name, options))
        return {"username": "store_app", "password": "from-secrets-manager"}

    monkeypatch.setattr(parameters, "get_secret", get_secret)
    provider = db.cassandra_credentials(Settings(cassandra_credentials_secret_arn="arn:secret:cassandra"))
    assert isinstance(provider, PlainTextAuthProvider)
    assert (provider.username, provider.password) == ("store_app", "from-secrets-manager")
    assert asked[0][0] == "arn:secret:cassandra"
    assert asked[0][1]["transform"] == "json"


def test_a_secret_without_username_or_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parameters, "get_secret", lambda name, **options: {"user": "x"})
    with pytest.raises(db.CassandraUnavailable, match="username"):
        db.cassandra_credentials(Settings(cassandra_credentials_secret_arn="arn:secret:cassandra"))


def test_tls_checks_certificates_and_host_names() -> None:
    context = db.cassandra_tls_context(Settings(cassandra_tls=True))
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_the_session_reads_and_writes_at_local_quorum_and_serialises_locally(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    class _Cluster:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            seen.update(kwargs)

        def connect(self, keyspace: str) -> object:
            return object()

    monkeypatch.setattr(db, "Cluster", _Cluster)
    db.Database(Settings()).session()
    profile = seen["execution_profiles"][EXEC_PROFILE_DEFAULT]
    assert profile.consistency_level == ConsistencyLevel.LOCAL_QUORUM
    assert profile.serial_consistency_level == ConsistencyLevel.LOCAL_SERIAL
    assert seen["auth_provider"] is None
    assert seen["ssl_context"] is None
