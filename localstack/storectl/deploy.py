"""Build the template with SAM, migrate the schema, deploy the stack, read its outputs."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from uuid import UUID

import httpx
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from storectl import openapi, traces
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


class DemoAccount(NamedTuple):
    username: str
    password: str
    role: Role
    full_name: str
    phone: str


# The seeds' demo accounts (names and phones as the seeds give them), for
# Swagger UI and curl. Local stacks only.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("swagger_user", "password123", "user", "Swagger Regular User", "+7 (999) 123-45-67"),
    DemoAccount("swagger_admin", "admin123", "admin", "Swagger Admin User", "+7 (999) 987-65-43"),
)


def demo_admin() -> DemoAccount:
    return next(account for account in DEMO_ACCOUNTS if account.role == "admin")


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
    # The store package prints EMF metric records (password hashing) to stdout:
    # meaningless outside a function, and noise in `storectl up`.
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            if bootstrap_admin(users, settings) and settings.bootstrap_admin_username:
                created.append(settings.bootstrap_admin_username)
            for account in DEMO_ACCOUNTS if demo else ():
                profile = {"full_name": account.full_name, "phone": account.phone}
                if ensure_user(users, account.username, account.password, account.role, **profile):
                    created.append(account.username)
    except CassandraUnavailable as error:
        raise StoreCtlError(
            f"cannot reach Cassandra at {instance.cassandra_hosts}:{instance.cassandra_port} to create accounts "
            f"({error})",
            "start it with `storectl up`, or fix CASSANDRA_HOSTS / CASSANDRA_PORT",
        ) from error
    finally:
        database.close()
    return created


def order_status(instance: Instance, order_id: UUID) -> str | None:
    """An order's status, read from Cassandra through the store package (None: no such order)."""
    from store.config import Settings  # noqa: PLC0415 - slow import
    from store.db import CassandraUnavailable, Database  # noqa: PLC0415

    database = Database(Settings(cassandra_hosts=instance.cassandra_hosts, cassandra_port=instance.cassandra_port))
    try:
        row = database.execute("SELECT status FROM orders WHERE id = ?", (order_id,)).one()
    except CassandraUnavailable as error:
        raise StoreCtlError(
            f"cannot reach Cassandra at {instance.cassandra_hosts}:{instance.cassandra_port} ({error})",
            "start it with `storectl up`, or fix CASSANDRA_HOSTS / CASSANDRA_PORT",
        ) from error
    finally:
        database.close()
    return str(row.status) if row is not None else None


def deploy(instance: Instance, built_template: Path, parameters: dict[str, str] | None = None) -> dict[str, str]:
    """Create or update the stack (a change set, so a redeploy updates in place)."""
    overrides = {
        "Stage": "local",
        "CassandraHosts": instance.functions_cassandra_hosts or instance.cassandra_hosts,
        "CassandraPort": str(instance.cassandra_port),
        # Every client of a local stack is 127.0.0.1 (load tests and Schemathesis
        # register hundreds of users): no per-source registration limit here.
        "RegistrationsPerSourcePerHour": "100000",
        # `ORDER_TIME_SCALE=0.02 make up`: run the order lifecycle in seconds.
        **({"OrderTimeScale": os.environ["ORDER_TIME_SCALE"]} if os.environ.get("ORDER_TIME_SCALE") else {}),
        # `PROFILED_FUNCTIONS=catalog,cart make up`: profile those functions (storectl profiles).
        **({"ProfiledFunctions": os.environ["PROFILED_FUNCTIONS"]} if os.environ.get("PROFILED_FUNCTIONS") else {}),
        # Spans go to the stack's own trace server.
        "TracesExporter": "zipkin",
        "TracesEndpoint": traces.spans_endpoint(instance),
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


# The health route of each HTTP function: it opens the worker's Cassandra connection.
HEALTH_ROUTES = {
    "catalog": "/api/health",
    "cart": "/cart-api/health",
    "orders": "/order-api/health",
    "users": "/user-api/health",
}
# Functions behind queues and the state machine, warmed by a direct no-op
# invocation (store.warmup): the stack output naming each.
EVENT_FUNCTIONS = {
    "order_workflow": "OrderWorkflowFunctionName",
    "order_starter": "OrderStarterFunctionName",
    "notifications": "NotificationsFunctionName",
}
WARMABLE = (*HEALTH_ROUTES, *EVENT_FUNCTIONS)
# Workers per function that `make up` starts: sized from 20-user runs of the
# seeds' mix (browse 10 : cart 5 : order 1), where catalog and cart carry most
# requests and every order runs about five state machine tasks.
DEV_WARM_WORKERS = {
    "catalog": 8,
    "cart": 8,
    "orders": 3,
    "users": 3,
    "order_workflow": 6,
    "order_starter": 2,
    "notifications": 3,
}
# The test stack: enough that a test's first concurrent requests find a worker.
TEST_WARM_WORKERS = dict.fromkeys(HEALTH_ROUTES, 2)


def warm_plan(instance: Instance, spec: str | None = None) -> dict[str, int]:
    """Workers to start per function: STORE_WARM_WORKERS as a number for every
    function (`4`, `0` for none) or per function (`catalog=8,cart=8`; others 0);
    unset, the dev or test default."""
    spec = os.environ.get("STORE_WARM_WORKERS") if spec is None else spec
    if spec is None or not spec.strip():
        return dict(DEV_WARM_WORKERS if instance.name == "dev" else TEST_WARM_WORKERS)
    try:
        if "=" not in spec:
            return dict.fromkeys(WARMABLE, int(spec))
        plan = dict.fromkeys(WARMABLE, 0)
        for part in spec.split(","):
            function, _, count = part.partition("=")
            if function.strip() not in plan:
                raise ValueError(function)
            plan[function.strip()] = int(count)
    except ValueError as error:
        raise StoreCtlError(
            f"STORE_WARM_WORKERS={spec!r} is not understood ({error})",
            f"give a number, or function=number pairs for {', '.join(WARMABLE)} (e.g. catalog=8,cart=8)",
        ) from error
    return plan


def describe_plan(plan: dict[str, int]) -> str:
    return ", ".join(f"{function} {count}" for function, count in plan.items() if count) or "none"


def warm(instance: Instance, outputs: dict[str, str], plan: dict[str, int]) -> float:
    """Start `plan[function]` execution environments of each function now, instead
    of at the first requests: the emulator gives each concurrent request that
    finds no idle worker a new one (about 2 s of CPU each), so traffic on a cold
    deploy pays that per request, and on 2 cores the queueing makes still more
    requests find no idle worker. Everything is sent at once so that each call
    lands on a worker of its own. Returns the seconds it took."""
    api = api_url(instance, outputs)
    calls: list[tuple[str, str]] = [
        (function, HEALTH_ROUTES.get(function) or outputs[EVENT_FUNCTIONS[function]])
        for function, count in plan.items()
        for _ in range(count)
    ]
    if not calls:
        return 0.0
    # Cold workers on a busy machine can take minutes; one attempt each (a retry would start another).
    lambdas = aws_client(
        instance, "lambda", Config(read_timeout=300, max_pool_connections=len(calls), retries={"max_attempts": 1})
    )
    started = time.monotonic()
    with httpx.Client(base_url=api, timeout=300) as client:

        def call(target: tuple[str, str]) -> str | None:
            function, where = target
            if function in HEALTH_ROUTES:
                answer = client.get(where)
                return f"{function}: {answer.status_code}" if answer.is_error else None
            result = lambdas.invoke(FunctionName=where, Payload=json.dumps({"warmup": True}).encode())
            return f"{function}: {result['Payload'].read()[:200]!r}" if result.get("FunctionError") else None

        with ThreadPoolExecutor(len(calls)) as pool:
            failed = [problem for problem in pool.map(call, calls) if problem]
    if failed:
        raise StoreCtlError(f"warming the functions failed ({', '.join(failed)})", "look at `storectl logs FUNCTION`")
    return time.monotonic() - started


@contextlib.contextmanager
def function_environment(instance: Instance, function_name: str, **changes: str) -> Iterator[None]:
    """Run a block with some environment variables of a deployed function changed
    (e.g. STORE_PROFILE_FUNCTIONS, OTEL_SDK_DISABLED); the previous ones after."""
    client = aws_client(instance, "lambda")
    previous = client.get_function_configuration(FunctionName=function_name)["Environment"]["Variables"]
    client.update_function_configuration(FunctionName=function_name, Environment={"Variables": previous | changes})
    try:
        yield
    finally:
        client.update_function_configuration(FunctionName=function_name, Environment={"Variables": previous})
