"""Where a stack runs: ports, an emulator the user runs, the docs server; and
localstack/docker-compose.yml kept in sync with what `make up` runs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from storectl import emulator, stack
from storectl import instance as instances
from storectl.errors import StoreCtlError
from storectl.instance import PROJECT_ROOT, dev_instance

_ENV = ("STORE_EMULATOR_URL", "STORE_EMULATOR_PORT", "STORE_DOCS_PORT", "CASSANDRA_PORT", "CASSANDRA_HOSTS")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_the_bundled_emulator_and_docs_on_8000() -> None:
    instance = dev_instance()
    assert instance.endpoint_url == "http://127.0.0.1:4566"
    assert instance.external_emulator_url is None
    assert instance.docs_url == "http://127.0.0.1:8000/"


def test_an_existing_emulator_is_used_and_never_started_or_stopped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STORE_EMULATOR_URL", "http://127.0.0.1:4510/")
    instance = dev_instance()
    assert instance.endpoint_url == "http://127.0.0.1:4510"
    # Nothing listens on 4510 here: start and stop leave it alone, wait_ready says what to do.
    assert emulator.start(instance) is None
    assert emulator.stop(instance) is False
    with pytest.raises(StoreCtlError, match="_localstack/health") as error:
        emulator.wait_ready(instance, timeout=1)
    assert "STORE_EMULATOR_URL" in str(error.value)


def test_the_test_instance_has_ports_of_its_own(tmp_path: Path) -> None:
    dev, test = dev_instance(), instances.test_instance(tmp_path)
    assert {dev.emulator_port, dev.docs_port, dev.cassandra_port}.isdisjoint(
        {test.emulator_port, test.docs_port, test.cassandra_port}
    )


def test_the_trace_server_port_defaults_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STORE_TRACE_PORT", "STORE_TEST_TRACE_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert (dev_instance().trace_port, instances.test_instance(tmp_path).trace_port) == (9411, 9511)
    monkeypatch.setenv("STORE_TRACE_PORT", "19411")
    monkeypatch.setenv("STORE_TEST_TRACE_PORT", "19511")
    assert dev_instance().trace_url == "http://127.0.0.1:19411"
    assert instances.test_instance(tmp_path).trace_port == 19511


# What each AWS resource type of the template needs from LocalStack.
_SERVICES = {
    "AWS::Serverless::Function": {"lambda", "iam", "logs"},
    "AWS::Serverless::LayerVersion": {"lambda"},
    "AWS::Serverless::Api": {"apigateway"},
    "AWS::Serverless::StateMachine": {"stepfunctions", "iam"},
    "AWS::IAM::Policy": {"iam"},
    "AWS::SNS::Topic": {"sns"},
    "AWS::SNS::Subscription": {"sns"},
    "AWS::SQS::Queue": {"sqs"},
    "AWS::SQS::QueuePolicy": {"sqs"},
    "AWS::SecretsManager::Secret": {"secretsmanager"},
    "AWS::IAM::ManagedPolicy": {"iam"},
    "AWS::Events::Rule": {"events"},
    "AWS::Logs::LogGroup": {"logs"},
    # Created only on AWS (condition OnAws), but the template names them.
    "AWS::CloudWatch::Alarm": {"cloudwatch"},
    "AWS::CloudWatch::Dashboard": {"cloudwatch"},
}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "localstack" / "docker-compose.yml").read_text())
    return loaded


def test_compose_runs_what_make_up_runs_on_the_same_ports() -> None:
    services = _compose()["services"]
    instance = dev_instance()
    ports = {name: {port.split(":")[1] for port in service.get("ports", [])} for name, service in services.items()}
    assert ports["localstack"] == {str(instance.emulator_port)}
    assert ports["cassandra"] == {str(instance.cassandra_port)}
    assert ports["docs"] == {str(instance.docs_port)}
    # Every published port binds the loopback address only.
    assert all(port.startswith("127.0.0.1:") for service in services.values() for port in service.get("ports", []))


def test_compose_localstack_serves_every_aws_service_the_template_uses() -> None:
    used = set(
        re.findall(r"^\s+Type: (AWS::[A-Za-z]+::[A-Za-z]+)\s*$", (PROJECT_ROOT / "template.yaml").read_text(), re.M)
    )
    unknown = used - set(_SERVICES)
    assert not unknown, f"say which LocalStack services {unknown} need, here and in docker-compose.yml"
    # Besides the resources: deploys (CloudFormation, S3 for the artifacts, SSM, STS),
    # email (SES) and the outbox sweep's schedule (EventBridge).
    needed = {"cloudformation", "s3", "ssm", "sts", "ses", "events"}.union(*(_SERVICES[kind] for kind in used))
    configured = set(_compose()["services"]["localstack"]["environment"]["SERVICES"].split(","))
    assert needed <= configured, f"add to SERVICES: {sorted(needed - configured)}"


def test_down_leaves_an_existing_emulator_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STORE_EMULATOR_URL", "http://127.0.0.1:4510")
    monkeypatch.setenv("CASSANDRA_HOSTS", "10.0.0.1")
    monkeypatch.setenv("STORE_STATE_DIR", str(tmp_path))
    assert stack.down(dev_instance()) == []


def test_demo_accounts_only_in_the_node_storectl_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """`up` and `deploy` seed the demo accounts (well-known passwords) only when
    the Cassandra node is storectl's own, never in a cluster CASSANDRA_HOSTS names."""
    assert dev_instance().runs_local_cassandra
    monkeypatch.setenv("CASSANDRA_HOSTS", "cassandra.internal.example")
    assert not dev_instance().runs_local_cassandra
    for module in ("stack.py", "cli.py"):
        source = (PROJECT_ROOT / "localstack" / "storectl" / module).read_text()
        assert "seed_accounts(instance, demo=instance.runs_local_cassandra)" in source
        assert "demo=True" not in source


def test_the_stage_has_no_default_so_every_deploy_names_it() -> None:
    template = (PROJECT_ROOT / "template.yaml").read_text()
    stage = re.search(r"\n  Stage:\n((?:    .*\n|\s*#.*\n)+)", template)
    assert stage is not None
    assert "Default:" not in stage.group(1)
    samconfig = (PROJECT_ROOT / "samconfig.toml").read_text()
    assert 'parameter_overrides = "Stage=aws"' in samconfig
    assert 'parameter_overrides = "Stage=local"' in samconfig
