"""The AWS adapters: the only code that talks to AWS (boto3).

Each adapter implements a port of `store.ports` and gets its client from
`client()`, which makes one client per service and process, with timeouts and
retries that fit inside a 15 s function: at most `max_attempts` tries of
`connect_timeout + read_timeout` each. The endpoint comes from the standard
AWS settings (AWS_ENDPOINT_URL locally), so the same code runs on the emulator,
LocalStack and AWS.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from uuid import UUID

from store.observability import logger
from store.tracing import aws_call, carrier, sns_attributes

CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 4.0
MAX_ATTEMPTS = 2  # in all, the first try included: at most about 12 s


@cache
def client(service: str) -> Any:
    """The process's client of `service` (creating one costs more than a call)."""
    import boto3  # noqa: PLC0415 - slow import, paid only by functions that call AWS
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
    )
    return boto3.client(service, config=config)  # type: ignore[call-overload]


class SnsEventPublisher:
    """Publishes order events to the SNS topic, with the `event_type` attribute
    that the queues' filter policies select on."""

    def __init__(self, topic_arn: str) -> None:
        self._topic_arn = topic_arn

    def publish(self, event_type: str, body: str) -> None:
        with aws_call("SNS", "Publish", messaging_destination_name=self._topic_arn, event_type=event_type):
            client("sns").publish(
                TopicArn=self._topic_arn,
                Message=body,
                # The trace context rides along (SQS gets the attributes with raw delivery).
                MessageAttributes={"event_type": {"DataType": "String", "StringValue": event_type}} | sns_attributes(),
            )


def execution_arn(state_machine_arn: str, order_id: UUID | str) -> str:
    """The execution of an order: its name is the order id."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{order_id}"


class StepFunctionsControl:
    """Starts and stops the order lifecycle executions, named by the order id."""

    def __init__(self, state_machine_arn: str) -> None:
        self._arn = state_machine_arn

    def start(self, order_id: UUID, execution_input: dict[str, Any]) -> bool:
        """Start the order's execution. False when it exists and has ended or had
        another input. A repeat while it runs with the same input is answered by
        Step Functions as a success, naming the same execution: still one (a
        repeat from another trace has another input: False, and still one)."""
        sfn = client("stepfunctions")
        with aws_call("StepFunctions", "StartExecution", order_id=order_id):
            # `$.trace`: each task continues the trace of this call.
            execution_input = execution_input | {"trace": carrier()}
            try:
                sfn.start_execution(stateMachineArn=self._arn, name=str(order_id), input=json.dumps(execution_input))
            except sfn.exceptions.ExecutionAlreadyExists:
                return False
        return True

    def stop(self, order_id: UUID, cause: str) -> None:
        sfn = client("stepfunctions")
        try:
            with aws_call("StepFunctions", "StopExecution", order_id=order_id):
                sfn.stop_execution(executionArn=execution_arn(self._arn, order_id), error="OrderCancelled", cause=cause)
        except sfn.exceptions.ExecutionDoesNotExist:
            logger.info("no execution to stop", extra={"order_id": str(order_id)})


class SesEmail:
    """The email channel: SES, from a verified sender."""

    name = "email"

    def __init__(self, sender: str) -> None:
        self._sender = sender

    def send(self, address: str, subject: str, message: str) -> None:
        with aws_call("SES", "SendEmail"):
            client("ses").send_email(
                Source=self._sender,
                Destination={"ToAddresses": [address]},
                Message={
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": message, "Charset": "UTF-8"}},
                },
            )


class SnsSms:
    """The SMS channel: SNS direct publish to a phone number."""

    name = "sms"

    def send(self, address: str, subject: str, message: str) -> None:
        with aws_call("SNS", "Publish", channel="sms"):
            client("sns").publish(PhoneNumber=address, Message=message)


class S3Objects:
    """Objects of one bucket (the profiles of store.profiling)."""

    def __init__(self, bucket: str) -> None:
        self._bucket = bucket

    def put(self, key: str, body: bytes) -> None:
        with aws_call("S3", "PutObject", bucket=self._bucket):
            client("s3").put_object(Bucket=self._bucket, Key=key, Body=body)
