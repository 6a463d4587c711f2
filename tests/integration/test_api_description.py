"""Schemathesis over the one API description, against the deployed stack:
every check (`--checks all`), a fixed seed and a bounded number of examples.
Settings and their reasons: tests/schemathesis.toml. The report (JUnit) is kept
in .artifacts/schemathesis/.

It runs last (marker `runs_last`): it creates, changes and deletes data as an
admin, and its failed logins from 127.0.0.1 trip that address's login throttle.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from storectl.instance import PROJECT_ROOT
from support import bearer

ARTIFACTS = PROJECT_ROOT / ".artifacts" / "schemathesis"
SEED = 20261130
MAX_EXAMPLES = 10


@pytest.mark.runs_last
def test_schemathesis_finds_no_failure(api: httpx.Client, admin_token: str) -> None:
    assert api.get("/user-api/me", headers=bearer(admin_token)).status_code == 200
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    document = ARTIFACTS / "openapi.json"
    # The document as the API serves it, so what is tested is what is deployed.
    document.write_bytes(api.get("/api/openapi.json").content)
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(PROJECT_ROOT / "tests" / "schemathesis.toml"),
        "run",
        str(document),
        "--url",
        str(api.base_url),
        "--checks",
        "all",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--header",
        f"Authorization: Bearer {admin_token}",
        "--report",
        "junit",
        "--report-dir",
        str(ARTIFACTS),
        "--no-color",
    ]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=480, cwd=ARTIFACTS)
    output = result.stdout + result.stderr
    (ARTIFACTS / "output.txt").write_text(output)
    cases = re.search(r"(\d+) generated", output)
    print(f"schemathesis: {cases.group(0) if cases else '?'} in {time.monotonic() - started:.0f} s (seed {SEED})")
    assert result.returncode == 0, output[-6000:]
    assert cases is not None
    assert int(cases.group(1)) > 1000, output[-3000:]
    # Every operation was reached with a working token, not only its 401.
    assert "Authentication failed" not in output, output[-3000:]
