"""Stopping a server ends every process of its session, even children that left its group."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import typer

from storectl import cli
from storectl.cli import parse_since
from storectl.processes import pid_alive, port_is_free, read_pid, session_members, start_daemon, stop_session

# A parent that ignores SIGTERM (as the emulator's workers were seen to outlive
# it) and a child that moves to a process group of its own.
_SCRIPT = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
subprocess.Popen([sys.executable, "-c", "import os, time; os.setpgid(0, 0); time.sleep(600)"])
time.sleep(600)
"""


def test_stop_session_leaves_no_process(tmp_path: Path) -> None:
    pid_file = tmp_path / "server.pid"
    pid = start_daemon([sys.executable, "-c", _SCRIPT], env=os.environ, log_file=tmp_path / "log", pid_file=pid_file)
    deadline = time.monotonic() + 10
    while len(session_members(pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    members = session_members(pid)
    assert len(members) == 2
    assert read_pid(pid_file) == pid

    assert stop_session(pid_file, grace_seconds=0.5) is True
    assert not any(pid_alive(member) for member in members)
    assert not pid_file.exists()
    assert stop_session(pid_file) is False


def test_port_is_free_detects_a_listener() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert not port_is_free(listener.getsockname()[1])


def test_parse_since() -> None:
    now_ms = time.time() * 1000
    assert abs(parse_since("10m") - (now_ms - 600_000)) < 5_000
    with pytest.raises(typer.BadParameter):
        parse_since("ten minutes")


class _PagedLogs:
    """FilterLogEvents as the emulator answers it: at most `limit` events, no nextToken."""

    def __init__(self, timestamps: list[int]) -> None:
        self.events: list[dict[str, Any]] = [
            {"timestamp": ts, "message": f"line {n}", "logStreamName": "s"} for n, ts in enumerate(timestamps)
        ]

    def filter_log_events(self, *, logGroupName: str, startTime: int, limit: int) -> dict[str, object]:
        return {"events": [event for event in self.events if event["timestamp"] >= startTime][:limit]}


def test_log_events_continue_past_a_full_page_without_next_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "FILTER_LIMIT", 3)
    events = cli._log_events(_PagedLogs([1, 2, 3, 4, 5, 5, 6]), "group", 0)
    assert {event["message"] for event in events} == {f"line {n}" for n in range(7)}


def test_a_leader_that_exited_before_its_threads_is_still_alive() -> None:
    """Like a stopping JVM: the main thread is gone (a zombie) while another
    thread still runs and holds the process's sockets."""
    code = (
        "import ctypes, threading, time; threading.Thread(target=time.sleep, args=(2,)).start(); "
        "ctypes.CDLL(None).pthread_exit(None)"
    )
    process = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 5
        while Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the main thread never exited"
            time.sleep(0.02)
        assert pid_alive(process.pid)
        process.wait(timeout=10)
        assert not pid_alive(process.pid)
    finally:
        process.kill()
        process.wait()
