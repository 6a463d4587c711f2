"""The documentation site: built with MkDocs (strict) into the instance's state,
served by a static file server on 127.0.0.1 that `down` stops."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from storectl.errors import StoreCtlError
from storectl.instance import PROJECT_ROOT, Instance
from storectl.processes import read_pid, require_free_port, start_daemon, stop_session


def _site(instance: Instance) -> Path:
    return instance.docs_dir / "site"


def _pid_file(instance: Instance) -> Path:
    return instance.docs_dir / "docs.pid"


def start_build(instance: Instance) -> subprocess.Popen[str]:
    """`mkdocs build --strict` in the background (it runs while SAM builds)."""
    instance.docs_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "mkdocs"),
            "build",
            "--strict",
            "--quiet",
            "--site-dir",
            str(_site(instance)),
        ],
        cwd=PROJECT_ROOT,  # mkdocs.yml and the OpenAPI document are found from the project root
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish_build(build: subprocess.Popen[str]) -> None:
    output, _ = build.communicate(timeout=300)
    if build.returncode != 0:
        raise StoreCtlError(f"the docs site did not build (mkdocs build --strict):\n{output[-4000:]}")


def serve(instance: Instance) -> None:
    """Serve the built site (idempotent: a running server keeps serving the new build)."""
    if read_pid(_pid_file(instance)) is not None:
        return
    require_free_port(instance.docs_port, "the docs server", "STORE_DOCS_PORT")
    start_daemon(
        [
            sys.executable,
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            "--directory",
            str(_site(instance)),
            str(instance.docs_port),
        ],
        env=os.environ,
        log_file=instance.docs_dir / "docs.log",
        pid_file=_pid_file(instance),
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(instance.docs_url, timeout=2):  # noqa: S310 - loopback URL
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise StoreCtlError(
        f"the docs server did not answer on {instance.docs_url}", f"look at {instance.docs_dir}/docs.log"
    )


def is_up(instance: Instance) -> bool:
    return read_pid(_pid_file(instance)) is not None


def stop(instance: Instance) -> bool:
    return stop_session(_pid_file(instance), grace_seconds=5)
