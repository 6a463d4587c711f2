"""`storectl` against a running stack: url and logs."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from typer.testing import CliRunner

from storectl.cli import app
from support import LocalStack, eventually


@pytest.mark.usefixtures("cli_env")
def test_url_prints_only_the_api_base_url(local_stack: LocalStack) -> None:
    result = CliRunner().invoke(app, ["url"])
    assert result.exit_code == 0, result.output
    assert result.output == local_stack.api_url + "\n"


@pytest.mark.usefixtures("cli_env")
def test_logs_show_a_request_that_was_just_made(api: httpx.Client) -> None:
    marker = f"/api/health-probe-{uuid.uuid4().hex}"
    assert api.get(marker).status_code == 404

    def logged() -> str | None:
        result = CliRunner().invoke(app, ["logs", "catalog", "--since", "1m"])
        assert result.exit_code == 0, result.output
        return result.output if marker in result.output else None

    output = eventually(logged, timeout=30, what="the request in the catalog logs")
    assert "START RequestId" in output


@pytest.mark.usefixtures("cli_env")
def test_logs_rejects_an_unknown_function() -> None:
    result = CliRunner().invoke(app, ["logs", "inventory"])
    assert result.exit_code != 0
    assert "unknown function" in result.output


@pytest.mark.usefixtures("cli_env")
def test_executions_show_an_orders_states_with_times(api: httpx.Client, admin_token: str) -> None:
    from support import add_to_cart, bearer, checkout, create_product, new_user  # noqa: PLC0415

    _, token = new_user(api)
    product = create_product(api, admin_token, price="2.13")  # declined: a short execution
    assert add_to_cart(api, token, product["id"]).status_code == 201
    order_id = checkout(api, token).json()["id"]
    eventually(
        lambda: api.get(f"/order-api/orders/{order_id}", headers=bearer(token)).json()["status"] == "CANCELLED",
        timeout=60,
        what="the declined order",
    )

    def shown() -> str | None:
        result = CliRunner().invoke(app, ["executions", order_id])
        assert result.exit_code == 0, result.output
        return result.output if "SUCCEEDED" in result.output else None

    output = eventually(shown, timeout=30, what="the finished execution")
    for state in ("WaitBeforePayment", "AuthorizePayment", "PaymentDecision", "Decline", "Declined"):
        assert state in output
    assert "entered" in output
    assert "exited" in output
    listing = CliRunner().invoke(app, ["executions"])
    assert listing.exit_code == 0, listing.output
    assert order_id in listing.output


@pytest.mark.usefixtures("cli_env")
def test_dlq_lists_a_dead_letter_and_redrives_it_to_its_consumer(local_stack: LocalStack, api: httpx.Client) -> None:
    from store.events import DomainEvent  # noqa: PLC0415
    from support import bearer, new_user  # noqa: PLC0415

    user, token = new_user(api)
    event = DomainEvent(
        type="OrderStatusChanged", order_id=uuid.uuid4(), user_id=uuid.UUID(user["id"]), payload={"status": "SHIPPING"}
    )
    sqs = local_stack.client("sqs")
    sqs.send_message(
        QueueUrl=local_stack.outputs["NotificationsDeadLetterQueueUrl"],
        MessageBody=event.model_dump_json(),
        MessageAttributes=event.sns_attributes(),
    )
    listed = CliRunner().invoke(app, ["dlq"])
    assert listed.exit_code == 0, listed.output
    assert f"order {event.order_id}" in listed.output
    assert "OrderStatusChanged" in listed.output

    redriven = CliRunner().invoke(app, ["dlq", "--redrive"])
    assert redriven.exit_code == 0, redriven.output
    # Every dead letter goes back (other tests' poison messages too).
    assert re.search(r"notifications: [1-9][0-9]* message\(s\) sent back", redriven.output), redriven.output

    def delivered() -> bool:
        items = api.get("/user-api/me/notifications", headers=bearer(token)).json()["items"]
        return any(item["event_id"] == str(event.id) for item in items)

    eventually(delivered, timeout=60, what="the redriven event in the inbox")
    after = CliRunner().invoke(app, ["dlq"])
    assert str(event.order_id) not in after.output


@pytest.mark.usefixtures("cli_env")
def test_a_redrive_resumes_the_lifecycle_from_the_orders_status(
    local_stack: LocalStack, api: httpx.Client, admin_token: str
) -> None:
    """What `storectl redrive` starts, on an order moved to SHIPPING by hand: the
    state machine's Resume choice takes it on from there to DELIVERED."""
    import json  # noqa: PLC0415

    from storectl.recovery import redrive_input, redrive_name  # noqa: PLC0415
    from support import (  # noqa: PLC0415
        add_to_cart,
        bearer,
        checkout,
        create_product,
        hold_lifecycle,
        new_user,
        set_status,
    )

    _, token = new_user(api)
    product = create_product(api, admin_token)
    assert add_to_cart(api, token, product["id"]).status_code == 201
    order_id = checkout(api, token).json()["id"]
    hold_lifecycle(local_stack, api, admin_token, order_id)
    for status in ("PROCESSING", "SHIPPING"):
        assert set_status(api, admin_token, order_id, status).status_code == 200

    refused = CliRunner().invoke(app, ["redrive", order_id])
    assert refused.exit_code != 0
    assert "not failed" in str(refused.exception)  # it was stopped (ABORTED), not failed

    sfn = local_stack.client("stepfunctions")
    machine = local_stack.outputs["OrderLifecycleStateMachineArn"]
    order = uuid.UUID(order_id)
    sfn.start_execution(
        stateMachineArn=machine,
        name=redrive_name(order, [order_id]),
        input=json.dumps(redrive_input(order, "SHIPPING", 0.02)),
    )

    def delivered() -> bool:
        status: str = api.get(f"/order-api/orders/{order_id}", headers=bearer(token)).json()["status"]
        return status == "DELIVERED"

    eventually(delivered, timeout=90, what="the resumed order to be delivered")


@pytest.mark.usefixtures("cli_env")
def test_warm_starts_workers_of_every_function() -> None:
    result = CliRunner().invoke(app, ["warm", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "started workers (catalog 1, cart 1, orders 1, users 1, order_workflow 1" in result.output
