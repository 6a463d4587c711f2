"""Background servers: start in their own session, stop the whole process group."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from storectl.errors import StoreCtlError


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def require_free_port(port: int, what: str, env_var: str) -> None:
    if not port_is_free(port):
        raise StoreCtlError(
            f"port {port} on 127.0.0.1 is busy, so {what} cannot start",
            f"stop whatever listens there (`ss -ltnp 'sport = :{port}'` shows it) "
            f"or pick another port with {env_var}=...",
        )


def get_local(url: str, timeout: float = 2.0) -> bytes | None:
    """The body of a GET to one of our own servers, or None when it does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback URL
            body: bytes = response.read()
            return body
    except (urllib.error.URLError, OSError):
        return None


def read_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone, unless it is a thread
    # group leader whose other threads still run: a JVM's main thread exits
    # first, and the rest keep its sockets (a listening port) open until they end.
    return any(_state(stat) not in (None, "Z") for stat in Path(f"/proc/{pid}/task").glob("*/stat")) or (
        _state(Path(f"/proc/{pid}/stat")) not in (None, "Z")
    )


def _state(stat: Path) -> str | None:
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return None


def start_daemon(
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    log_file: Path,
    pid_file: Path,
    cwd: Path | None = None,
) -> int:
    """Start `command` as the leader of a new session so that it and every child
    it spawns (the emulator's Lambda workers) share one process group."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            list(command),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file.write_text(str(process.pid))
    return process.pid


def session_members(sid: int) -> list[int]:
    """Live processes of session `sid`: children that moved to process groups of
    their own are still in the session, so this finds them too."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == sid and pid_alive(int(entry.name)):
                members.append(int(entry.name))
        except (ProcessLookupError, PermissionError):
            continue
    return members


def stop_session(pid_file: Path, *, grace_seconds: float = 20.0) -> bool:
    """SIGTERM every process of the session led by the pid in `pid_file`, SIGKILL
    what is left after the grace period, and confirm that nothing survives.
    Returns False when nothing was running."""
    try:
        sid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return False
    if not session_members(sid):
        pid_file.unlink(missing_ok=True)
        return False
    _signal_all(session_members(sid), signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while session_members(sid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if session_members(sid):
        _signal_all(session_members(sid), signal.SIGKILL)
        deadline = time.monotonic() + 5
        while session_members(sid) and time.monotonic() < deadline:
            time.sleep(0.1)
    survivors = session_members(sid)
    if survivors:
        raise StoreCtlError(
            f"processes {survivors} of session {sid} survived SIGKILL",
            f"look at them with `ps -o pid,stat,cmd -p {','.join(map(str, survivors))}`",
        )
    pid_file.unlink(missing_ok=True)
    return True


def _signal_all(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
