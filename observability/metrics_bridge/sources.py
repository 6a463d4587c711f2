"""What the bridge polls: CloudWatch Logs, SQS, Step Functions (through boto3,
the same calls locally and on AWS) and the outbox table in Cassandra."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily

from metrics_bridge.cursor import PAGE_LIMIT, LogEvent, Page
from store.outbox import BUCKETS

log = logging.getLogger(__name__)

EXECUTION_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


class CloudWatchLogs:
    """LogSource over boto3's `logs` client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def filter(self, group: str, start: int, *, token: str | None = None, streams: Sequence[str] | None = None) -> Page:
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start, "limit": PAGE_LIMIT}
        if token:
            kwargs["nextToken"] = token
        if streams:
            kwargs["logStreamNames"] = list(streams)
        try:
            page = self._client.filter_log_events(**kwargs)
        except self._client.exceptions.ResourceNotFoundException:
            return Page([])  # the function has not logged yet
        events = [LogEvent(e.get("logStreamName", ""), int(e["timestamp"]), e["message"]) for e in page["events"]]
        return Page(events, page.get("nextToken"))

    def streams_since(self, group: str, start: int) -> list[str]:
        names: list[str] = []
        for page in self._client.get_paginator("describe_log_streams").paginate(logGroupName=group):
            names.extend(s["logStreamName"] for s in page["logStreams"] if s.get("lastEventTimestamp", start) >= start)
        return names


@dataclass
class StackResources:
    log_groups: list[str] = field(default_factory=list)
    queue_urls: list[str] = field(default_factory=list)
    state_machines: list[str] = field(default_factory=list)


def stack_resources(cloudformation: Any, stack_name: str) -> StackResources:
    """The stack's functions, queues and state machines (none before it is deployed)."""
    found = StackResources()
    try:
        pages = list(cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name))
    except cloudformation.exceptions.ClientError:
        return found
    for page in pages:
        for resource in page["StackResourceSummaries"]:
            kind, physical = resource["ResourceType"], resource.get("PhysicalResourceId") or ""
            if kind == "AWS::Lambda::Function":
                found.log_groups.append(f"/aws/lambda/{physical}")
            elif kind == "AWS::SQS::Queue":
                found.queue_urls.append(physical)
            elif kind == "AWS::StepFunctions::StateMachine":
                found.state_machines.append(physical)
    return found


def queue_gauges(sqs: Any, queue_urls: list[str], now: float) -> list[GaugeMetricFamily]:
    visible = GaugeMetricFamily(
        "sqs_messages_visible", "messages waiting in the queue (ApproximateNumberOfMessages)", labels=["queue", "dlq"]
    )
    in_flight = GaugeMetricFamily(
        "sqs_messages_in_flight", "messages received, not yet deleted", labels=["queue", "dlq"]
    )
    age = GaugeMetricFamily(
        "sqs_oldest_message_age_seconds",
        "age of the oldest message seen in a dead-letter queue (0 when empty)",
        labels=["queue", "dlq"],
    )
    attributes = {}
    for url in queue_urls:
        try:
            attributes[url] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        except sqs.exceptions.ClientError:
            continue
    targets = {
        json.loads(a["RedrivePolicy"])["deadLetterTargetArn"] for a in attributes.values() if a.get("RedrivePolicy")
    }
    for url, attrs in attributes.items():
        name = url.rstrip("/").rsplit("/", 1)[-1]
        is_dlq = attrs.get("QueueArn") in targets
        labels = [name, "true" if is_dlq else "false"]
        visible.add_metric(labels, float(attrs.get("ApproximateNumberOfMessages", 0)))
        in_flight.add_metric(labels, float(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)))
        if is_dlq:
            # Peeking is harmless in a DLQ (nothing redrives it further); a
            # source queue is never peeked, as receiving counts towards its
            # maxReceiveCount.
            age.add_metric(labels, _oldest_age(sqs, url, now))
    return [visible, in_flight, age]


def _oldest_age(sqs: Any, url: str, now: float) -> float:
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0, AttributeNames=["SentTimestamp"]
    ).get("Messages", [])
    sent = [
        int(m["Attributes"]["SentTimestamp"]) / 1000 for m in messages if "SentTimestamp" in m.get("Attributes", {})
    ]
    return max(0.0, now - min(sent)) if sent else 0.0


def execution_gauges(sfn: Any, machines: list[str], now: float) -> list[GaugeMetricFamily]:
    by_status = GaugeMetricFamily(
        "stepfunctions_executions", "executions of a state machine by status", labels=["state_machine", "status"]
    )
    oldest = GaugeMetricFamily(
        "stepfunctions_oldest_running_seconds",
        "how long the oldest running execution has run (0 when none runs)",
        labels=["state_machine"],
    )
    for arn in machines:
        name = arn.rsplit(":", 1)[-1]
        # One listing counted by status: five filtered listings cost the emulator five times as much.
        counts = dict.fromkeys(EXECUTION_STATUSES, 0)
        starts = []
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
            for item in page["executions"]:
                counts[item["status"]] = counts.get(item["status"], 0) + 1
                if item["status"] == "RUNNING":
                    starts.append(_epoch(item["startDate"]))
        for status, number in counts.items():
            by_status.add_metric([name, status], float(number))
        oldest.add_metric([name], max(0.0, now - min(starts)) if starts else 0.0)
    return [by_status, oldest]


def _epoch(moment: datetime | float) -> float:
    return moment.timestamp() if isinstance(moment, datetime) else float(moment)


class OutboxProbe:
    """Backlog and age of the oldest unpublished event (`outbox_pending`)."""

    def __init__(self, hosts: list[str], port: int, keyspace: str) -> None:
        self._hosts, self._port, self._keyspace = hosts, port, keyspace
        self._session: Any = None

    def gauges(self, now: float) -> list[GaugeMetricFamily]:
        backlog = GaugeMetricFamily("outbox_pending_events", "order events written but not yet published")
        age = GaugeMetricFamily(
            "outbox_oldest_pending_age_seconds", "age of the oldest unpublished event (0 when none)"
        )
        up = GaugeMetricFamily("outbox_probe_up", "1 when the bridge could read the outbox")
        buckets = ", ".join(str(bucket) for bucket in range(BUCKETS))  # constant ints
        try:
            rows = (
                self._session_or_connect()
                .execute(
                    f"SELECT count(*) AS n, min(created_at) AS oldest FROM outbox_pending WHERE bucket IN ({buckets})",
                    timeout=5,
                )
                .one()
            )
        except Exception as error:  # any driver error means "unknown", not a crash
            log.warning("reading the outbox failed: %s", error)
            self.close()
            up.add_metric([], 0.0)
            return [up]
        backlog.add_metric([], float(rows.n))
        # The driver returns naive UTC datetimes.
        oldest = rows.oldest.replace(tzinfo=UTC).timestamp() if rows.oldest is not None else None
        age.add_metric([], max(0.0, now - oldest) if oldest is not None else 0.0)
        up.add_metric([], 1.0)
        return [backlog, age, up]

    def close(self) -> None:
        if self._session is not None:
            self._session.cluster.shutdown()
            self._session = None

    def _session_or_connect(self) -> Any:
        if self._session is None:
            from cassandra.cluster import Cluster  # noqa: PLC0415 - heavy import, only when polled

            cluster = Cluster(self._hosts, port=self._port, connect_timeout=3)
            self._session = cluster.connect(self._keyspace)
        return self._session
