"""Token and password logic: what decoding must accept and what it must refuse."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from store import security
from store.config import Settings
from store.security import (
    InvalidToken,
    decode_token,
    hash_password,
    issue_token,
    verify_password,
)
from store.signing_keys import LOCAL_KID, KeyRing, KeyRingError, SigningKey, parse_keyring, rotated

SETTINGS = Settings(jwt_secret="unit-test-secret-that-is-long-enough-0123456789")
USER_ID = uuid.uuid4()


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": str(USER_ID),
        "role": "user",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": str(uuid.uuid4()),
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _sign(claims: dict[str, object], key: str = SETTINGS.jwt_signing_key, kid: str = LOCAL_KID) -> str:
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid})


def test_issued_token_round_trips_with_every_claim() -> None:
    issued = issue_token(SETTINGS, USER_ID, "admin")
    claims = decode_token(SETTINGS, issued.access_token)
    assert claims == issued.claims
    assert claims.user_id == USER_ID
    assert claims.role == "admin"
    assert issued.expires_in == 30 * 60
    raw = jwt.decode(issued.access_token, options={"verify_signature": False})
    assert set(raw) == {"sub", "role", "exp", "iat", "jti", "iss", "aud", "ver"}
    assert jwt.get_unverified_header(issued.access_token)["alg"] == "HS256"


def test_lifetime_comes_from_settings() -> None:
    settings = Settings(jwt_secret=SETTINGS.jwt_secret, jwt_lifetime_minutes=5)
    issued = issue_token(settings, USER_ID, "user")
    assert issued.expires_in == 300
    assert issued.claims.expires_at - issued.claims.issued_at == timedelta(minutes=5)


def test_every_token_has_its_own_id() -> None:
    first = issue_token(SETTINGS, USER_ID, "user")
    second = issue_token(SETTINGS, USER_ID, "user")
    assert first.claims.token_id != second.claims.token_id


def test_expired_token_is_rejected() -> None:
    issued = issue_token(SETTINGS, USER_ID, "user", now=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(InvalidToken, match="expired"):
        decode_token(SETTINGS, issued.access_token)


def test_token_signed_with_another_key_is_rejected() -> None:
    token = _sign(_claims(), key="another-secret-that-is-long-enough-for-hs256!!")
    with pytest.raises(InvalidToken, match="Signature"):
        decode_token(SETTINGS, token)


def test_alg_none_is_rejected() -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(iat=1, exp=4102444800))}."
    with pytest.raises(InvalidToken):
        decode_token(SETTINGS, token)


def test_tampered_claims_are_rejected() -> None:
    header, _, signature = issue_token(SETTINGS, USER_ID, "user").access_token.split(".")
    forged = _b64(_claims(role="admin", iat=1, exp=4102444800))
    with pytest.raises(InvalidToken, match="Signature"):
        decode_token(SETTINGS, f"{header}.{forged}.{signature}")


@pytest.mark.parametrize(
    ("claim", "value"),
    [("iss", "someone-else"), ("aud", "another-api"), ("aud", ["product-store-api", "another-api"])],
)
def test_wrong_issuer_or_audience_is_rejected(claim: str, value: object) -> None:
    with pytest.raises(InvalidToken):
        decode_token(SETTINGS, _sign(_claims(**{claim: value})))


@pytest.mark.parametrize("missing", ["sub", "role", "exp", "iat", "jti", "iss", "aud"])
def test_every_claim_is_required(missing: str) -> None:
    claims = _claims()
    del claims[missing]
    with pytest.raises(InvalidToken):
        decode_token(SETTINGS, _sign(claims))


@pytest.mark.parametrize(("claim", "value"), [("role", "superuser"), ("sub", "not-a-uuid"), ("jti", "x")])
def test_malformed_claims_are_rejected(claim: str, value: str) -> None:
    with pytest.raises(InvalidToken):
        decode_token(SETTINGS, _sign(_claims(**{claim: value})))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x.y.z"])
def test_garbage_is_rejected(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        decode_token(SETTINGS, garbage)


def test_password_hash_is_argon2id_salted_and_verifies() -> None:
    first = hash_password("correct horse battery")
    second = hash_password("correct horse battery")
    assert first.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert first != second  # a fresh salt each time
    assert "correct horse battery" not in first
    assert verify_password(first, "correct horse battery")
    assert not verify_password(first, "correct horse batterY")


def test_verify_without_a_hash_or_with_a_broken_one_says_no() -> None:
    assert not verify_password(None, "anything at all")
    assert not verify_password("not-a-hash", "anything at all")


def test_unknown_user_check_costs_what_a_real_hash_costs() -> None:
    # The constant dummy hash must carry the hasher's own parameters, or "no such
    # user" would answer faster (or slower) than "wrong password".
    assert not security._hasher.check_needs_rehash(security._DUMMY_HASH)
    assert security.verify_password(None, "anything") is False


def test_the_token_version_round_trips_and_defaults_to_zero() -> None:
    assert decode_token(SETTINGS, issue_token(SETTINGS, USER_ID, "user", version=7).access_token).version == 7
    # A token from before versions existed counts as version 0.
    assert decode_token(SETTINGS, _sign(_claims())).version == 0
    with pytest.raises(InvalidToken):
        decode_token(SETTINGS, _sign(_claims(ver="7")))


def test_a_token_names_its_key_and_one_without_a_known_key_id_is_refused() -> None:
    token = issue_token(SETTINGS, USER_ID, "user").access_token
    assert jwt.get_unverified_header(token)["kid"] == LOCAL_KID
    with pytest.raises(InvalidToken, match="kid"):
        decode_token(SETTINGS, jwt.encode(_claims(), SETTINGS.jwt_signing_key, algorithm="HS256"))
    with pytest.raises(InvalidToken, match="unknown or retired"):
        decode_token(SETTINGS, _sign(_claims(), kid="another"))


KEY_A, KEY_B = "a" * 40, "b" * 40


def test_a_retired_key_verifies_until_its_tokens_have_expired() -> None:
    now = datetime.now(UTC)
    lifetime = timedelta(minutes=30)
    ring = rotated(parse_keyring(KEY_A), now, lifetime)
    assert ring.current.key != KEY_A
    assert ring.verifying("initial", now + timedelta(minutes=29), lifetime) == KEY_A
    assert ring.verifying("initial", now + timedelta(minutes=31), lifetime) is None
    assert parse_keyring(ring.to_json()) == ring
    # The next rotation after the window drops the old key altogether.
    later = rotated(ring, now + timedelta(minutes=31), lifetime)
    assert [key.kid for key in later.keys][1:] == [ring.current.kid]


@pytest.mark.parametrize(
    "ring",
    [
        KeyRing((SigningKey("x", KEY_A, datetime.now(UTC)),)),  # nothing current
        KeyRing((SigningKey("x", KEY_A), SigningKey("y", KEY_B))),  # two current
        KeyRing((SigningKey("x", "short"),)),
    ],
)
def test_unusable_key_rings_are_refused(ring: KeyRing) -> None:
    with pytest.raises(KeyRingError):
        parse_keyring(ring.to_json())
