"""Rules of the code's shape, read from the source tree: only the AWS adapters
import boto3, and only the settings module reads the environment."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STORE = ROOT / "layers" / "store" / "store"
FUNCTIONS = ROOT / "functions"
ADAPTERS = {STORE / "aws.py"}
SETTINGS = {STORE / "config.py"}


def _sources() -> list[Path]:
    files = sorted([*STORE.rglob("*.py"), *FUNCTIONS.rglob("*.py")])
    assert len(files) > 20  # the walk found the code
    return files


def _imported_modules(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


_ENVIRONMENT = {"environ", "environb", "getenv", "putenv"}


def _reads_environment(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr in _ENVIRONMENT) == ("os", True):
                return True
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            return any(alias.name in _ENVIRONMENT for alias in node.names)
    return False


def test_only_the_aws_adapters_import_boto3() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in _sources()
        if path not in ADAPTERS and _imported_modules(ast.parse(path.read_text())) & {"boto3", "botocore"}
    ]
    assert offenders == []


def test_only_the_settings_module_reads_the_environment() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in _sources()
        if path not in SETTINGS and _reads_environment(ast.parse(path.read_text()))
    ]
    assert offenders == []


def test_the_checks_catch_what_they_look_for() -> None:
    assert _imported_modules(ast.parse("from botocore.config import Config")) == {"botocore"}
    assert _reads_environment(ast.parse("import os\nx = os.environ.get('A')"))
    assert _reads_environment(ast.parse("from os import getenv"))
    assert not _reads_environment(ast.parse("import os\nos.path.join('a')"))
