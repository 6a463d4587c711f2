"""One validated settings class for every function, read from the environment."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    # "local" relaxes nothing about behaviour; it only allows demo credentials.
    store_stage: Literal["local", "aws"] = "local"
    cassandra_hosts: str = "127.0.0.1"
    cassandra_port: int = Field(default=9042, ge=1, le=65535)
    cassandra_keyspace: str = "store"
    cassandra_local_dc: str = "datacenter1"
    cassandra_replication_factor: int = Field(default=1, ge=1)
    cassandra_connect_timeout: float = Field(default=2.0, gt=0)
    cassandra_request_timeout: float = Field(default=5.0, gt=0)

    @field_validator("cassandra_keyspace")
    @classmethod
    def _keyspace_is_identifier(cls, value: str) -> str:
        # The keyspace name is spliced into DDL, which cannot take bind markers.
        if not _IDENTIFIER.match(value):
            raise ValueError("must be a lower-case CQL identifier (letters, digits, _)")
        return value

    @property
    def cassandra_contact_points(self) -> list[str]:
        return [host.strip() for host in self.cassandra_hosts.split(",") if host.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
