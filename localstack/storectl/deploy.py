"""Build the template with SAM, migrate the schema, deploy the stack, read its outputs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from storectl import openapi
from storectl.emulator import aws_client, aws_env
from storectl.errors import StoreCtlError
from storectl.instance import PROJECT_ROOT, Instance

if TYPE_CHECKING:
    from store.security import Role


def _sam() -> str:
    sam = Path(sys.executable).parent / "sam"
    if sam.exists():
        return str(sam)
    found = shutil.which("sam")
    if found is None:
        raise StoreCtlError("the AWS SAM CLI is not installed", "run `make install` (it installs it into .venv)")
    return found


def _run(command: list[str], instance: Instance, what: str) -> None:
    result = subprocess.run(
        command, cwd=PROJECT_ROOT, env=aws_env(instance), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise StoreCtlError(f"{what} failed:\n{(result.stdout + result.stderr)[-4000:]}")


def build(instance: Instance) -> Path:
    """`sam build` into the instance's build dir; unchanged parts come from the cache.
    First the build step of the API description (the layer serves it)."""
    openapi.write()
    build_dir = instance.build_dir / "sam"
    _run(
        [
            _sam(),
            "build",
            "--template-file",
            str(PROJECT_ROOT / "template.yaml"),
            "--build-dir",
            str(build_dir),
            "--cached",
            "--cache-dir",
            str(instance.build_dir / "cache"),
        ],
        instance,
        "sam build",
    )
    return build_dir / "template.yaml"


def migrate(instance: Instance) -> list[str]:
    """Apply pending schema migrations; returns the names of those that ran."""
    from cassandra.cluster import Cluster, NoHostAvailable  # noqa: PLC0415 - slow import

    from store.config import Settings  # noqa: PLC0415
    from store.migrations import apply_migrations  # noqa: PLC0415

    settings = Settings(cassandra_hosts=instance.cassandra_hosts, cassandra_port=instance.cassandra_port)
    cluster = Cluster(settings.cassandra_contact_points, port=settings.cassandra_port, protocol_version=5)
    try:
        session = cluster.connect()
        return [f"V{m.version:03d}__{m.name}" for m in apply_migrations(session, settings)]
    except NoHostAvailable as error:
        raise StoreCtlError(
            f"cannot reach Cassandra at {instance.cassandra_hosts}:{instance.cassandra_port} to migrate ({error})",
            "start it with `storectl up`, or fix CASSANDRA_HOSTS / CASSANDRA_PORT",
        ) from error
    finally:
        cluster.shutdown()


# The seeds' demo accounts, for Swagger UI and curl. Local stacks only.
DEMO_ACCOUNTS: tuple[tuple[str, str, Role], ...] = (
    ("swagger_user", "password123", "user"),
    ("swagger_admin", "admin123", "admin"),
)


def seed_accounts(instance: Instance, *, demo: bool) -> list[str]:
    """Create the bootstrap admin (BOOTSTRAP_ADMIN_USERNAME/_PASSWORD, if set) and,
    with `demo`, the demo accounts; existing accounts are left alone. Returns the
    names created now. Goes straight to Cassandra through the store package."""
    from store.config import Settings  # noqa: PLC0415 - slow import
    from store.db import CassandraUnavailable, Database  # noqa: PLC0415
    from store.users import UserRepository, bootstrap_admin, ensure_user  # noqa: PLC0415

    settings = Settings(cassandra_hosts=instance.cassandra_hosts, cassandra_port=instance.cassandra_port)
    database = Database(settings)
    users = UserRepository(database)
    created = []
    try:
        if bootstrap_admin(users, settings) and settings.bootstrap_admin_username:
            created.append(settings.bootstrap_admin_username)
        for username, password, role in DEMO_ACCOUNTS if demo else ():
            if ensure_user(users, username, password, role):
                created.append(username)
    except CassandraUnavailable as error:
        raise StoreCtlError(
            f"cannot reach Cassandra at {instance.cassandra_hosts}:{instance.cassandra_port} to create accounts "
            f"({error})",
            "start it with `storectl up`, or fix CASSANDRA_HOSTS / CASSANDRA_PORT",
        ) from error
    finally:
        database.close()
    return created


def deploy(instance: Instance, built_template: Path, parameters: dict[str, str] | None = None) -> dict[str, str]:
    """Create or update the stack (a change set, so a redeploy updates in place)."""
    overrides = {
        "Stage": "local",
        "CassandraHosts": instance.functions_cassandra_hosts or instance.cassandra_hosts,
        "CassandraPort": str(instance.cassandra_port),
        # `ORDER_TIME_SCALE=0.02 make up`: run the order lifecycle in seconds.
        **({"OrderTimeScale": os.environ["ORDER_TIME_SCALE"]} if os.environ.get("ORDER_TIME_SCALE") else {}),
        **(parameters or {}),
    }
    _run(
        [
            _sam(),
            "deploy",
            "--config-file",
            str(PROJECT_ROOT / "samconfig.toml"),
            "--config-env",
            "local",
            "--template-file",
            str(built_template),
            "--stack-name",
            instance.stack_name,
            "--parameter-overrides",
            *(f"{key}={value}" for key, value in overrides.items()),
        ],
        instance,
        "sam deploy",
    )
    outputs = stack_outputs(instance)
    # Local stacks only: SES sends only from a verified address (on AWS, verify it once by hand).
    if outputs.get("NotificationsSender"):
        aws_client(instance, "ses").verify_email_identity(EmailAddress=outputs["NotificationsSender"])
    return outputs


def stack_outputs(instance: Instance) -> dict[str, str]:
    client = aws_client(instance, "cloudformation")
    try:
        stack = client.describe_stacks(StackName=instance.stack_name)["Stacks"][0]
    except (ClientError, BotoCoreError) as error:
        raise StoreCtlError(
            f"stack {instance.stack_name} is not deployed on {instance.endpoint_url} ({error})",
            "run `storectl up` (or `storectl deploy` when the emulator is already up)",
        ) from error
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def api_url(instance: Instance, outputs: dict[str, str]) -> str:
    """The API base URL on the emulator, built from the stack outputs."""
    return f"{instance.endpoint_url}/_aws/execute-api/{outputs['ApiId']}/{outputs['ApiStageName']}"
