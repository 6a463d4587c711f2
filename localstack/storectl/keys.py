"""Rotate the token signing key (`storectl rotate-jwt-key`).

The secret becomes a key ring (store.signing_keys): a new current key, the old
one retired now and still accepted until its tokens have expired, keys retired
longer ago than a token lives dropped. The functions see the new ring within
JwtKeyCacheSeconds, or at once when a token names a key they do not know yet.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.signing_keys import KeyRing, parse_keyring, rotated
from storectl.deploy import stack_outputs
from storectl.emulator import aws_client
from storectl.instance import Instance


def jwt_lifetime(instance: Instance) -> timedelta:
    """The deployed stack's token lifetime (its JwtLifetimeMinutes parameter)."""
    stack = aws_client(instance, "cloudformation").describe_stacks(StackName=instance.stack_name)["Stacks"][0]
    values = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
    return timedelta(minutes=int(values.get("JwtLifetimeMinutes", "30")))


def rotate_jwt_key(instance: Instance, now: datetime | None = None) -> KeyRing:
    arn = stack_outputs(instance)["JwtSecretArn"]
    secrets = aws_client(instance, "secretsmanager")
    ring = parse_keyring(secrets.get_secret_value(SecretId=arn)["SecretString"])
    new = rotated(ring, now or datetime.now(UTC), jwt_lifetime(instance))
    secrets.put_secret_value(SecretId=arn, SecretString=new.to_json())
    return new
