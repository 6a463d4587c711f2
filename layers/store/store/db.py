"""The Cassandra connection of a function process, opened lazily and kept warm.

A Lambda process serves many invocations, so the cluster connection is made on
first use and reused. A failed connect is not cached: the next request tries
again, so a function recovers by itself once Cassandra is back. A warm worker
whose driver has marked every node down (Cassandra restarted) would otherwise
wait for the driver's next reconnection attempt, up to 5 s, answering 503 in
between: it connects afresh instead, at most once a second.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from cassandra import (
    ConsistencyLevel,
    DriverException,
    OperationTimedOut,
    ReadTimeout,
    Unavailable,
    WriteTimeout,
    WriteType,
)
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable, ResponseFuture, Session
from cassandra.policies import DCAwareRoundRobinPolicy, ExponentialReconnectionPolicy, TokenAwarePolicy
from cassandra.query import BatchStatement, PreparedStatement
from opentelemetry import trace

from store.config import Settings, get_settings
from store.observability import metrics

_tracer = trace.get_tracer("store.db")

# Errors that mean "the database is not answering", as opposed to a bad query.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    NoHostAvailable,
    OperationTimedOut,
    ReadTimeout,
    WriteTimeout,
    Unavailable,
    ConnectionError,
)


RECONNECT_INTERVAL_SECONDS = 1.0  # fresh connects while every node is marked down


class CassandraUnavailable(Exception):
    """Cassandra cannot be reached; HTTP handlers answer 503."""


def outcome_unknown(error: BaseException) -> bool:
    """A write that timed out may have been applied (or, for a logged batch past
    its batch log, will be): its outcome must be read back, not guessed. Only
    a write that Cassandra refused before doing anything (no replica alive, no
    connection) certainly did not apply."""
    cause = error.__cause__ if isinstance(error, CassandraUnavailable) else error
    if isinstance(cause, WriteTimeout):
        return bool(cause.write_type != WriteType.BATCH_LOG)
    return isinstance(cause, OperationTimedOut)


def cassandra_credentials(settings: Settings) -> PlainTextAuthProvider | None:
    """Username and password from Secrets Manager (Powertools' cached read), or none."""
    arn = settings.cassandra_credentials_secret_arn
    if not arn:
        return None
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415 - boto3 only where configured

    secret = parameters.get_secret(arn, transform="json", max_age=3600)
    if not isinstance(secret, dict) or not {"username", "password"} <= secret.keys():
        raise CassandraUnavailable("the Cassandra credentials secret needs 'username' and 'password'")
    return PlainTextAuthProvider(username=str(secret["username"]), password=str(secret["password"]))


def cassandra_tls_context(settings: Settings) -> ssl.SSLContext | None:
    """TLS with certificate and host name checks (the system CAs, or the given CA file)."""
    if not settings.cassandra_tls:
        return None
    return ssl.create_default_context(cafile=settings.cassandra_tls_ca_file)


class Database:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._cluster: Cluster | None = None
        self._session: Session | None = None
        self._prepared: dict[str, PreparedStatement] = {}
        self._connected_at = 0.0

    @property
    def keyspace(self) -> str:
        return self._settings.cassandra_keyspace

    def session(self) -> Session:
        session = self._session
        if session is not None and not self._every_node_down():
            return session
        with self._lock:
            if self._session is not None and self._every_node_down() and self._may_reconnect():
                self._shutdown()
            if self._session is None:
                self._connected_at = time.monotonic()
                self._session = self._connect()
            return self._session

    def _every_node_down(self) -> bool:
        hosts = self._cluster.metadata.all_hosts() if self._cluster is not None else []
        return bool(hosts) and all(host.is_up is False for host in hosts)

    def _may_reconnect(self) -> bool:
        return time.monotonic() - self._connected_at >= RECONNECT_INTERVAL_SECONDS

    def _connect(self) -> Session:
        settings = self._settings
        profile = ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=settings.cassandra_local_dc)),
            request_timeout=settings.cassandra_request_timeout,
            # Reads and writes agree within the local data centre (auth, roles,
            # stock); compare-and-set rounds stay in it too.
            consistency_level=ConsistencyLevel.LOCAL_QUORUM,
            serial_consistency_level=ConsistencyLevel.LOCAL_SERIAL,
        )
        cluster = Cluster(
            settings.cassandra_contact_points,
            port=settings.cassandra_port,
            protocol_version=5,
            connect_timeout=settings.cassandra_connect_timeout,
            execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            # Retry a lost node soon (the default backs off to 10 minutes), so a
            # warm function serves again shortly after Cassandra is back.
            reconnection_policy=ExponentialReconnectionPolicy(base_delay=0.5, max_delay=5.0),
            auth_provider=cassandra_credentials(settings),
            ssl_context=cassandra_tls_context(settings),
        )
        try:
            session = cluster.connect(settings.cassandra_keyspace)
        except (*UNAVAILABLE_ERRORS, DriverException) as error:
            cluster.shutdown()
            raise CassandraUnavailable(f"cannot connect to Cassandra: {error}") from error
        self._cluster = cluster
        return session

    def prepare(self, cql: str) -> PreparedStatement:
        """Prepared once per process; every data query goes through here."""
        statement = self._prepared.get(cql)
        if statement is None:
            try:
                statement = self.session().prepare(cql)
            except UNAVAILABLE_ERRORS as error:
                raise CassandraUnavailable(str(error)) from error
            self._prepared[cql] = statement
        return statement

    def execute(
        self, statement: str | PreparedStatement | BatchStatement, params: tuple[Any, ...] = (), *, serial: bool = False
    ) -> Any:
        """Run one statement (CQL text is prepared first) and wait for its result.
        `serial`: a read that sees every compare-and-set that was accepted,
        even one whose answer was lost (reconciling an unknown outcome)."""
        return self.result(self.execute_async(statement, params, serial=serial))

    def execute_async(
        self, statement: str | PreparedStatement | BatchStatement, params: tuple[Any, ...] = (), *, serial: bool = False
    ) -> ResponseFuture:
        """Start a statement; pass the future to `result`. Lets callers read many
        partitions concurrently."""
        if isinstance(statement, str):
            statement = self.prepare(statement)
        try:
            if isinstance(statement, BatchStatement):
                future = self.session().execute_async(statement)
            elif serial:
                bound = statement.bind(params)
                bound.consistency_level = ConsistencyLevel.LOCAL_SERIAL
                future = self.session().execute_async(bound)
            else:
                future = self.session().execute_async(statement, params)
        except UNAVAILABLE_ERRORS as error:
            raise CassandraUnavailable(str(error)) from error
        future.span = _tracer.start_span(
            "cassandra_query",
            attributes={"db.system": "cassandra", "db.statement": _describe(statement)},
        )
        future.started_at = time.perf_counter()
        return future

    def execute_concurrently(self, cql: str, params: Sequence[tuple[Any, ...]]) -> list[Any]:
        """One statement with many parameter sets (e.g. one partition each), all in
        flight at once; results in the order of `params`."""
        statement = self.prepare(cql)
        futures = [self.execute_async(statement, values) for values in params]
        return [self.result(future) for future in futures]

    def result(self, future: ResponseFuture) -> Any:
        """Wait for a statement started by `execute_async`; records its span and duration."""
        try:
            return future.result()
        except UNAVAILABLE_ERRORS as error:
            raise CassandraUnavailable(str(error)) from error
        finally:
            future.span.end()
            metrics.add_metric(
                name="cassandra_query_duration_seconds",
                unit=MetricUnit.Seconds,
                value=time.perf_counter() - future.started_at,
            )

    def ping(self) -> None:
        """A real round trip; raises CassandraUnavailable when it fails."""
        self.execute("SELECT release_version FROM system.local")

    def close(self) -> None:
        with self._lock:
            self._shutdown()

    def _shutdown(self) -> None:
        # Statements prepared on the old cluster are unknown to a new one.
        if self._cluster is not None:
            self._cluster.shutdown()
        self._cluster = None
        self._session = None
        self._prepared.clear()


def _describe(statement: PreparedStatement | BatchStatement) -> str:
    if isinstance(statement, BatchStatement):
        return f"BATCH of {len(statement)} statements"
    return str(statement.query_string)[:300]


_database: Database | None = None


def get_database() -> Database:
    global _database  # noqa: PLW0603 - one connection pool per process, by design
    if _database is None:
        _database = Database(get_settings())
    return _database
