"""The AWS adapters against moto's in-process AWS: the calls they make are
ones AWS accepts, with the attributes the subscriptions filter on."""

from __future__ import annotations

import json
import pstats
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.sns.models import sns_backends

from store import aws, profiling

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account


@pytest.fixture(autouse=True)
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    aws.client.cache_clear()
    with mock_aws():
        yield
    aws.client.cache_clear()


def test_clients_are_made_once_per_service_with_short_timeouts() -> None:
    sns = aws.client("sns")
    assert aws.client("sns") is sns
    assert sns.meta.config.connect_timeout == aws.CONNECT_TIMEOUT_SECONDS
    assert sns.meta.config.read_timeout == aws.READ_TIMEOUT_SECONDS
    assert sns.meta.config.retries["total_max_attempts"] == aws.MAX_ATTEMPTS
    # Every try fits, with its retry, inside the functions' 15 s timeout.
    assert aws.MAX_ATTEMPTS * (aws.CONNECT_TIMEOUT_SECONDS + aws.READ_TIMEOUT_SECONDS) < 15


def test_the_publisher_sends_the_body_with_its_event_type_attribute() -> None:
    sns = boto3.client("sns")
    sqs = boto3.client("sqs")
    topic = sns.create_topic(Name="order-events")["TopicArn"]
    queue = sqs.create_queue(QueueName="starter")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"event_type": ["OrderCreated"]})},
    )
    publisher = aws.SnsEventPublisher(topic)
    publisher.publish("OrderStatusChanged", '{"filtered": "out"}')
    publisher.publish("OrderCreated", '{"id": 1}')
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
    assert [message["Body"] for message in messages] == ['{"id": 1}']
    assert messages[0]["MessageAttributes"]["event_type"]["StringValue"] == "OrderCreated"


def test_publishing_to_a_missing_topic_raises() -> None:
    missing = f"arn:aws:sns:{REGION}:{ACCOUNT}:missing"
    with pytest.raises(Exception, match=r"NotFound|does not exist"):
        aws.SnsEventPublisher(missing).publish("OrderCreated", "{}")


def _state_machine() -> str:
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    definition = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 600, "End": True}}}
    arn: str = boto3.client("stepfunctions").create_state_machine(
        name="OrderLifecycle", definition=json.dumps(definition), roleArn=role
    )["stateMachineArn"]
    return arn


def test_an_order_execution_starts_once_named_by_the_order_and_stops() -> None:
    machine = _state_machine()
    control = aws.StepFunctionsControl(machine)
    order_id = uuid.uuid4()
    assert control.start(order_id, {"order_id": str(order_id)}) is True
    # A redelivered start with the same input while it runs: Step Functions' own idempotency.
    assert control.start(order_id, {"order_id": str(order_id)}) is True
    assert control.start(order_id, {"order_id": "another input"}) is False
    sfn = boto3.client("stepfunctions")
    assert [e["name"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]] == [str(order_id)]
    execution = sfn.describe_execution(executionArn=aws.execution_arn(machine, order_id))
    # The trace context rides in the input (`$.trace`; empty: no span is recording here).
    assert json.loads(execution["input"]) == {"order_id": str(order_id), "trace": {}}
    control.stop(order_id, "order cancelled by user")
    assert sfn.describe_execution(executionArn=aws.execution_arn(machine, order_id))["status"] == "ABORTED"
    assert control.start(order_id, {"order_id": str(order_id)}) is False  # ended: never started again


def test_stopping_an_execution_that_does_not_exist_is_not_an_error() -> None:
    aws.StepFunctionsControl(_state_machine()).stop(uuid.uuid4(), "cancelled before it started")


def test_email_goes_out_from_the_verified_sender() -> None:
    ses = boto3.client("ses")
    ses.verify_email_identity(EmailAddress="store@example.com")
    aws.SesEmail("store@example.com").send("ann@example.com", "Your order", "shipped")
    assert ses.get_send_quota()["SentLast24Hours"] == 1
    with pytest.raises(Exception, match="not verified"):
        aws.SesEmail("nobody@example.com").send("ann@example.com", "Your order", "shipped")


def test_sms_is_published_to_the_phone_number() -> None:
    aws.SnsSms().send("+15550100", "Your order", "shipped")
    sent = sns_backends[ACCOUNT][REGION].sms_messages
    assert [(number, message) for number, message in sent.values()] == [("+15550100", "shipped")]


def test_profiles_go_to_the_bucket_as_pstats_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    boto3.client("s3").create_bucket(Bucket="profiles")
    monkeypatch.setenv("PROFILES_BUCKET", "profiles")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "catalog")

    pool = ThreadPoolExecutor(1)
    pool.submit(int).result()  # a worker thread from before the invocation, as FastAPI's are

    def add_up(n: int) -> int:
        return sum(range(n))

    def handler(event: dict[str, Any], context: Any) -> int:
        # The work happens in another thread, as a FastAPI sync route's does.
        return pool.submit(add_up, event["n"]).result()

    monkeypatch.setenv("STORE_PROFILE_FUNCTIONS", "cart, orders")
    assert profiling.profiled(handler) is handler  # another function's opt-in: no wrapper, no cost

    monkeypatch.setenv("STORE_PROFILE_FUNCTIONS", "cart,catalog")
    wrapped = profiling.profiled(handler)
    context = SimpleNamespace(aws_request_id="req-1")
    assert wrapped({"n": 1000}, context) == sum(range(1000))
    objects = boto3.client("s3").list_objects_v2(Bucket="profiles")["Contents"]
    assert [item["Key"].split("-", 1)[1] for item in objects] == ["req-1.prof"]
    assert objects[0]["Key"].startswith("catalog/")
    path = tmp_path / "one.prof"
    path.write_bytes(boto3.client("s3").get_object(Bucket="profiles", Key=objects[0]["Key"])["Body"].read())
    stats = pstats.Stats(str(path))
    functions = {function for _file, _line, function in stats.stats}  # type: ignore[attr-defined]
    assert {"handler", "add_up"} <= functions
