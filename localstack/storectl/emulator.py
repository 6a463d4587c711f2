"""The local AWS emulator: MiniStack, without Docker, bound to 127.0.0.1.

MiniStack runs each Lambda as a worker process of its own. Those workers were
seen to outlive the emulator's SIGTERM, so the emulator is started as the
leader of a new session and stopped by ending every process of that session.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from storectl.errors import StoreCtlError
from storectl.instance import PROJECT_ROOT, Instance
from storectl.processes import read_pid, require_free_port, start_daemon, stop_session

EMULATOR_VENV = Path(os.environ.get("STORE_EMULATOR_VENV", PROJECT_ROOT / ".venv-emulator"))


def emulator_python() -> Path:
    python = EMULATOR_VENV / "bin" / "python"
    if not python.exists():
        raise StoreCtlError(
            f"the AWS emulator is not installed (no {python})",
            "run `make install` (or `make up`), which installs MiniStack into .venv-emulator",
        )
    return python


def _pid_file(instance: Instance) -> Path:
    return instance.emulator_dir / "emulator.pid"


# Answered by LocalStack and by MiniStack alike, so an emulator the user runs works too.
HEALTH_PATH = "/_localstack/health"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - the emulator's URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def is_up(instance: Instance) -> bool:
    return _answers(f"{instance.endpoint_url}{HEALTH_PATH}")


def is_bundled(instance: Instance) -> bool:
    """True for MiniStack, whose own views (`/_ministack/...`) some tests read."""
    return _answers(f"{instance.endpoint_url}/_ministack/health")


def start(instance: Instance) -> int | None:
    """Start the emulator in the background (idempotent); returns its pid, or
    None when the instance uses an emulator that is already running."""
    if instance.external_emulator_url:
        return None
    running = read_pid(_pid_file(instance))
    if running is not None:
        return running
    python = emulator_python()
    require_free_port(instance.emulator_port, "the AWS emulator", "STORE_EMULATOR_PORT")
    tmp = instance.emulator_dir / "tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    env = {
        **os.environ,
        "BIND_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(instance.emulator_port),
        # Otherwise an IoT listener binds 0.0.0.0:8883 whatever BIND_HOST says.
        "IOT_MTLS_ENABLED": "0",
        # Lambda workers unpack their code under TMPDIR; keep it inside the
        # instance so `down` can remove it.
        "TMPDIR": str(tmp),
        "PYTHONUNBUFFERED": "1",
    }
    return start_daemon(
        [str(python), "-m", "ministack"],
        env=env,
        log_file=instance.emulator_dir / "emulator.log",
        pid_file=_pid_file(instance),
        cwd=instance.emulator_dir,
    )


def wait_ready(instance: Instance, timeout: float = 60.0) -> float:
    started = time.monotonic()
    if instance.external_emulator_url and not is_up(instance):
        raise StoreCtlError(
            f"no AWS emulator answers {instance.endpoint_url}{HEALTH_PATH} (STORE_EMULATOR_URL)",
            "start your LocalStack first (localstack/docker-compose.yml), or unset STORE_EMULATOR_URL "
            "to run the bundled emulator",
        )
    while time.monotonic() - started < timeout:
        if is_up(instance):
            return time.monotonic() - started
        if read_pid(_pid_file(instance)) is None:
            log = instance.emulator_dir / "emulator.log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise StoreCtlError(f"the AWS emulator exited while starting; the end of {log}:\n{tail}")
        time.sleep(0.3)
    raise StoreCtlError(
        f"the AWS emulator did not answer on {instance.endpoint_url} within {timeout:.0f} s",
        f"look at {instance.emulator_dir / 'emulator.log'}",
    )


def stop(instance: Instance) -> bool:
    if instance.external_emulator_url:
        return False  # not ours to stop
    stopped = stop_session(_pid_file(instance), grace_seconds=10)
    shutil.rmtree(instance.emulator_dir / "tmp", ignore_errors=True)
    return stopped


REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
# The emulator accepts any credentials; fixed ones keep real ones out of it.
_LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


def aws_env(instance: Instance) -> dict[str, str]:
    """Environment for AWS tools (sam) that talk to this emulator."""
    return {
        **os.environ,
        **_LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL": instance.endpoint_url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "SAM_CLI_TELEMETRY": "0",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def aws_client(instance: Instance, service: str, config: Config | None = None) -> Any:
    """A boto3 client for `service` on this emulator."""
    return boto3.client(  # type: ignore[call-overload]
        service,
        config=config,
        endpoint_url=instance.endpoint_url,
        region_name=REGION,
        aws_access_key_id=_LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=_LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
