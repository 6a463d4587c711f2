"""One validated settings class for every function, read from the environment.

This is the only module that reads the environment: everything else receives
its settings (a unit test checks the source tree for `os.environ`)."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,47}$")

# The signing key used when none is configured, in local mode only. Anything
# that looks like it (or like a template default) is refused outside local mode.
LOCAL_JWT_SECRET = "local-only-insecure-jwt-secret-do-not-deploy"  # noqa: S105 - a known placeholder, by design
_PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "your-secret-key", LOCAL_JWT_SECRET}
MIN_JWT_SECRET_LENGTH = 32


class SettingsError(ValueError):
    """The configuration cannot run this stage; the function must not start."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    # "local" relaxes nothing about behaviour; it only allows demo credentials.
    store_stage: Literal["local", "aws"] = "local"
    cassandra_hosts: str = "127.0.0.1"
    cassandra_port: int = Field(default=9042, ge=1, le=65535)
    cassandra_keyspace: str = "store"
    cassandra_local_dc: str = Field(default="datacenter1", pattern=r"^[A-Za-z0-9_.-]+$")
    cassandra_replication_factor: int = Field(default=1, ge=1)
    # NetworkTopologyStrategy per data centre, e.g. "eu-west:3,eu-central:3";
    # empty: cassandra_replication_factor in cassandra_local_dc (1 locally).
    cassandra_replication: str = Field(default="", pattern=r"^([A-Za-z0-9_.-]+:[0-9]+(,[A-Za-z0-9_.-]+:[0-9]+)*)?$")
    # Production clusters: username/password from a Secrets Manager secret
    # ({"username": ..., "password": ...}) and TLS; both off locally.
    cassandra_credentials_secret_arn: str | None = None
    cassandra_tls: bool = False
    cassandra_tls_ca_file: str | None = None
    cassandra_connect_timeout: float = Field(default=2.0, gt=0)
    cassandra_request_timeout: float = Field(default=5.0, gt=0)

    # Tokens. The signing keys are read at run time from the Secrets Manager
    # secret named here (store.signing_keys); the environment never holds them.
    jwt_secret_arn: str | None = None
    jwt_key_cache_seconds: int = Field(default=300, ge=1, le=3600)
    # A fixed key: unit tests and local runs without a secret only.
    jwt_secret: SecretStr | None = None
    jwt_issuer: str = Field(default="product-store", min_length=1)
    jwt_audience: str = Field(default="product-store-api", min_length=1)
    jwt_lifetime_minutes: int = Field(default=30, ge=1, le=24 * 60)

    # Browser origins allowed to call the API (CORS), comma-separated; empty: none.
    cors_allowed_origins: str = ""
    # Swagger UI and the OpenAPI document: "auto" serves them in local mode only.
    api_docs: Literal["auto", "on", "off"] = "auto"

    # Requests. API Gateway caps bodies at 10 MB; the functions need far less.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    # Failed-login throttling: this many failures within the window -> 429.
    login_max_failures_per_username: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=5, ge=1)
    login_failure_window_seconds: int = Field(default=300, ge=1)
    # Past the free attempts, each one waits base * 2^n seconds after the previous,
    # at most max (store.throttle): how long an attacker can keep a user out.
    throttle_base_delay_seconds: float = Field(default=2.0, gt=0)
    throttle_max_delay_seconds: float = Field(default=60.0, gt=0)
    registrations_per_ip_per_hour: int = Field(default=20, ge=1)

    # Order events (SNS `order-events`), published from the outbox. Unset: events
    # stay pending in the outbox (tests use that to take SNS away).
    order_events_topic_arn: str | None = None

    # How long a checkout's reservation may stay without its order before the
    # sweeper gives the stock back (store.reservations).
    checkout_intent_seconds: int = Field(default=120, ge=20, le=3600)

    # The order lifecycle: the state machine the orders and starter functions
    # control, and the factor its waits are multiplied by (0.02 in tests).
    order_state_machine_arn: str | None = None
    order_time_scale: float = Field(default=1.0, gt=0, le=100)

    # Notifications: the messages' language and the SES sender (no email channel when unset).
    notifications_language: Literal["en", "ru"] = "en"
    notifications_sender: str | None = None
    # Channel messages (SMS, email) per user per hour; past it they are dropped.
    notifications_per_user_per_hour: int = Field(default=10, ge=1)

    # Circuit breakers (store.breakers): this many failures in a row open one;
    # after this many seconds it lets one trial call through.
    breaker_fail_max: int = Field(default=5, ge=1)
    breaker_reset_seconds: float = Field(default=30.0, gt=0, le=3600)

    # The simulated payment provider's rules (see store.payments): comma-separated cents.
    payment_decline_above: Decimal = Field(default=Decimal("100000.00"), gt=0)
    payment_decline_cents: str = Field(default="13", pattern=r"^[0-9, ]*$")
    payment_transient_cents: str = Field(default="42", pattern=r"^[0-9, ]*$")
    payment_transient_failures: int = Field(default=2, ge=0)

    # The initial admin, created at deploy (storectl migrate) when both are set.
    bootstrap_admin_username: str | None = None
    bootstrap_admin_password: SecretStr | None = None

    @field_validator("cassandra_keyspace")
    @classmethod
    def _keyspace_is_identifier(cls, value: str) -> str:
        # The keyspace name is spliced into DDL, which cannot take bind markers.
        if not _IDENTIFIER.match(value):
            raise ValueError("must be a lower-case CQL identifier (letters, digits, _)")
        return value

    @model_validator(mode="after")
    def _real_secret_outside_local(self) -> Settings:
        if self.store_stage != "local" and not self.jwt_secret_arn:
            secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
            if secret.strip().lower() in _PLACEHOLDER_SECRETS or len(secret) < MIN_JWT_SECRET_LENGTH:
                raise SettingsError(
                    f"JWT_SECRET_ARN is missing (and JWT_SECRET is a placeholder or shorter than "
                    f"{MIN_JWT_SECRET_LENGTH} characters); stage {self.store_stage!r} needs a real signing key "
                    "(the Secrets Manager secret of the template)"
                )
        return self

    @property
    def jwt_signing_key(self) -> str:
        # Only local mode can get here without a configured secret (see above).
        return self.jwt_secret.get_secret_value() if self.jwt_secret else LOCAL_JWT_SECRET

    @property
    def cors_origins(self) -> list[str]:
        return [origin.strip() for origin in self.cors_allowed_origins.split(",") if origin.strip()]

    @property
    def api_docs_enabled(self) -> bool:
        return self.api_docs == "on" or (self.api_docs == "auto" and self.store_stage == "local")

    @property
    def keyspace_replication(self) -> dict[str, int]:
        """Replicas per data centre for NetworkTopologyStrategy."""
        if not self.cassandra_replication:
            return {self.cassandra_local_dc: self.cassandra_replication_factor}
        pairs = (item.split(":") for item in self.cassandra_replication.split(","))
        return {dc.strip(): int(count) for dc, count in pairs}

    @property
    def cassandra_contact_points(self) -> list[str]:
        return [host.strip() for host in self.cassandra_hosts.split(",") if host.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


class TracingSettings(BaseSettings):
    """The standard OpenTelemetry settings store.tracing acts on (the exporters
    read their own endpoint settings). Separate from Settings: tracing is set up
    before, and whatever, the rest of the configuration holds."""

    model_config = SettingsConfigDict(extra="ignore")

    otel_sdk_disabled: bool = False
    otel_traces_exporter: Literal["none", "zipkin", "otlp", "console", ""] = "none"
    otel_service_name: str | None = None
    # The function's name in the template, as its logs and metrics carry it.
    powertools_service_name: str | None = None
    aws_lambda_function_name: str | None = None


class ProfilingSettings(BaseSettings):
    """Opt-in profiling (store.profiling): the functions named in
    STORE_PROFILE_FUNCTIONS (their service names, or `all`) profile each
    invocation and put the .prof file into PROFILES_BUCKET."""

    model_config = SettingsConfigDict(extra="ignore")

    store_profile_functions: str = ""
    profiles_bucket: str | None = None
    powertools_service_name: str = "store"

    @property
    def enabled(self) -> bool:
        names = {name.strip() for name in self.store_profile_functions.split(",") if name.strip()}
        return bool(self.profiles_bucket) and bool(names & {"all", self.powertools_service_name})
