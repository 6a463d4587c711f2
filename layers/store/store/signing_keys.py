"""The token signing keys: read from Secrets Manager at run time, cached, rotatable.

The functions' environment holds only the secret's ARN (JWT_SECRET_ARN); the
key material is fetched with Powertools Parameters (`get_secret`), which keeps
it in memory for `jwt_key_cache_seconds`, so a token check costs no extra
round trip. The secret is either a plain string (the key the template
generates at the first deploy, key id `initial`) or, once rotated
(`storectl rotate-jwt-key`), a key ring:

    {"keys": [{"kid": "k-...", "key": "...", "retired_at": null},
              {"kid": "initial", "key": "...", "retired_at": "2026-11-30T04:00:00+00:00"}]}

The one key without `retired_at` signs; a retired key still verifies until
`retired_at + token lifetime` (no token it signed can still be valid after
that), then it is refused and dropped at the next rotation.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from store.config import MIN_JWT_SECRET_LENGTH, Settings

INITIAL_KID = "initial"
LOCAL_KID = "local"
# A token naming a key this process does not know makes it fetch the secret
# again (a rotation it has not seen yet), but at most this often: forged key
# ids must not turn into one Secrets Manager call per request.
_REFETCH_SECONDS = 10.0


class KeyRingError(ValueError):
    """The secret is not a usable key ring."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    key: str
    retired_at: datetime | None = None


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[SigningKey, ...]

    @property
    def current(self) -> SigningKey:
        return next(key for key in self.keys if key.retired_at is None)

    def verifying(self, kid: str, now: datetime, lifetime: timedelta) -> str | None:
        """The key material for `kid` if tokens signed with it may still be valid."""
        for key in self.keys:
            if key.kid == kid and (key.retired_at is None or now < key.retired_at + lifetime):
                return key.key
        return None

    def to_json(self) -> str:
        return json.dumps(
            {
                "keys": [
                    {"kid": k.kid, "key": k.key, "retired_at": k.retired_at.isoformat() if k.retired_at else None}
                    for k in self.keys
                ]
            }
        )


@lru_cache(maxsize=8)
def parse_keyring(text: str) -> KeyRing:
    """A key ring from the secret's text (a plain key or the JSON ring)."""
    if not text.lstrip().startswith("{"):
        ring = KeyRing((SigningKey(INITIAL_KID, text),))
    else:
        try:
            raw = json.loads(text)["keys"]
            ring = KeyRing(
                tuple(
                    SigningKey(
                        str(item["kid"]),
                        str(item["key"]),
                        datetime.fromisoformat(item["retired_at"]) if item.get("retired_at") else None,
                    )
                    for item in raw
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise KeyRingError(f"the signing key secret is not a key ring: {error}") from error
    if sum(key.retired_at is None for key in ring.keys) != 1:
        raise KeyRingError("the key ring needs exactly one current (not retired) key")
    if any(len(key.key) < MIN_JWT_SECRET_LENGTH for key in ring.keys):
        raise KeyRingError(f"every signing key needs at least {MIN_JWT_SECRET_LENGTH} characters")
    return ring


def rotated(ring: KeyRing, now: datetime, lifetime: timedelta) -> KeyRing:
    """A new current key; the old one retired now; keys whose tokens have all expired dropped."""
    kept = tuple(
        SigningKey(key.kid, key.key, key.retired_at or now)
        for key in ring.keys
        if key.retired_at is None or now < key.retired_at + lifetime
    )
    new = SigningKey(f"k-{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}", secrets.token_urlsafe(48))
    return KeyRing((new, *kept))


class KeySource:
    """The process's key ring: Powertools' cached secret, or a fixed key (local mode, unit tests)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._settings = settings
        self._lock = threading.Lock()
        self._last_forced = 0.0

    def ring(self, force: bool = False) -> KeyRing:
        arn = self._settings.jwt_secret_arn
        if not arn:
            return KeyRing((SigningKey(LOCAL_KID, self._settings.jwt_signing_key),))
        # Imported here: boto3 is only needed where a secret is configured.
        from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415

        text = parameters.get_secret(arn, max_age=self._settings.jwt_key_cache_seconds, force_fetch=force)
        return parse_keyring(str(text))

    def verifying(self, kid: str, now: datetime) -> str | None:
        lifetime = timedelta(minutes=self._settings.jwt_lifetime_minutes)
        key = self.ring().verifying(kid, now, lifetime)
        if key is None and self._settings.jwt_secret_arn:
            with self._lock:
                due = time.monotonic() - self._last_forced >= _REFETCH_SECONDS
                if due:
                    self._last_forced = time.monotonic()
            if due:
                key = self.ring(force=True).verifying(kid, now, lifetime)
        return key


_source: KeySource | None = None


def key_source(settings: Settings) -> KeySource:
    """The source of these settings, kept while the settings stay the same object
    (one per process in the functions), so the cache lives across requests."""
    global _source  # noqa: PLW0603 - one key cache per process, by design
    if _source is None or _source.settings is not settings:
        _source = KeySource(settings)
    return _source
