"""The order lifecycle state machine runs its Lambda task and its Wait state."""

from __future__ import annotations

import json
import uuid
from typing import Any

from support import LocalStack, eventually


def test_execution_runs_the_lambda_task_and_the_wait_and_succeeds(local_stack: LocalStack) -> None:
    sfn = local_stack.client("stepfunctions")
    order_id = str(uuid.uuid4())
    execution_arn = sfn.start_execution(
        stateMachineArn=local_stack.outputs["OrderLifecycleStateMachineArn"],
        name=order_id,
        input=json.dumps({"order_id": order_id, "timings": {"processing_delay_seconds": 1}}),
    )["executionArn"]

    def finished() -> dict[str, Any] | None:
        description: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        return description if description["status"] != "RUNNING" else None

    description = eventually(finished, timeout=60, what="the execution to finish")
    assert description["status"] == "SUCCEEDED", description
    output = json.loads(description["output"])
    assert output["result"]["check"] == {
        "order_id": order_id,
        "cassandra": "up",
        "checked_at": output["result"]["check"]["checked_at"],
    }
    events = sfn.get_execution_history(executionArn=execution_arn)["events"]
    types = [event["type"] for event in events]
    assert "TaskSucceeded" in types or "LambdaFunctionSucceeded" in types
    assert "WaitStateEntered" in types
    assert "WaitStateExited" in types


def test_same_order_id_cannot_start_twice(local_stack: LocalStack) -> None:
    sfn = local_stack.client("stepfunctions")
    order_id = str(uuid.uuid4())
    arguments = {
        "stateMachineArn": local_stack.outputs["OrderLifecycleStateMachineArn"],
        "name": order_id,
        "input": json.dumps({"order_id": order_id, "timings": {"processing_delay_seconds": 0}}),
    }
    first = sfn.start_execution(**arguments)["executionArn"]
    eventually(lambda: sfn.describe_execution(executionArn=first)["status"] != "RUNNING", what="the first run")
    try:
        sfn.start_execution(**arguments)
    except sfn.exceptions.ExecutionAlreadyExists:
        return
    raise AssertionError("a second execution with the same order id was started")
